#ifndef ASYNCJOBS_INTERNAL_REACTOR_REACTOR_H_
#define ASYNCJOBS_INTERNAL_REACTOR_REACTOR_H_

// Task and Reactor: fibers run by a single-threaded event loop. Internal: jobs reach it
// through the fiber calls (fiber_calls.h), Event, Queue and the Scheduler.

#include <atomic>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/time/time.h"
#include "asyncjobs/cancelled.h"
#include "asyncjobs/internal/base/check.h"
#include "asyncjobs/internal/base/intrusive_list.h"
#include "asyncjobs/internal/fiber/fiber.h"
#include "asyncjobs/internal/memory/huge_page_allocator.h"
#include "asyncjobs/internal/reactor/fd_waiters.h"
#include "asyncjobs/internal/reactor/interrupt_handler.h"
#include "asyncjobs/internal/reactor/timer_heap.h"

namespace asyncjobs {

class Reactor;
namespace internal {
class WorkerThreads;
}

// A unit of work the reactor runs on its own fiber (the job layer's runners are Tasks).
// Not owned by the reactor; its owner keeps it alive until it has finished.
class Task : public internal::ListNode<Task> {
 public:
  using Entry = internal::Fiber::Entry;

  Task(Entry entry, void* argument) : fiber_(entry, argument) { fiber_.set_host(this); }

  static Task* current() { return running_; }  // the task running on this thread, or nullptr
  Reactor* reactor() const { return reactor_; }  // where it was spawned

  bool finished() const { return state_ == State::kFinished; }
  bool cancel_requested() const { return cancel_requested_; }
  // From the task itself: forgets a cancellation request that has been dealt with.
  void clear_cancel_request() {
    cancel_requested_ = false;
    cancel_throws_ = 0;
  }
  // Makes a finished task spawnable again (its object is reused for a new run).
  void rearm() {
    fiber_.rearm();
    move_to(State::kIdle);
    cancel_requested_ = false;
    alarm_fired_ = false;
    cancel_throws_ = 0;
  }
  bool abandoned() const { return abandoned_; }  // see Reactor::abandon
  // True once it swallowed a Cancelled and suspended again outside a CancelShield: it
  // refuses to stop (cleanup under a shield is not refusing).
  bool refuses_cancel() const { return cancel_throws_ > 1 && shield_depth_ == 0; }
  // True once an alarm (Reactor::set_alarm) has cancelled this task; cleared by clear_alarm.
  bool alarm_fired() const { return alarm_fired_; }
  // Shown in "stack overflow in job <name>"; must outlive the task.
  void set_name(const std::string* name) {
    fiber_.set_name([](const void* name) { return static_cast<const std::string*>(name); }, name);
  }
  // The same, asked only on an overflow: `name(argument)`.
  void set_name(internal::Fiber::NameOf name, const void* argument) {
    fiber_.set_name(name, argument);
  }
  // Whatever the owner wants to find from Task::current() (the job layer: its job).
  void set_owner(void* owner) { owner_ = owner; }
  void* owner() const { return owner_; }
  // Called, on the loop, instead of running a task whose fiber cannot get a stack (no memory):
  // the task has finished without running. Without one, Reactor::run throws that error.
  using StartFailureHandler = void (*)(void* argument, std::exception_ptr error);
  void set_start_failure_handler(StartFailureHandler handler, void* argument) {
    start_failed_ = handler;
    start_failure_argument_ = argument;
  }
  // Called on the task's fiber each time it is about to block (wait, yield, ...), e.g. to
  // hand the rest of a batch of work to another task. It runs before the wait is set up: if
  // it throws, the wait (or yield) throws that, and nothing of it was registered.
  using SuspendHook = void (*)(void* argument);
  void set_suspend_hook(SuspendHook hook, void* argument) {
    suspend_hook_ = hook;
    hook_argument_ = argument;
  }

