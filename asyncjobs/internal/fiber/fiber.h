#ifndef ASYNCJOBS_INTERNAL_FIBER_FIBER_H_
#define ASYNCJOBS_INTERNAL_FIBER_FIBER_H_

#include <string>

#include "asyncjobs/internal/fiber/stack.h"

namespace asyncjobs::internal {

// One stackful execution context on a Boost.Context fcontext. The thread that resumes a
// fiber runs it until the fiber suspends or its entry returns; then control comes back to
// the resumer. A running fiber may also hand the thread straight over to another fiber
// (`switch_to`, one jump instead of two through the resumer); that one then suspends back to
// the same resumer. These calls are the only places that switch stacks: they carry the
// sanitizer annotations and swap the per-fiber C++ exception state.
//
// The stack is taken from the thread's StackPool at the first resume and given back when
// the entry returns; the switching state lives at the top of that stack, so a fiber that
// has not started (or has finished) costs only this small object. Not copyable, not
// movable: wakers and timers hold its address. The owner keeps it alive until it has
// finished (or was never started).
class Fiber {
 public:
  using Entry = void (*)(void* argument);

  Fiber(Entry entry, void* argument) : entry_(entry), argument_(argument) {}
  Fiber(const Fiber&) = delete;
  Fiber& operator=(const Fiber&) = delete;
  ~Fiber();

  // From outside this fiber: runs it until a fiber suspends or finishes, and returns that
  // fiber (this one, or one it handed over to).
  Fiber* resume();
  // From inside this fiber: goes back to whoever resumed it.
  void suspend();
  // From inside this fiber: suspends it and runs `next` (started or not) on this thread.
  void switch_to(Fiber& next);

  static Fiber* current();  // the fiber running on this thread, or nullptr

  // Cache hints for a suspended fiber about to be resumed, issued a few fibers ahead so
  // that its cold stack is in cache when it runs: first its record, then (once the record
  // has arrived) the frames it will return through.
  void prefetch_record() const {
    if (record_ != nullptr) __builtin_prefetch(record_, 1);
  }
  void prefetch_frames() const;

  bool started() const { return record_ != nullptr || finished_; }
  // Gives a fiber that has not started its stack now (resume() would do it). Throws
  // std::runtime_error when no stack can be mapped; the fiber is unchanged then.
  void prepare() {
    if (record_ == nullptr) [[unlikely]] allocate_record();
  }
  bool finished() const { return finished_; }
  // Makes a finished fiber startable again, with the same entry.
  void rearm() { finished_ = false; }

  // Shown in "stack overflow in job <name>": `name(argument)`, asked only then (from the
  // signal handler: it must only read memory). What it returns must outlive the fiber's run.
  using NameOf = const std::string* (*)(const void* argument);
  void set_name(NameOf name, const void* argument) {
    name_of_ = name;
    name_argument_ = argument;
  }
  // Whatever embeds this fiber, to find it again from `resume()`'s result.
  void set_host(void* host) { host_ = host; }
  void* host() const { return host_; }

 private:
  struct Record;             // switching state, at the top of the fiber's stack
  friend struct FiberEntry;  // the fcontext entry function, in fiber.cc
  friend RunningStack running_stack();
  void allocate_record();
  static void enter(Fiber& next, void* saved_exceptions);
  void land(const void* transfer);  // after a jump into this fiber
  void switch_out(bool finishing);

  Entry entry_;
  void* argument_;
  Record* record_ = nullptr;
  NameOf name_of_ = nullptr;
  const void* name_argument_ = nullptr;
  void* host_ = nullptr;
  bool finished_ = false;
};

}  // namespace asyncjobs::internal

#endif  // ASYNCJOBS_INTERNAL_FIBER_FIBER_H_
