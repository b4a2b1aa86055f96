// Making the pipes to a child, and writing to its stdin without SIGPIPE.
#include "asyncjobs/internal/process/child_pipes.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>

#include "asyncjobs/internal/base/system_errors.h"

namespace asyncjobs::internal {

Pipe make_pipe(bool parent_reads) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw_errno(errno, "pipe2");
  Pipe pipe{Fd(fds[0]), Fd(fds[1])};
  const int parent_end = parent_reads ? fds[0] : fds[1];
  if (::fcntl(parent_end, F_SETFL, O_NONBLOCK) != 0) throw_errno(errno, "fcntl");
  return pipe;
}

ssize_t write_without_sigpipe(int fd, std::string_view data) {
  sigset_t pipe, old_mask, pending;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe, &old_mask);
  sigpending(&pending);
  const bool was_pending = sigismember(&pending, SIGPIPE);
  const ssize_t written = ::write(fd, data.data(), data.size());
  const int error = errno;
  if (written < 0 && error == EPIPE && !was_pending) {
    const timespec no_wait{};
    sigtimedwait(&pipe, nullptr, &no_wait);
  }
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  errno = error;
  return written;
}

}  // namespace asyncjobs::internal