 private:
  friend class Reactor;
  friend class CancelShield;
  enum class State : uint8_t { kIdle, kReady, kRunning, kWaiting, kFinished };
  // Every change of state goes through here: debug builds check it is one of the task's
  // life (docs/design.md, "A fiber's life").
  void move_to(State next) {
    ASYNCJOBS_DCHECK(legal_move(state_, next), "a task moved to a state it cannot reach");
    state_ = next;
  }
  static constexpr bool legal_move(State from, State to) {
    switch (from) {
      case State::kIdle: return to == State::kReady;
      case State::kReady: return to == State::kRunning || to == State::kFinished;  // no stack
      case State::kRunning:
        return to == State::kWaiting || to == State::kReady || to == State::kFinished;
      case State::kWaiting: return to == State::kReady;
      case State::kFinished: return to == State::kIdle;  // rearmed for a new run
    }
    return false;
  }

  internal::Fiber fiber_;
  Reactor* reactor_ = nullptr;
  void* owner_ = nullptr;
  SuspendHook suspend_hook_ = nullptr;
  void* hook_argument_ = nullptr;
  StartFailureHandler start_failed_ = nullptr;
  void* start_failure_argument_ = nullptr;
  State state_ = State::kIdle;
  bool cancel_requested_ = false;
  bool cancellable_wait_ = false;
  bool alarm_fired_ = false;
  bool abandoned_ = false;
  uint8_t wake_reason_ = 0;
  uint32_t cancel_throws_ = 0;  // Cancelled thrown since the request: past one, it yields first
  int shield_depth_ = 0;
  uint32_t timer_slot_ = UINT32_MAX;  // its timer while waiting with a deadline
  uint32_t alarm_slot_ = UINT32_MAX;  // its alarm while one is set

  static inline thread_local Task* running_ = nullptr;
};

// The single-threaded cooperative event loop: a FIFO of ready tasks, timers in a 4-ary heap
// with lazy cancellation, epoll for file descriptors (one epoll wait per turn, none while
// nothing waits on an fd or a worker), an eventfd through which the worker threads of
// `call_in_thread` wake the loop. A task that suspends hands the thread straight to the next
// ready task of the round. It knows nothing of jobs. One reactor runs on a thread at a
// time; `run` binds it.
class Reactor {
 public:
  enum class WakeReason : uint8_t { kNotified, kTimedOut, kCancelled };

  Reactor();
  ~Reactor();  // joins the worker threads
  Reactor(const Reactor&) = delete;
  Reactor& operator=(const Reactor&) = delete;

  static Reactor* current() { return running_; }  // the reactor running on this thread, or nullptr

  // Makes `task` ready; it starts (gets its stack) when the loop reaches it. A finished
  // task starts over (as after Task::rearm). Without memory for one more live task it throws
  // std::bad_alloc and nothing changed.
  void spawn(Task* task);
  // Runs until every spawned task has finished. If every task is blocked and nothing
  // (timer, fd, worker thread) can wake them, cancels them all and `stalled()` becomes true.
  void run();
  bool stalled() const { return stalled_; }

  // Requests cancellation: the task's current or next suspension point throws Cancelled,
  // and every later one while it stands (not while the task is unwinding or shielded).
  void cancel(Task* task);
  // The last resort for a task that swallows every Cancelled: the loop forgets it (no timer,
  // fd or wake-up reaches it), so its fiber is never resumed and its stack never freed. Its
  // owner must keep the Task alive for the rest of the process (see BatchRunner::abandon).
  void abandon(Task* task);
  // Cancels `task` as `cancel` does once `deadline` passes (and sets its alarm_fired()),
  // unless `clear_alarm` comes first. One alarm per task; clear_alarm also resets the flag.
  void set_alarm(Task* task, absl::Time deadline);
  void clear_alarm(Task* task);

  // Told, on the loop (outside every task), after `interrupt` was called. See below.
  using InterruptHandler = internal::InterruptHandler;
  void add_interrupt_handler(InterruptHandler* handler) { interrupt_handlers_.push_back(handler); }
  static void remove_interrupt_handler(InterruptHandler* handler) {
    if (handler->linked()) internal::IntrusiveList<InterruptHandler>::remove(handler);
  }
  // Safe from any thread and from a signal handler: makes the loop call every handler soon
  // (at its next turn, or at once if it is waiting for events). A loop whose tasks all wait
  // for nothing that can come (no timer, fd or thread) has stalled: interrupts do not count.
  void interrupt();

