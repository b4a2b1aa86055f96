#include "asyncjobs/reactor.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <system_error>
#include <thread>

#include "absl/time/clock.h"
#include "asyncjobs/cancelled.h"
#include "asyncjobs/internal/thread_pool.h"

namespace asyncjobs {
namespace {

thread_local Reactor* current_reactor = nullptr;
thread_local Task* current_task = nullptr;

constexpr int kSkipPoll = -2;
constexpr int kStalled = -3;

[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

int64_t to_nanos(absl::Time time) {
  if (time == absl::InfiniteFuture()) return INT64_MAX;
  if (time == absl::InfinitePast()) return INT64_MIN;
  return absl::ToUnixNanos(time);
}

}  // namespace

Task* Task::current() { return current_task; }

CancelShield::CancelShield() : task_(current_task) {
  if (task_ != nullptr) ++task_->shield_depth_;
}

CancelShield::~CancelShield() {
  if (task_ != nullptr) --task_->shield_depth_;
}

Reactor::Reactor() : now_(absl::Now()) {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) throw_errno("epoll_create1");
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) throw_errno("eventfd");
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.fd = wake_fd_;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &event) != 0) throw_errno("epoll_ctl");
}

Reactor::~Reactor() {
  pool_.reset();
  close(wake_fd_);
  close(epoll_fd_);
}

Reactor* Reactor::current() { return current_reactor; }

void Reactor::spawn(Task* task) {
  task->reactor_ = this;
  task->state_ = Task::State::kReady;
  live_.push_back(task);
  ++live_count_;
  ready_.push_back(task);
}

void Reactor::run() {
  if (current_reactor != nullptr) {
    throw std::logic_error("asyncjobs: a reactor is already running on this thread");
  }
  current_reactor = this;
  struct Unbind {
    ~Unbind() { current_reactor = nullptr; }
  } unbind;
  internal::install_overflow_handler_for_this_thread();
  now_ = absl::Now();
  while (live_count_ > 0) {
    run_ready();
    if (live_count_ == 0) break;
    const int timeout = poll_timeout_ms();
    if (timeout == kStalled) {
      on_stall();
      continue;
    }
    if (timeout != kSkipPoll) poll(timeout);
    now_ = absl::Now();
    expire_timers();
  }
  internal::StackPool::for_this_thread().trim();
}

void Reactor::run_ready() {
  running_batch_.swap(ready_);
  for (Task* task : running_batch_) resume(task);
  running_batch_.clear();
}

void Reactor::resume(Task* task) {
  current_task = task;
  task->state_ = Task::State::kRunning;
  task->fiber_.resume();
  current_task = nullptr;
  if (task->fiber_.finished()) {
    task->state_ = Task::State::kFinished;
    internal::IntrusiveList<Task>::remove(task);
    --live_count_;
  }
}

