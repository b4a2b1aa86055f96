// The fiber calls: sleeps, yield and fd waits suspend only the job inside one and block the
// thread outside.
#include "asyncjobs/fiber_calls.h"

#include <poll.h>
#include <sys/epoll.h>

#include <cerrno>
#include <system_error>
#include <thread>

#include "absl/time/clock.h"
#include "asyncjobs/internal/reactor/reactor.h"
#include "asyncjobs/internal/sync/deadline.h"

namespace asyncjobs {

bool in_job() { return Task::current() != nullptr; }

void internal::call_in_thread(absl::FunctionRef<void()> work) {
  Reactor::current()->call_in_thread(work);
}

namespace {

bool poll_thread(int fd, short events, absl::Duration timeout) {
  const absl::Time deadline = internal::deadline_after(timeout);
  for (;;) {
    int timeout_ms = -1;
    if (deadline != absl::InfiniteFuture()) {
      timeout_ms = static_cast<int>(absl::ToInt64Milliseconds(
          absl::Ceil(std::max(deadline - absl::Now(), absl::ZeroDuration()), absl::Milliseconds(1))));
    }
    pollfd entry{fd, events, 0};
    const int ready = ::poll(&entry, 1, timeout_ms);
    if (ready > 0) return true;
    if (ready == 0) return false;
    if (errno != EINTR) throw std::system_error(errno, std::generic_category(), "poll");
  }
}

bool wait_fd(int fd, uint32_t epoll_events, short poll_events, absl::Duration timeout) {
  if (!in_job()) return poll_thread(fd, poll_events, timeout);
  return Reactor::current()->wait_fd(fd, epoll_events, internal::deadline_after(timeout));
}

}  // namespace

namespace {

void sleep_until_nanos(int64_t deadline) {
  Reactor* reactor = Reactor::current();
  while (reactor->wait_until_nanos(deadline) != Reactor::WakeReason::kTimedOut) {
    // Woken by cancellation while unwinding (no throw then): a sleep has nothing to finish.
    if (Task::current()->cancel_requested()) return;
  }
}

}  // namespace

void sleep_until(absl::Time deadline) {
  if (!in_job()) {
    absl::SleepFor(deadline - absl::Now());
    return;
  }
  sleep_until_nanos(Reactor::to_nanos(deadline));
}

void sleep_for(absl::Duration duration) {
  if (!in_job()) {
    absl::SleepFor(duration);
    return;
  }
  if (duration == absl::InfiniteDuration()) return sleep_until_nanos(INT64_MAX);
  sleep_until_nanos(Reactor::now_nanos() + absl::ToInt64Nanoseconds(duration));
}

void yield() {
  if (!in_job()) {
    std::this_thread::yield();
    return;
  }
  Reactor::current()->yield();
}

bool wait_readable(int fd, absl::Duration timeout) {
  return wait_fd(fd, EPOLLIN, POLLIN, timeout);
}

bool wait_writable(int fd, absl::Duration timeout) {
  return wait_fd(fd, EPOLLOUT, POLLOUT, timeout);
}

}  // namespace asyncjobs
