// The reactor's loop: construction, rounds of ready tasks, the thread handed from task to
// task, and the suspension points built on that (wait, wake, yield).
#include "asyncjobs/internal/reactor/reactor.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <stdexcept>

#include "absl/cleanup/cleanup.h"
#include "asyncjobs/internal/base/fault_injection.h"
#include "asyncjobs/internal/base/sanitizers.h"
#include "asyncjobs/internal/base/system_errors.h"
#include "asyncjobs/internal/reactor/descriptor_admission.h"
#include "asyncjobs/internal/reactor/worker_threads.h"

namespace asyncjobs {
namespace {

constexpr int64_t kSkipPoll = -2;
constexpr int64_t kStalled = -3;
constexpr int64_t kLongestPollNs = int64_t{60} * 1'000'000'000;

// Waits for events at most `timeout_ns` (-1: no limit). epoll_pwait2 takes nanoseconds;
// epoll_wait's milliseconds would wake a 100 us sleep up to 1 ms late. Kernels before 5.11
// answer ENOSYS (older container seccomp profiles EPERM): from then on epoll_wait, with the
// timeout rounded up. ThreadSanitizer (GCC 12) intercepts epoll_wait but not epoll_pwait2,
// so under it epoll_wait only.
int wait_for_events(int epoll_fd, epoll_event* events, int capacity, int64_t timeout_ns) {
  static std::atomic<bool> has_pwait2{!ASYNCJOBS_TSAN};
  if (has_pwait2.load(std::memory_order_relaxed)) {
    const timespec timeout{static_cast<time_t>(timeout_ns / 1'000'000'000),
                           static_cast<long>(timeout_ns % 1'000'000'000)};
    const int count =
        epoll_pwait2(epoll_fd, events, capacity, timeout_ns < 0 ? nullptr : &timeout, nullptr);
    if (count >= 0 || (errno != ENOSYS && errno != EPERM)) return count;
    has_pwait2.store(false, std::memory_order_relaxed);
  }
  const int timeout_ms =
      timeout_ns < 0 ? -1 : static_cast<int>((timeout_ns + 999'999) / 1'000'000);
  return epoll_wait(epoll_fd, events, capacity, timeout_ms);
}

// Made outside any task, so a missing descriptor cannot be waited for: the error says which
// limit and how to raise it.
[[noreturn]] void throw_reactor_fd_error(int error, const char* call, const char* what) {
  if (error == EMFILE || error == ENFILE) {
    throw internal::DescriptorsExhausted(error, call, "a new reactor");
  }
  internal::throw_errno(error, what);
}

}  // namespace

Reactor::Reactor() {
  internal::DescriptorAdmission::raise_limit_once();
  epoll_fd_ = internal::should_fail(internal::Fault::kEpollCreate) ? (errno = EMFILE, -1)
                                                                   : epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) {
    throw_reactor_fd_error(errno, "epoll_create1",
                           "asyncjobs: cannot create the reactor's epoll instance");
  }
  wake_fd_ = internal::should_fail(internal::Fault::kEventFd)
                 ? (errno = EMFILE, -1)
                 : eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.fd = wake_fd_;
  if (wake_fd_ < 0 || epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &event) != 0) {
    const int error = errno;
    if (wake_fd_ >= 0) close(wake_fd_);
    close(epoll_fd_);
    throw_reactor_fd_error(error, "eventfd", "asyncjobs: cannot create the reactor's eventfd");
  }
}

Reactor::~Reactor() {
  workers_.reset();
  close(wake_fd_);
  close(epoll_fd_);
}

void Reactor::spawn(Task* task) {
  // The only step that can fail (std::bad_alloc): room for every live task in both rounds.
  if (std::min(ready_.capacity(), running_batch_.capacity()) <= live_count_) {
    const size_t capacity = std::max<size_t>(64, 2 * live_count_);
    ready_.reserve(capacity);
    running_batch_.reserve(capacity);
  }
  if (task->finished()) task->rearm();
  task->reactor_ = this;
  task->move_to(Task::State::kReady);
  live_.push_back(task);
  ++live_count_;
  ready_.push_back(task);
}

void Reactor::run() {
  if (running_ != nullptr) {
    throw std::logic_error("asyncjobs: a reactor is already running on this thread");
  }
  running_ = this;
  const absl::Cleanup unbind = [] { running_ = nullptr; };
  internal::install_overflow_handler_for_this_thread();
  internal::DescriptorAdmission::start_run();
  while (live_count_ > 0) {
    run_ready();
    if (live_count_ == 0) break;
    timers_.clear_if_all_stale();
    const int64_t timeout = poll_timeout_ns();
    if (timeout == kStalled) {
      on_stall();
      continue;
    }
    if (timeout != kSkipPoll) poll(timeout);
    if (!timers_.empty()) expire_timers();
    if (interrupted_.load(std::memory_order_relaxed)) handle_interrupt();
  }
  internal::StackPool::for_this_thread().trim();
}

// Runs ready tasks in FIFO rounds (a task that yields runs after the others of its round).
// While no timer, fd or worker thread can add work, rounds follow each other without
// leaving this loop.
void Reactor::run_ready() {
  running_batch_.swap(ready_);
  batch_next_ = 0;
  while (Task* task = next_ready()) resume(task);
}

// The task to run next without going back to the loop, or nullptr. Suspending tasks hand
// the thread straight to it (one fiber switch instead of two through the loop).
Task* Reactor::next_ready() {
  for (;;) {
    Task* task = next_in_rounds();
    if (task == nullptr) return nullptr;
    if (!task->abandoned_ && give_stack(task)) [[likely]] return task;
  }
}

// A task's stack is taken when it first runs. When none can be mapped, the task finishes
// there and its handler hears why; without a handler the error leaves Reactor::run, which
// can only be done from the loop itself (not from a suspending task).
bool Reactor::give_stack(Task* task) {
  if (task->fiber_.started()) [[likely]] return true;
  try {
    task->fiber_.prepare();
    return true;
  } catch (...) {
    if (task->start_failed_ == nullptr) {
      if (Task::running_ == nullptr) throw;
      std::fprintf(stderr, "asyncjobs: no stack for a task, and no one to tell\n");
      std::abort();
    }
    task->move_to(Task::State::kFinished);
    internal::IntrusiveList<Task>::remove(task);
    --live_count_;
    task->start_failed_(task->start_failure_argument_, std::current_exception());
    return false;
  }
}

Task* Reactor::next_in_rounds() {
  if (batch_next_ < running_batch_.size()) {
    if (running_batch_.size() - batch_next_ > kPrefetchFrom) prefetch_batch();
    return running_batch_[batch_next_++];
  }
  running_batch_.clear();
  batch_next_ = 0;
  if (ready_.empty() || !timers_.empty() || fd_waits_ > 0 || thread_calls_ > 0 ||
      interrupted_.load(std::memory_order_relaxed)) {
    return nullptr;
  }
  running_batch_.swap(ready_);
  return running_batch_[batch_next_++];
}

// Woken tasks are scattered in memory and their stacks are cold: fetch what the tasks a few
// places later will touch, in three steps, each once the previous one has arrived.
void Reactor::prefetch_batch() const {
  constexpr size_t kFrames = kPrefetchFrom, kRecord = 8, kTask = 12;
  const size_t size = running_batch_.size();
  const size_t next = batch_next_;
  if (next + kTask < size) __builtin_prefetch(running_batch_[next + kTask], 1);
  if (next + kRecord < size) {
    const Task* task = running_batch_[next + kRecord];
    task->fiber_.prefetch_record();
    internal::IntrusiveList<Task>::prefetch_neighbours(task);  // unlinked if it finishes
  }
  if (next + kFrames < size) running_batch_[next + kFrames]->fiber_.prefetch_frames();
}

void Reactor::resume(Task* task) {
  Task::running_ = task;
  task->move_to(Task::State::kRunning);
  Task* returned = static_cast<Task*>(task->fiber_.resume()->host());
  Task::running_ = nullptr;
  if (returned->fiber_.finished()) {
    returned->move_to(Task::State::kFinished);
    internal::IntrusiveList<Task>::remove(returned);
    --live_count_;
  }
}

int64_t Reactor::poll_timeout_ns() const {
  const bool outside_events = fd_waits_ > 0 || thread_calls_ > 0;
  if (!ready_.empty()) return outside_events ? 0 : kSkipPoll;
  if (!timers_.empty()) {
    const int64_t wait_ns = timers_.next_deadline() - now_nanos();
    if (wait_ns <= 0) return outside_events ? 0 : kSkipPoll;
    return std::min(wait_ns, kLongestPollNs);
  }
  return outside_events ? -1 : kStalled;
}

void Reactor::poll(int64_t timeout_ns) {
  epoll_event events[256];
  const int count = wait_for_events(epoll_fd_, events, 256, timeout_ns);
  if (count < 0 && errno != EINTR) {
    internal::throw_errno(errno, "asyncjobs: the reactor cannot wait for events");
  }
  for (int i = 0; i < count; ++i) {
    if (events[i].data.fd == wake_fd_) {
      drain_completions();
    } else {
      on_fd_event(events[i].data.fd, events[i].events);
    }
  }
}

Reactor::WakeReason Reactor::wait_until_nanos(int64_t deadline, bool cancellable) {
  Task* task = current_task_checked();
  check_cancelled();
  before_suspend(task);
  if (deadline != INT64_MAX) task->timer_slot_ = timers_.add(task, deadline, /*alarm=*/false);
  task->move_to(Task::State::kWaiting);
  task->cancellable_wait_ = cancellable;
  suspend(task);
  const auto reason = static_cast<WakeReason>(task->wake_reason_);
  if (reason == WakeReason::kCancelled) check_cancelled();
  return reason;
}

bool Reactor::wake(Task* task) {
  if (task->state_ != Task::State::kWaiting) return false;
  make_ready(task, WakeReason::kNotified);
  return true;
}

void Reactor::yield() {
  Task* task = current_task_checked();
  check_cancelled();
  requeue(task);
  check_cancelled();
}

void Reactor::requeue(Task* task) {
  before_suspend(task);
  task->move_to(Task::State::kReady);
  ready_.push_back(task);
  suspend(task);
}

void Reactor::throw_not_in_task() {
  throw std::logic_error("asyncjobs: this call must be made from a job of this reactor");
}

// The task's wait is set up (before_suspend came first): the thread goes to the next ready
// task, or back to the loop.
void Reactor::suspend(Task* task) {
  Task* next = next_ready();
  if (next == nullptr) {
    task->fiber_.suspend();
  } else if (next == task) {  // it yielded and nothing else is ready: it goes on
    task->move_to(Task::State::kRunning);
  } else {
    Task::running_ = next;
    next->move_to(Task::State::kRunning);
    task->fiber_.switch_to(next->fiber_);
  }
}

}  // namespace asyncjobs
