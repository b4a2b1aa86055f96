#ifndef ASYNCJOBS_INTERNAL_INLINE_CALLABLE_H_
#define ASYNCJOBS_INTERNAL_INLINE_CALLABLE_H_

#include <any>
#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

namespace asyncjobs::internal {

// A move-free, type-erased `Value()` callable stored inside its owner when it fits
// (kInlineSize bytes), on the heap otherwise: a job from a small lambda costs no allocation
// beyond the job itself. A body returning void yields an empty std::any.
class InlineCallable {
 public:
  static constexpr size_t kInlineSize = 40;

  template <class F>
  explicit InlineCallable(F&& body) {
    using Body = std::decay_t<F>;
    constexpr bool kInline =
        sizeof(Body) <= kInlineSize && alignof(Body) <= alignof(std::max_align_t);
    if constexpr (kInline) {
      new (storage_) Body(std::forward<F>(body));
    } else {
      *reinterpret_cast<Body**>(storage_) = new Body(std::forward<F>(body));
    }
    manage_ = [](void* storage, Operation operation) -> std::any {
      Body* target = kInline ? static_cast<Body*>(storage) : *static_cast<Body**>(storage);
      if (operation == Operation::kDestroy) {
        if constexpr (kInline) {
          target->~Body();
        } else {
          delete target;
        }
        return {};
      }
      if constexpr (std::is_void_v<std::invoke_result_t<Body&>>) {
        (*target)();
        return {};
      } else {
        return std::any((*target)());
      }
    };
  }
  InlineCallable(const InlineCallable&) = delete;
  InlineCallable& operator=(const InlineCallable&) = delete;
  ~InlineCallable() { manage_(storage_, Operation::kDestroy); }

  std::any operator()() { return manage_(storage_, Operation::kInvoke); }

 private:
  enum class Operation { kInvoke, kDestroy };
  alignas(std::max_align_t) unsigned char storage_[kInlineSize];
  std::any (*manage_)(void*, Operation);
};

}  // namespace asyncjobs::internal

#endif  // ASYNCJOBS_INTERNAL_INLINE_CALLABLE_H_
