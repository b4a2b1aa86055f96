// Waiting on file descriptors: one-shot epoll registrations, re-armed while someone waits.
// Any number of tasks may wait on one fd, each for reading or writing (fd_waiters.h).
#include <sys/epoll.h>

#include <cerrno>
#include <stdexcept>

#include "absl/cleanup/cleanup.h"
#include "asyncjobs/internal/base/system_errors.h"
#include "asyncjobs/internal/reactor/reactor.h"

namespace asyncjobs {

using internal::FdWaiter;
using internal::FdWaiters;

bool Reactor::wait_fd(int fd, uint32_t events, absl::Time deadline) {
  Task* task = current_task_checked();
  check_cancelled();
  if (fd < 0) throw std::invalid_argument("asyncjobs: negative file descriptor");
  if (static_cast<size_t>(fd) >= fd_waiters_.size()) fd_waiters_.resize(fd + 1);
  FdWaiter node{task, events & (EPOLLIN | EPOLLOUT), nullptr, nullptr, false};
  fd_waiters_[fd].push_front(&node);
  const absl::Cleanup unregister = [this, fd, &node] {  // fd_waiters_ may grow: index again
    if (node.linked) fd_waiters_[fd].remove(&node);
  };
  if (!arm_fd(fd, fd_waiters_[fd])) return true;  // a regular file: always ready
  ++fd_waits_;
  const absl::Cleanup count = [this] { --fd_waits_; };
  return wait(deadline) == WakeReason::kNotified;
}

bool Reactor::arm_fd(int fd, FdWaiters& waiters) {
  epoll_event event{};
  event.events = EPOLLONESHOT | waiters.events();
  event.data.fd = fd;
  // One call when our guess holds; the other operation when the fd was closed (and so left
  // the set) or was added before.
  const int first = waiters.registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
  if (epoll_ctl(epoll_fd_, first, fd, &event) != 0) {
    if (errno == EPERM) return false;
    const int fallback = errno == ENOENT ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
    if ((errno != ENOENT && errno != EEXIST) || epoll_ctl(epoll_fd_, fallback, fd, &event) != 0) {
      internal::throw_errno(errno, "epoll_ctl");
    }
  }
  waiters.registered = true;
  return true;
}

// Wakes (and unlinks) every waiter whose condition holds; re-arms for the others.
void Reactor::on_fd_event(int fd, uint32_t events) {
  FdWaiters& waiters = fd_waiters_[fd];
  const uint32_t failed = EPOLLERR | EPOLLHUP;
  for (FdWaiter* waiter = waiters.first; waiter != nullptr;) {
    FdWaiter* next = waiter->next;
    if ((events & (waiter->events | failed)) != 0) {
      waiters.remove(waiter);
      // It may already be ready (cancelled this turn): wake() leaves it alone then.
      wake(waiter->task);
    }
    waiter = next;
  }
  if (waiters.first != nullptr) arm_fd(fd, waiters);
}

// An abandoned task's waits never end: they are counted out.
void Reactor::forget_fd_waits(Task* task) {
  for (FdWaiters& waiters : fd_waiters_) {
    for (FdWaiter* waiter = waiters.first; waiter != nullptr; waiter = waiter->next) {
      if (waiter->task != task) continue;
      waiters.remove(waiter);
      --fd_waits_;
    }
  }
}

}  // namespace asyncjobs