  // --- Called from inside a task of this reactor.
  // Suspends the current task until `wake` names it, `deadline` passes or it is cancelled
  // (the latter only if `cancellable`). Throws Cancelled when woken by cancellation.
  WakeReason wait(absl::Time deadline, bool cancellable = true) {
    return wait_until_nanos(to_nanos(deadline), cancellable);
  }
  WakeReason wait_until_nanos(int64_t deadline, bool cancellable = true);
  // Makes a task that is in `wait` ready with kNotified and returns true; false (and no
  // effect) for a task that is not waiting.
  bool wake(Task* task);
  void yield();                                   // runs after every task now ready
  bool wait_fd(int fd, uint32_t events, absl::Time deadline);  // false: timed out
  void call_in_thread(absl::FunctionRef<void()> work);          // not cancellable
  // Throws Cancelled if the current task is being cancelled and may be interrupted now.
  static void check_cancelled() {
    if (Task::running_ != nullptr && Task::running_->cancel_requested_) throw_if_cancellable();
  }

  // The wall clock in nanoseconds since the Unix epoch (clock_gettime: cheaper than
  // absl::Now()), and conversions; infinite times map to INT64_MIN / INT64_MAX.
  static int64_t now_nanos();
  static int64_t to_nanos(absl::Time time);

 private:
  // The loop and its ready queue (reactor.cc).
  void run_ready();
  Task* next_ready();
  Task* next_in_rounds();
  bool give_stack(Task* task);  // false: it could not start (its handler was told)
  void prefetch_batch() const;  // from kPrefetchFrom places ahead
  static constexpr size_t kPrefetchFrom = 4;
  void resume(Task* task);
  static void before_suspend(Task* task) {
    if (task->suspend_hook_ != nullptr) task->suspend_hook_(task->hook_argument_);
  }
  void suspend(Task* task);
  // The running task goes to the end of the ready queue and the thread to the next task.
  void requeue(Task* task);
  int64_t poll_timeout_ns() const;
  void poll(int64_t timeout_ns);
  void make_ready(Task* task, WakeReason reason) {
    if (task->abandoned_) [[unlikely]] return;
    // Woken before its deadline: its timer must not fire.
    if (task->timer_slot_ != internal::TimerHeap::kNoSlot) timers_.cancel(task->timer_slot_);
    task->wake_reason_ = static_cast<uint8_t>(reason);
    task->move_to(Task::State::kReady);
    ready_.push_back(task);  // never grows: spawn() made room for every live task
  }
  Task* current_task_checked() const {
    Task* task = Task::running_;
    if (task == nullptr || task->reactor_ != this) [[unlikely]] throw_not_in_task();
    return task;
  }
  [[noreturn]] static void throw_not_in_task();
  // Cancellation (cancellation.cc).
  [[noreturn]] static void throw_cancelled();
  static void throw_if_cancellable();
  void on_stall();
  // Timers (timers.cc), file descriptors (fd_waits.cc), interrupts (interrupts.cc), worker
  // threads (worker_threads.cc).
  void expire_timers();
  bool arm_fd(int fd, internal::FdWaiters& waiters);  // false: fd cannot be polled (regular file)
  void on_fd_event(int fd, uint32_t events);
  void forget_fd_waits(Task* task);  // for abandon
  void handle_interrupt();
  void drain_completions();

  // The next round, and the round being run. Each Scheduler::run has its reactor, so these
  // grow afresh every run: in huge pages kept from run to run (huge_page_allocator.h). Both
  // have room for every live task, so that a wake-up or a yield never allocates (a wake-up
  // that failed for want of memory would be lost): spawn() grows them.
  internal::HugePageVector<Task*> ready_, running_batch_;
  size_t batch_next_ = 0;  // in running_batch_
  internal::TimerHeap timers_;
  internal::IntrusiveList<Task> live_;
  size_t live_count_ = 0;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;  // an eventfd, written by interrupt() and by worker threads
  size_t fd_waits_ = 0;
  size_t thread_calls_ = 0;
  std::vector<internal::FdWaiters> fd_waiters_;       // indexed by fd
  std::unique_ptr<internal::WorkerThreads> workers_;  // created by the first call_in_thread
  bool stalled_ = false;
  std::atomic<bool> interrupted_{false};
  internal::IntrusiveList<InterruptHandler> interrupt_handlers_;

  static inline thread_local Reactor* running_ = nullptr;
};

}  // namespace asyncjobs

#endif  // ASYNCJOBS_INTERNAL_REACTOR_REACTOR_H_
