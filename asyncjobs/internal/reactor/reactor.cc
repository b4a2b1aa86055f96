#include "asyncjobs/reactor.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <utility>

#include "absl/time/clock.h"
#include "asyncjobs/cancelled.h"
#include "asyncjobs/internal/base/fault_injection.h"
#include "asyncjobs/internal/reactor/thread_pool.h"

namespace asyncjobs {
namespace {

constexpr int kSkipPoll = -2;
constexpr int kStalled = -3;

[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

constexpr uint32_t kNoSlot = UINT32_MAX;

}  // namespace

int64_t Reactor::now_nanos() {
  timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  return int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec;
}

int64_t Reactor::to_nanos(absl::Time time) {
  if (time == absl::InfiniteFuture()) return INT64_MAX;
  if (time == absl::InfinitePast()) return INT64_MIN;
  return absl::ToUnixNanos(time);
}

CancelShield::CancelShield() : task_(Task::running_) {
  if (task_ != nullptr) ++task_->shield_depth_;
}

CancelShield::~CancelShield() {
  if (task_ != nullptr) --task_->shield_depth_;
}

Reactor::Reactor() {
  epoll_fd_ = internal::should_fail(internal::Fault::kEpollCreate) ? (errno = EMFILE, -1)
                                                                   : epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) throw_errno("asyncjobs: cannot create the reactor's epoll instance");
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
    errno = error;
    throw_errno("asyncjobs: cannot create the reactor's eventfd");
  }
}

Reactor::~Reactor() {
  pool_.reset();
  close(wake_fd_);
  close(epoll_fd_);
}

void Reactor::spawn(Task* task) {
  task->reactor_ = this;
  task->state_ = Task::State::kReady;
  live_.push_back(task);
  ++live_count_;
  ready_.push_back(task);
}

