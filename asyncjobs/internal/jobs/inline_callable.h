#ifndef ASYNCJOBS_INTERNAL_JOBS_INLINE_CALLABLE_H_
#define ASYNCJOBS_INTERNAL_JOBS_INLINE_CALLABLE_H_

// InlineCallable: a job's body, type-erased, stored inside the job when it is small.

#include <any>
#include <cstddef>
#include <new>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>

#include "asyncjobs/internal/memory/job_pool.h"
#include "asyncjobs/journal.h"

namespace asyncjobs::internal {

template <class T, class = void>
struct Streamable : std::false_type {};
template <class T>
struct Streamable<T, std::void_t<decltype(std::declval<std::ostream&>() << std::declval<const T&>())>>
    : std::true_type {};

// A move-free, type-erased `std::any()` callable stored inside its owner when it fits
// (kInlineSize bytes: three pointers' worth of captures, aligned as a pointer: a job then
// packs into an 8-byte multiple), in the job pool otherwise. A body
// returning void yields an empty std::any. It also knows how to print what it returns:
// format() uses the result type's operator<<, when there is one.
class InlineCallable {
 public:
  static constexpr size_t kInlineSize = 24;

  template <class F>
  explicit InlineCallable(F&& body) {
    using Body = std::decay_t<F>;
    if constexpr (kFits<Body>) {
      new (storage_) Body(std::forward<F>(body));
    } else {
      void* block = pool_allocate(sizeof(Body));
      *reinterpret_cast<Body**>(storage_) = new (block) Body(std::forward<F>(body));
    }
    manage_ = &manage<Body>;
  }
  InlineCallable(const InlineCallable&) = delete;
  InlineCallable& operator=(const InlineCallable&) = delete;
  ~InlineCallable() { manage_(storage_, Operation::kDestroy, nullptr); }

  std::any operator()() { return manage_(storage_, Operation::kInvoke, nullptr); }
  // `result` (a value this callable returned) printed with operator<<, if its type has one.
  std::optional<std::string> format(const std::any& result) const {
    std::any text = manage_(const_cast<unsigned char*>(storage_), Operation::kFormat, &result);
    if (!text.has_value()) return std::nullopt;
    return std::any_cast<std::string&&>(std::move(text));
  }
  // The type of what it returns, and that type's journal codec (journal.h).
  const ResultCoder* coder() const {
    std::any coder = manage_(const_cast<unsigned char*>(storage_), Operation::kCoder, nullptr);
    return std::any_cast<const ResultCoder*>(coder);
  }

 private:
  enum class Operation { kInvoke, kDestroy, kFormat, kCoder };
  template <class Body>
  static constexpr bool kFits =
      sizeof(Body) <= kInlineSize && alignof(Body) <= alignof(void*);

  template <class Body>
  static std::any manage(void* storage, Operation operation, const std::any* result) {
    using Result = std::invoke_result_t<Body&>;
    Body* target;
    if constexpr (kFits<Body>) {
      target = static_cast<Body*>(storage);
    } else {
      target = *static_cast<Body**>(storage);
    }
    if (operation == Operation::kInvoke) {
      if constexpr (std::is_void_v<Result>) {
        (*target)();
        return {};
      } else {
        return std::any((*target)());
      }
    }
    if (operation == Operation::kDestroy) {
      target->~Body();
      if constexpr (!kFits<Body>) pool_free(target, sizeof(Body));
      return {};
    }
    using Plain = std::remove_cvref_t<Result>;
    if (operation == Operation::kCoder) return std::any(result_coder_for<Plain>());
    if constexpr (!std::is_void_v<Result> && Streamable<Plain>::value) {
      std::ostringstream out;
      out << std::any_cast<const Plain&>(*result);
      return std::any(out.str());
    }
    return {};
  }

  alignas(void*) unsigned char storage_[kInlineSize];
  std::any (*manage_)(void*, Operation, const std::any*);
};

}  // namespace asyncjobs::internal

#endif  // ASYNCJOBS_INTERNAL_JOBS_INLINE_CALLABLE_H_
