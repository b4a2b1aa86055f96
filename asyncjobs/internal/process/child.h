// A started child process owned until it is reaped: watching for its exit (a pidfd, or
// polling), collecting its status, and terminating its process group when abandoned.
#ifndef ASYNCJOBS_INTERNAL_PROCESS_CHILD_H_
#define ASYNCJOBS_INTERNAL_PROCESS_CHILD_H_

#include <sys/types.h>

#include "absl/time/time.h"
#include "asyncjobs/internal/process/fd.h"

namespace asyncjobs::internal {

// Without a pidfd, the longest pause between two looks at whether the child has exited.
inline constexpr absl::Duration kLongestExitPoll = absl::Milliseconds(20);

// A started child. Destroyed before `reap()`, i.e. while run_process unwinds, it terminates
// the child's process group: SIGTERM, up to `kill_grace` for the child to exit, SIGKILL to
// whatever is left of the group, then it reaps the child. Its waits suspend the job; a
// CancelShield keeps another cancellation from cutting them short. Its destructor never throws.
class Child {
 public:
  // The pidfd is charged to `lease`. Throws std::system_error when pidfd_open fails
  // otherwise than for lack of support (after killing and reaping the child); without
  // descriptors left, a job waits its turn (fd.h).
  Child(pid_t pid, absl::Duration kill_grace, DescriptorLease& lease);
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  // Readable once the child has exited; -1 when exits are polled instead (no pidfd_open:
  // Linux before 5.3, a seccomp filter, Valgrind, or ASYNCJOBS_NO_PIDFD set).
  int pidfd() const { return pidfd_.get(); }
  bool has_exited() const;  // the child stays a zombie until reap()
  // Suspends until the child has exited or `timeout` passed; false on timeout.
  bool wait_exit(absl::Duration timeout);
  // Collects the exit status of a child known to have exited. Until then, the zombie keeps
  // the group's id from being reused, so signalling the group cannot hit a stranger.
  void reap();
  int wait_status() const { return status_; }

 private:
  void terminate();
  void kill_and_reap();  // blocks the thread: only for a child not yet watched

  pid_t pid_;
  absl::Duration kill_grace_;
  Fd pidfd_;
  bool reaped_ = false;
  int status_ = 0;
};

}  // namespace asyncjobs::internal

#endif  // ASYNCJOBS_INTERNAL_PROCESS_CHILD_H_
