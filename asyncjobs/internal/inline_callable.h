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
  static constexpr size_t kInlineSize = 48;

  template <class F>
  explicit InlineCallable(F&& body) {
    using Body = std::decay_t<F>;
    if constexpr (sizeof(Body) <= kInlineSize && alignof(Body) <= alignof(std::max_align_t)) {
      target_ = new (storage_) Body(std::forward<F>(body));
      destroy_ = [](void* target) { static_cast<Body*>(target)->~Body(); };
    } else {
      target_ = new Body(std::forward<F>(body));
      destroy_ = [](void* target) { delete static_cast<Body*>(target); };
    }
    invoke_ = [](void* target) -> std::any {
      Body& f = *static_cast<Body*>(target);
      if constexpr (std::is_void_v<std::invoke_result_t<Body&>>) {
        f();
        return {};
      } else {
        return std::any(f());
      }
    };
  }
  InlineCallable(const InlineCallable&) = delete;
  InlineCallable& operator=(const InlineCallable&) = delete;
  ~InlineCallable() { destroy_(target_); }

  std::any operator()() { return invoke_(target_); }

 private:
  alignas(std::max_align_t) unsigned char storage_[kInlineSize];
  void* target_;
  std::any (*invoke_)(void*);
  void (*destroy_)(void*);
};

}  // namespace asyncjobs::internal

#endif  // ASYNCJOBS_INTERNAL_INLINE_CALLABLE_H_
