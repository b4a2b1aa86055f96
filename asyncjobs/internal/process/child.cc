// A child process from start to reaping: its pidfd or exit polling, its wait status, and
// the SIGTERM-then-SIGKILL of its process group when it is abandoned.
#include "asyncjobs/internal/process/child.h"

#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include "absl/time/clock.h"
#include "asyncjobs/fiber_calls.h"
#include "asyncjobs/internal/base/system_errors.h"
#include "asyncjobs/internal/reactor/reactor.h"

namespace asyncjobs::internal {
namespace {

// Glibc 2.36's <sys/pidfd.h> lacks extern "C", so C++ cannot link its pidfd_open.
// Returns -1 with errno ENOSYS when exits must be polled instead.
int pidfd_open(pid_t pid) {
  const char* disabled = std::getenv("ASYNCJOBS_NO_PIDFD");
  if (disabled != nullptr && disabled[0] != '\0' && disabled[0] != '0') {
    errno = ENOSYS;
    return -1;
  }
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
}

}  // namespace

Child::Child(pid_t pid, absl::Duration kill_grace, DescriptorLease& lease)
    : pid_(pid), kill_grace_(kill_grace) {
  int error;
  try {
    pidfd_ = Fd::open([pid] { return pidfd_open(pid); }, "pidfd_open", &lease);
    if (pidfd_.is_open()) return;
    error = errno;
    if (error == ENOSYS || error == EPERM) return;  // no pidfd here: exits are polled
  } catch (...) {  // none left and none to come, or cancelled while waiting for one
    kill_and_reap();
    throw;
  }
  kill_and_reap();
  throw_errno(error, "pidfd_open");
}

void Child::kill_and_reap() {
  ::kill(-pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
}

bool Child::has_exited() const {
  siginfo_t info{};
  return ::waitid(P_PID, pid_, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid_;
}

bool Child::wait_exit(absl::Duration timeout) {
  if (pidfd_.is_open()) return wait_readable(pidfd_.get(), timeout);
  const absl::Time deadline = absl::Now() + timeout;  // infinite stays infinite
  absl::Duration step = absl::Milliseconds(1);
  while (!has_exited()) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return false;
    sleep_for(std::min(step, left));
    step = std::min(2 * step, kLongestExitPoll);
  }
  return true;
}

Child::~Child() {
  if (reaped_) return;
  try {
    terminate();
  } catch (...) {  // a wait failed: block the thread rather than leave the child behind
    kill_and_reap();
  }
}

void Child::reap() {
  while (::waitpid(pid_, &status_, 0) < 0) {
    if (errno != EINTR) throw_errno(errno, "waitpid");
  }
  reaped_ = true;
}

void Child::terminate() {
  CancelShield shield;
  ::kill(-pid_, SIGTERM);
  wait_exit(kill_grace_);
  ::kill(-pid_, SIGKILL);
  wait_exit(absl::InfiniteDuration());
  reap();
}

}  // namespace asyncjobs::internal