void Reactor::run() {
  if (running_ != nullptr) {
    throw std::logic_error("asyncjobs: a reactor is already running on this thread");
  }
  running_ = this;
  struct Unbind {
    ~Unbind() { running_ = nullptr; }
  } unbind;
  internal::install_overflow_handler_for_this_thread();
  while (live_count_ > 0) {
    run_ready();
    if (live_count_ == 0) break;
    if (stale_timers_ == timers_.size() && !timers_.empty()) {  // none can wake anyone
      timers_.clear();
      stale_timers_ = 0;
    }
    const int timeout = poll_timeout_ms();
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
    task->state_ = Task::State::kFinished;
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
  task->state_ = Task::State::kRunning;
  Task* returned = static_cast<Task*>(task->fiber_.resume()->host());
  Task::running_ = nullptr;
  if (returned->fiber_.finished()) {
    returned->state_ = Task::State::kFinished;
    internal::IntrusiveList<Task>::remove(returned);
    --live_count_;
  }
}

int Reactor::poll_timeout_ms() const {
  const bool outside_events = fd_waits_ > 0 || thread_calls_ > 0;
  if (!ready_.empty()) return outside_events ? 0 : kSkipPoll;
  if (!timers_.empty()) {
    const int64_t wait_ns = timers_.front().deadline - now_nanos();
    if (wait_ns <= 0) return outside_events ? 0 : kSkipPoll;
    return static_cast<int>(std::min<int64_t>((wait_ns + 999'999) / 1'000'000, 60'000));
  }
  return outside_events ? -1 : kStalled;
}

void Reactor::poll(int timeout_ms) {
  epoll_event events[256];
  const int count = epoll_wait(epoll_fd_, events, 256, timeout_ms);
  if (count < 0 && errno != EINTR) throw_errno("epoll_wait");
  for (int i = 0; i < count; ++i) {
    if (events[i].data.fd == wake_fd_) {
      drain_completions();
    } else {
      on_fd_event(events[i].data.fd, events[i].events);
    }
  }
}

void Reactor::on_stall() {
  stalled_ = true;
  size_t woken = 0;
  live_.for_each([&](Task* task) {
    if (task->state_ == Task::State::kWaiting && !task->cancel_requested_) {
      cancel(task);
      if (task->state_ == Task::State::kReady) ++woken;
    }
  });
  if (woken == 0) {
    std::fprintf(stderr,
                 "asyncjobs: deadlock: %zu job(s) wait for something that no job can "
                 "provide, even after cancellation\n",
                 live_count_);
    std::abort();
  }
}

void Reactor::cancel(Task* task) {
  if (task->state_ == Task::State::kFinished || task->cancel_requested_ || task->abandoned_) {
    return;
  }
  task->cancel_requested_ = true;
  if (task->state_ == Task::State::kWaiting && task->cancellable_wait_ &&
      task->shield_depth_ == 0) {
    make_ready(task, WakeReason::kCancelled);
  }
}

// A task that swallowed Cancelled and suspends again gets it again, but only after the other
// ready tasks have run: a job that refuses to stop cannot starve the loop (and the scheduler
// that waits for it can give up on it, see Reactor::abandon).
void Reactor::throw_if_cancellable() {
  Task* task = Task::running_;
  if (task->shield_depth_ != 0 || std::uncaught_exceptions() != 0) return;
  if (task->cancel_throws_++ > 0) {
    task->state_ = Task::State::kReady;
    task->reactor_->ready_.push_back(task);
    task->reactor_->suspend(task);
  }
  throw_cancelled();
}

void Reactor::throw_cancelled() { throw Cancelled(); }

void Reactor::throw_not_in_task() {
  throw std::logic_error("asyncjobs: this call must be made from a job of this reactor");
}

void Reactor::make_ready(Task* task, WakeReason reason) {
  if (task->abandoned_) [[unlikely]] return;
  if (task->timer_slot_ != kNoSlot) {  // woken before its deadline: its heap entry goes stale
    drop_timer(task->timer_slot_);
    note_stale_timer();
  }
  task->wake_reason_ = static_cast<uint8_t>(reason);
  task->state_ = Task::State::kReady;
  ready_.push_back(task);
}

Reactor::WakeReason Reactor::wait_until_nanos(int64_t deadline, bool cancellable) {
  Task* task = current_task_checked();
  check_cancelled();
  if (deadline != INT64_MAX) task->timer_slot_ = add_timer(task, deadline, /*alarm=*/false);
  task->state_ = Task::State::kWaiting;
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
  task->state_ = Task::State::kReady;
  ready_.push_back(task);
  suspend(task);
  check_cancelled();
}

void Reactor::suspend(Task* task) {
  if (task->suspend_hook_ != nullptr) task->suspend_hook_(task->hook_argument_);
  Task* next = next_ready();
  if (next == nullptr) {
    task->fiber_.suspend();
  } else if (next == task) {  // it yielded and nothing else is ready: it goes on
    task->state_ = Task::State::kRunning;
  } else {
    Task::running_ = next;
    next->state_ = Task::State::kRunning;
    task->fiber_.switch_to(next->fiber_);
  }
}

// --- Timers: a min-heap on (deadline, sequence) with lazy cancellation. A heap entry
// names a reactor-owned slot; a wait that ends early frees its slot (bumping its
// generation), so its entry goes stale and is skipped when it reaches the top. Stale entries
// are swept when they outnumber the live ones.

// A 4-ary heap: half the depth of a binary one, and a node's children share cache lines,
// which matters once the heap outgrows the caches (100,000 sleeping jobs).
void Reactor::sift_up(size_t index) {
  const Timer timer = timers_[index];
  while (index > 0) {
    const size_t parent = (index - 1) / 4;
    if (!(timers_[parent] > timer)) break;
    timers_[index] = timers_[parent];
    index = parent;
  }
  timers_[index] = timer;
}

void Reactor::sift_down(size_t index) {
  const Timer timer = timers_[index];
  const size_t size = timers_.size();
  for (;;) {
    const size_t first = 4 * index + 1;
    if (first >= size) break;
    size_t smallest = first;
    for (size_t child = first + 1; child < std::min(first + 4, size); ++child) {
      if (timers_[smallest] > timers_[child]) smallest = child;
    }
    if (!(timer > timers_[smallest])) break;
    timers_[index] = timers_[smallest];
    index = smallest;
  }
  timers_[index] = timer;
}

uint32_t Reactor::add_timer(Task* task, int64_t deadline, bool alarm) {
  uint32_t slot = free_timer_slot_;
  if (slot == kNoSlot) {
    slot = static_cast<uint32_t>(timer_slots_.size());
    timer_slots_.push_back({nullptr, 0, kNoSlot, false});
  } else {
    free_timer_slot_ = timer_slots_[slot].next_free;
  }
  timer_slots_[slot].task = task;
  timer_slots_[slot].alarm = alarm;
  timers_.push_back({deadline, timer_sequence_++, slot, timer_slots_[slot].generation});
  sift_up(timers_.size() - 1);
  return slot;
}

void Reactor::drop_timer(uint32_t& index) {
  TimerSlot& slot = timer_slots_[index];
  ++slot.generation;
  slot.task = nullptr;
  slot.next_free = free_timer_slot_;
  free_timer_slot_ = index;
  index = kNoSlot;
}

void Reactor::note_stale_timer() {
  if (++stale_timers_ > 1024 && stale_timers_ * 2 > timers_.size()) compact_timers();
}

void Reactor::set_alarm(Task* task, absl::Time deadline) {
  clear_alarm(task);
  task->alarm_slot_ = add_timer(task, to_nanos(deadline), /*alarm=*/true);
}

void Reactor::clear_alarm(Task* task) {
  task->alarm_fired_ = false;
  if (task->alarm_slot_ == kNoSlot) return;
  drop_timer(task->alarm_slot_);
  note_stale_timer();
}

// Pops every expired entry first (heap work only), then wakes their tasks, looking a few
// entries ahead: slots and tasks are scattered, so each is fetched before it is needed.
void Reactor::expire_timers() {
  const int64_t now = now_nanos();
  expired_.clear();
  while (!timers_.empty() && timers_.front().deadline <= now) {
    expired_.push_back(timers_.front());
    __builtin_prefetch(&timer_slots_[timers_.front().slot]);
    timers_.front() = timers_.back();
    timers_.pop_back();
    if (!timers_.empty()) sift_down(0);
  }
  constexpr size_t kAhead = 8;
  const size_t count = expired_.size();
  for (size_t i = 0; i < count; ++i) {
    if (i + kAhead < count) {
      const TimerSlot& ahead = timer_slots_[expired_[i + kAhead].slot];
      if (ahead.task != nullptr) __builtin_prefetch(ahead.task, 1);
    }
    const Timer& timer = expired_[i];
    const TimerSlot& slot = timer_slots_[timer.slot];
    if (slot.generation != timer.generation) {
      --stale_timers_;
      continue;
    }
    Task* task = slot.task;
    if (slot.alarm) {
      drop_timer(task->alarm_slot_);
      task->alarm_fired_ = true;
      cancel(task);
      continue;
    }
    drop_timer(task->timer_slot_);
    make_ready(task, WakeReason::kTimedOut);
  }
}

void Reactor::compact_timers() {
  std::erase_if(timers_, [this](const Timer& timer) {
    return timer_slots_[timer.slot].generation != timer.generation;
  });
  for (size_t i = timers_.size(); i-- > 0;) sift_down(i);
  stale_timers_ = 0;
}

// --- File descriptors: one-shot epoll registrations, re-armed while someone waits. Any
// number of tasks may wait on one fd, each for reading or writing: a list of nodes that live
// on the waiting tasks' stacks, so a wait allocates nothing.

struct Reactor::FdWaiter {
  Task* task;
  uint32_t events;  // EPOLLIN or EPOLLOUT
  FdWaiter* previous;
  FdWaiter* next;
  bool linked;
};

bool Reactor::wait_fd(int fd, uint32_t events, absl::Time deadline) {
  Task* task = current_task_checked();
  check_cancelled();
  if (fd < 0) throw std::invalid_argument("asyncjobs: negative file descriptor");
  if (static_cast<size_t>(fd) >= fd_waiters_.size()) fd_waiters_.resize(fd + 1);
  struct Registration {  // fd_waiters_ may grow meanwhile: index it again to unlink
    Reactor* reactor;
    int fd;
    FdWaiter node;
    void link() {
      FdWaiter*& first = reactor->fd_waiters_[fd].first;
      node.next = first;
      if (first != nullptr) first->previous = &node;
      first = &node;
      node.linked = true;
    }
    ~Registration() {
      if (node.linked) unlink(reactor->fd_waiters_[fd], &node);
    }
  } registration{this, fd, {task, events & (EPOLLIN | EPOLLOUT), nullptr, nullptr, false}};
  registration.link();
  if (!arm_fd(fd, fd_waiters_[fd])) return true;  // a regular file: always ready
  ++fd_waits_;
  struct Count {
    size_t& waits;
    ~Count() { --waits; }
  } count{fd_waits_};
  return wait(deadline) == WakeReason::kNotified;
}

bool Reactor::arm_fd(int fd, FdWaiters& waiters) {
  epoll_event event{};
  event.events = EPOLLONESHOT;
  for (const FdWaiter* waiter = waiters.first; waiter != nullptr; waiter = waiter->next) {
    event.events |= waiter->events;
  }
  event.data.fd = fd;
  // One call when our guess holds; the other operation when the fd was closed (and so left
  // the set) or was added before.
  const int first = waiters.registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
  if (epoll_ctl(epoll_fd_, first, fd, &event) != 0) {
    if (errno == EPERM) return false;
    const int fallback = errno == ENOENT ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
    if ((errno != ENOENT && errno != EEXIST) || epoll_ctl(epoll_fd_, fallback, fd, &event) != 0) {
      throw_errno("epoll_ctl");
    }
  }
  waiters.registered = true;
  return true;
}

void Reactor::unlink(FdWaiters& waiters, FdWaiter* waiter) {
  if (waiter->previous != nullptr) {
    waiter->previous->next = waiter->next;
  } else {
    waiters.first = waiter->next;
  }
  if (waiter->next != nullptr) waiter->next->previous = waiter->previous;
  waiter->linked = false;
}

// Wakes (and unlinks) every waiter whose condition holds; re-arms for the others.
void Reactor::on_fd_event(int fd, uint32_t events) {
  FdWaiters& waiters = fd_waiters_[fd];
  const uint32_t failed = EPOLLERR | EPOLLHUP;
  for (FdWaiter* waiter = waiters.first; waiter != nullptr;) {
    FdWaiter* next = waiter->next;
    if ((events & (waiter->events | failed)) != 0) {
      unlink(waiters, waiter);
      // It may already be ready (cancelled this turn): wake() leaves it alone then.
      wake(waiter->task);
    }
    waiter = next;
  }
  if (waiters.first != nullptr) arm_fd(fd, waiters);
}

void Reactor::abandon(Task* task) {
  if (task->state_ == Task::State::kFinished || task->abandoned_) return;
  task->abandoned_ = true;
  for (uint32_t* slot : {&task->timer_slot_, &task->alarm_slot_}) {
    if (*slot == kNoSlot) continue;
    drop_timer(*slot);
    note_stale_timer();
  }
  for (FdWaiters& waiters : fd_waiters_) {  // its waits never end: count them out
    for (FdWaiter* waiter = waiters.first; waiter != nullptr; waiter = waiter->next) {
      if (waiter->task != task) continue;
      unlink(waiters, waiter);
      --fd_waits_;
    }
  }
  internal::IntrusiveList<Task>::remove(task);
  --live_count_;
}

// --- Interrupts from other threads and signal handlers: an atomic flag, and the eventfd
// to end an epoll_wait in progress (write() is async-signal-safe).

void Reactor::interrupt() {
  interrupted_.store(true, std::memory_order_release);
  const uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof one);
}

void Reactor::handle_interrupt() {
  interrupted_.store(false, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_acquire);
  interrupt_handlers_.for_each([](InterruptHandler* handler) { handler->on_interrupt(); });
}

// --- Worker threads.

void Reactor::call_in_thread(absl::FunctionRef<void()> work) {
  Task* task = current_task_checked();
  check_cancelled();
  if (!pool_) {
    pool_ = std::make_unique<internal::ThreadPool>(
        std::max<size_t>(4, std::thread::hardware_concurrency()));
  }
  ++thread_calls_;
  pool_->submit([this, task, work] {
    work();
    {
      std::lock_guard<std::mutex> lock(completions_mutex_);
      completions_.push_back(task);
    }
    const uint64_t one = 1;
    (void)!write(wake_fd_, &one, sizeof one);
  });
  wait(absl::InfiniteFuture(), /*cancellable=*/false);
  check_cancelled();
}

void Reactor::drain_completions() {
  uint64_t count;
  (void)!read(wake_fd_, &count, sizeof count);
  std::vector<Task*> done;
  {
    std::lock_guard<std::mutex> lock(completions_mutex_);
    done.swap(completions_);
  }
  for (Task* task : done) {
    --thread_calls_;
    make_ready(task, WakeReason::kNotified);
  }
}

}  // namespace asyncjobs