int Reactor::poll_timeout_ms() const {
  const bool outside_events = fd_waits_ > 0 || thread_calls_ > 0;
  if (!ready_.empty()) return outside_events ? 0 : kSkipPoll;
  if (!timers_.empty()) {
    const int64_t wait_ns = timers_.front().deadline - to_nanos(absl::Now());
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
  if (task->state_ == Task::State::kFinished || task->cancel_requested_) return;
  task->cancel_requested_ = true;
  if (task->state_ == Task::State::kWaiting && task->cancellable_wait_ &&
      task->shield_depth_ == 0) {
    make_ready(task, WakeReason::kCancelled);
  }
}

void Reactor::check_cancelled() {
  Task* task = current_task;
  if (task != nullptr && task->cancel_requested_ && task->shield_depth_ == 0 &&
      std::uncaught_exceptions() == 0) {
    throw Cancelled();
  }
}

Task* Reactor::current_task_checked() const {
  Task* task = current_task;
  if (task == nullptr || task->reactor_ != this) {
    throw std::logic_error("asyncjobs: this call must be made from a job of this reactor");
  }
  return task;
}

void Reactor::make_ready(Task* task, WakeReason reason) {
  remove_timer(task);
  task->wake_reason_ = static_cast<uint8_t>(reason);
  task->state_ = Task::State::kReady;
  ready_.push_back(task);
}

Reactor::WakeReason Reactor::wait(absl::Time deadline, bool cancellable) {
  Task* task = current_task_checked();
  check_cancelled();
  if (deadline != absl::InfiniteFuture()) add_timer(task, deadline);
  task->state_ = Task::State::kWaiting;
  task->cancellable_wait_ = cancellable;
  task->fiber_.suspend();
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
  task->fiber_.suspend();
  check_cancelled();
}

// --- Timers: a binary min-heap on (deadline, sequence); each task knows its index, so a
// wait that ends early removes its timer at once and no entry outlives its task.

void Reactor::add_timer(Task* task, absl::Time deadline) {
  timers_.push_back({to_nanos(deadline), timer_sequence_++, task});
  task->timer_index_ = timers_.size() - 1;
  sift_up(timers_.size() - 1);
}

void Reactor::remove_timer(Task* task) {
  const size_t index = task->timer_index_;
  if (index == SIZE_MAX) return;
  task->timer_index_ = SIZE_MAX;
  const size_t last = timers_.size() - 1;
  if (index != last) {
    timers_[index] = timers_[last];
    timers_[index].task->timer_index_ = index;
  }
  timers_.pop_back();
  if (index < timers_.size()) {
    sift_up(index);
    sift_down(timers_[index].task->timer_index_);
  }
}

namespace {
bool earlier(const int64_t a_deadline, uint64_t a_sequence, int64_t b_deadline,
             uint64_t b_sequence) {
  return a_deadline < b_deadline || (a_deadline == b_deadline && a_sequence < b_sequence);
}
}  // namespace

void Reactor::place_timer(size_t index) { timers_[index].task->timer_index_ = index; }

void Reactor::sift_up(size_t index) {
  while (index > 0) {
    const size_t parent = (index - 1) / 2;
    const Timer& child = timers_[index];
    if (!earlier(child.deadline, child.sequence, timers_[parent].deadline,
                 timers_[parent].sequence)) {
      break;
    }
    std::swap(timers_[index], timers_[parent]);
    place_timer(index);
    place_timer(parent);
    index = parent;
  }
}

void Reactor::sift_down(size_t index) {
  for (;;) {
    size_t smallest = index;
    for (size_t child = 2 * index + 1; child <= 2 * index + 2 && child < timers_.size(); ++child) {
      if (earlier(timers_[child].deadline, timers_[child].sequence, timers_[smallest].deadline,
                  timers_[smallest].sequence)) {
        smallest = child;
      }
    }
    if (smallest == index) return;
    std::swap(timers_[index], timers_[smallest]);
    place_timer(index);
    place_timer(smallest);
    index = smallest;
  }
}

void Reactor::expire_timers() {
  const int64_t now = to_nanos(now_);
  while (!timers_.empty() && timers_.front().deadline <= now) {
    make_ready(timers_.front().task, WakeReason::kTimedOut);
  }
}

// --- File descriptors: one-shot epoll registrations, re-armed while someone waits.

bool Reactor::wait_fd(int fd, uint32_t events, absl::Time deadline) {
  Task* task = current_task_checked();
  check_cancelled();
  if (fd < 0) throw std::invalid_argument("asyncjobs: negative file descriptor");
  if (static_cast<size_t>(fd) >= fd_waiters_.size()) fd_waiters_.resize(fd + 1);
  const bool reading = (events & EPOLLIN) != 0;
  Task*& slot = reading ? fd_waiters_[fd].reader : fd_waiters_[fd].writer;
  if (slot != nullptr) {
    throw std::logic_error("asyncjobs: two jobs wait for the same file descriptor");
  }
  slot = task;
  if (!arm_fd(fd, fd_waiters_[fd])) {  // a regular file: always ready
    slot = nullptr;
    return true;
  }
  ++fd_waits_;
  struct Unregister {  // fd_waiters_ may have grown meanwhile: index it again
    Reactor* reactor;
    int fd;
    bool reading;
    ~Unregister() {
      FdWaiters& waiters = reactor->fd_waiters_[fd];
      (reading ? waiters.reader : waiters.writer) = nullptr;
      --reactor->fd_waits_;
    }
  } unregister{this, fd, reading};
  return wait(deadline) == WakeReason::kNotified;
}

bool Reactor::arm_fd(int fd, FdWaiters& waiters) {
  epoll_event event{};
  event.events = EPOLLONESHOT;
  if (waiters.reader != nullptr) event.events |= EPOLLIN;
  if (waiters.writer != nullptr) event.events |= EPOLLOUT;
  event.data.fd = fd;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &event) == 0) return true;
  if (errno == ENOENT && epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) == 0) return true;
  if (errno == EPERM) return false;
  throw_errno("epoll_ctl");
}

void Reactor::on_fd_event(int fd, uint32_t events) {
  FdWaiters& waiters = fd_waiters_[fd];
  const uint32_t failed = EPOLLERR | EPOLLHUP;
  if (waiters.reader != nullptr && (events & (EPOLLIN | failed))) {
    make_ready(waiters.reader, WakeReason::kNotified);
    waiters.reader = nullptr;
  }
  if (waiters.writer != nullptr && (events & (EPOLLOUT | failed))) {
    make_ready(waiters.writer, WakeReason::kNotified);
    waiters.writer = nullptr;
  }
  if (waiters.reader != nullptr || waiters.writer != nullptr) arm_fd(fd, waiters);
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
