#ifndef ASYNCJOBS_INTERNAL_FIBER_H_
#define ASYNCJOBS_INTERNAL_FIBER_H_

#include <cstdint>
#include <string>

#include "asyncjobs/internal/stack.h"

namespace asyncjobs::internal {

// One stackful execution context on a Boost.Context fcontext. The thread that resumes a
// fiber runs it until the fiber suspends or its entry returns; then control comes back to
// the resumer (asymmetric). `resume` and `suspend` are the only places that switch stacks:
// they carry the sanitizer annotations and swap the per-fiber C++ exception state.
//
// The stack is taken from the thread's StackPool at the first resume and given back when
// the entry returns, so a fiber that has not started costs only this object. Not copyable,
// not movable: wakers and timers hold its address. The owner keeps it alive until it is
// finished (or was never started).
class Fiber {
 public:
  using Entry = void (*)(void* argument);

  Fiber(Entry entry, void* argument) : entry_(entry), argument_(argument) {}
  Fiber(const Fiber&) = delete;
  Fiber& operator=(const Fiber&) = delete;
  ~Fiber();

  // From outside any fiber of this thread: runs this fiber until it suspends or finishes.
  void resume();
  // From inside this fiber: goes back to whoever resumed it.
  void suspend();

  static Fiber* current();  // the fiber running on this thread, or nullptr

  bool started() const { return stack_ || finished_; }
  bool finished() const { return finished_; }

  // Shown in "stack overflow in job <name>"; must outlive the fiber's run.
  void set_name(const std::string* name) { name_ = name; }

 private:
  friend struct FiberEntry;  // the fcontext entry function, in fiber.cc
  void start(void* resumer);
  void switch_out(bool finishing);

  struct ExceptionState {  // abi::__cxa_eh_globals, kept per fiber (FIBERS.md trap 3)
    void* caught = nullptr;
    unsigned int uncaught = 0;
  };

  Entry entry_;
  void* argument_;
  void* context_ = nullptr;      // fcontext_t of this fiber while it is suspended
  void* resumer_ = nullptr;      // fcontext_t of the resumer while this fiber runs
  Stack stack_;
  bool finished_ = false;
  const std::string* name_ = nullptr;
  ExceptionState exceptions_;
  ExceptionState resumer_exceptions_;
  Fiber* resumer_fiber_ = nullptr;
  const void* resumer_stack_bottom_ = nullptr;  // sanitizer bookkeeping
  size_t resumer_stack_size_ = 0;
  void* fake_stack_ = nullptr;
  void* tsan_fiber_ = nullptr;
  void* resumer_tsan_fiber_ = nullptr;
  RunningStack resumer_running_;
};

}  // namespace asyncjobs::internal

#endif  // ASYNCJOBS_INTERNAL_FIBER_H_
