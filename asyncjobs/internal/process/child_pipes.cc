// Making the pipes to a child, and writing to its stdin without SIGPIPE.
#include "asyncjobs/internal/process/child_pipes.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "asyncjobs/internal/base/system_errors.h"

namespace asyncjobs::internal {

Pipe make_pipe(bool parent_reads, DescriptorLease& lease) {
  auto [read, write] = Fd::open_pair([](int fds[2]) { return ::pipe2(fds, O_CLOEXEC); }, "pipe2",
                                     &lease);
  if (!read.is_open()) throw_errno(errno, "pipe2");
  const int parent_end = parent_reads ? read.get() : write.get();
  if (::fcntl(parent_end, F_SETFL, O_NONBLOCK) != 0) throw_errno(errno, "fcntl");
  return Pipe{std::move(read), std::move(write)};
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
