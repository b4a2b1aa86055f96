#ifndef ASYNCJOBS_INTERNAL_FIBER_SWITCH_ANNOTATIONS_H_
#define ASYNCJOBS_INTERNAL_FIBER_SWITCH_ANNOTATIONS_H_

// What the sanitizers must be told at each fiber switch (docs/fibers.md, trap 5). Without a
// sanitizer the types are empty and every call compiles to nothing.

#include <cstddef>

#include "asyncjobs/internal/base/sanitizers.h"
#include "asyncjobs/internal/fiber/stack.h"

#if ASYNCJOBS_ASAN
#include <sanitizer/common_interface_defs.h>
#endif
#if ASYNCJOBS_TSAN
#include <sanitizer/tsan_interface.h>
#endif

namespace asyncjobs::internal {

// ASan hears before each jump which stack comes next and where to keep the fake frames of the
// stack being left (nowhere if its fiber is finishing), and after it which stack was left.
// TSan hears which fiber runs.

// A fiber's side, kept in its record: its TSan fiber, its fake frames while it is switched
// out, and its resumer's stack and TSan fiber, passed on when it hands the thread over.
class FiberAnnotations {
 public:
  void create();
  void destroy();
  // Before this fiber hands the thread to `next`, on `next_stack`, with the same resumer.
  void start_switch_to(FiberAnnotations& next, const Stack& next_stack);
  // Before this fiber jumps back to its resumer, for good if `finishing`.
  void start_switch_to_resumer(bool finishing);
  // Just after a jump into this fiber: from its resumer, or `handed_over` by another fiber.
  void finish_switch(bool handed_over);

 private:
  friend class ResumerAnnotations;
#if ASYNCJOBS_ASAN
  void* fake_stack_ = nullptr;
  const void* resumer_stack_bottom_ = nullptr;
  size_t resumer_stack_size_ = 0;
#endif
#if ASYNCJOBS_TSAN
  void* tsan_fiber_ = nullptr;
  void* resumer_tsan_fiber_ = nullptr;
#endif
};

// The resumer's side of one `Fiber::resume`, on the resumer's stack: its fake frames while
// the fiber runs.
class ResumerAnnotations {
 public:
  // Before the resumer jumps into `fiber`, on `stack`.
  void start_switch(FiberAnnotations& fiber, const Stack& stack);
  // Once the thread is back on the resumer's stack.
  void finish_switch();

 private:
#if ASYNCJOBS_ASAN
  void* fake_stack_ = nullptr;
#endif
};

inline void FiberAnnotations::create() {
#if ASYNCJOBS_TSAN
  tsan_fiber_ = __tsan_create_fiber(0);
#endif
}

inline void FiberAnnotations::destroy() {
#if ASYNCJOBS_TSAN
  __tsan_destroy_fiber(tsan_fiber_);
#endif
}

inline void FiberAnnotations::start_switch_to(FiberAnnotations& next, const Stack& next_stack) {
#if ASYNCJOBS_ASAN
  next.resumer_stack_bottom_ = resumer_stack_bottom_;
  next.resumer_stack_size_ = resumer_stack_size_;
  __sanitizer_start_switch_fiber(&fake_stack_, next_stack.limit, next_stack.size);
#endif
#if ASYNCJOBS_TSAN
  next.resumer_tsan_fiber_ = resumer_tsan_fiber_;
  __tsan_switch_to_fiber(next.tsan_fiber_, 0);
#endif
}

inline void FiberAnnotations::start_switch_to_resumer(bool finishing) {
#if ASYNCJOBS_ASAN
  __sanitizer_start_switch_fiber(finishing ? nullptr : &fake_stack_, resumer_stack_bottom_,
                                 resumer_stack_size_);
#endif
#if ASYNCJOBS_TSAN
  __tsan_switch_to_fiber(resumer_tsan_fiber_, 0);
#endif
}

inline void FiberAnnotations::finish_switch(bool handed_over) {
#if ASYNCJOBS_ASAN
  if (handed_over) {  // the resumer is the one the other fiber had
    __sanitizer_finish_switch_fiber(fake_stack_, nullptr, nullptr);
  } else {
    __sanitizer_finish_switch_fiber(fake_stack_, &resumer_stack_bottom_, &resumer_stack_size_);
  }
#endif
}

inline void ResumerAnnotations::start_switch(FiberAnnotations& fiber, const Stack& stack) {
#if ASYNCJOBS_ASAN
  __sanitizer_start_switch_fiber(&fake_stack_, stack.limit, stack.size);
#endif
#if ASYNCJOBS_TSAN
  fiber.resumer_tsan_fiber_ = __tsan_get_current_fiber();
  __tsan_switch_to_fiber(fiber.tsan_fiber_, 0);
#endif
}

inline void ResumerAnnotations::finish_switch() {
#if ASYNCJOBS_ASAN
  __sanitizer_finish_switch_fiber(fake_stack_, nullptr, nullptr);
#endif
}

}  // namespace asyncjobs::internal

#endif  // ASYNCJOBS_INTERNAL_FIBER_SWITCH_ANNOTATIONS_H_
