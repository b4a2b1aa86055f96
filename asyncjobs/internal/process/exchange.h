// Talking to a running child: feeding its stdin and draining its stdout and stderr, line by
// line, until they close and it has exited.
#ifndef ASYNCJOBS_INTERNAL_PROCESS_EXCHANGE_H_
#define ASYNCJOBS_INTERNAL_PROCESS_EXCHANGE_H_

#include <sys/epoll.h>

#include <cstdint>
#include <string_view>
#include <vector>

#include "asyncjobs/internal/process/child.h"
#include "asyncjobs/internal/process/child_pipes.h"
#include "asyncjobs/internal/process/fd.h"
#include "asyncjobs/internal/process/line_splitter.h"
#include "asyncjobs/process_job.h"

namespace asyncjobs::internal {

// Feeds the child's stdin and drains its stdout and stderr until they close and the child has
// exited, all at once: the pipes and the pidfd sit in a private epoll set, so one
// wait_readable on that set covers them all and the job waits at a single point. Takes this
// process's ends of `pipes`; fills `result.out` and `result.err`, calling `options.on_stdout`
// and `options.on_stderr` (what they throw propagates). Throws std::system_error when a
// system call fails.
class Exchange {
 public:
  // Its epoll set is charged to `lease`; without descriptors left, a job waits its turn.
  Exchange(const ProcessOptions& options, ChildPipes& pipes, Child& child, ProcessResult& result,
           DescriptorLease& lease);
  // Suspends until stdout and stderr are closed and the child has exited.
  void run();

 private:
  enum Source : uint32_t { kStdin, kStdout, kStderr, kExit };
  struct Output {
    Fd fd;
    LineSplitter lines;
  };

  void watch(int fd, uint32_t events, Source source);
  void unwatch(int fd) { ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr); }
  void close_watched(Fd& fd) {
    unwatch(fd.get());
    fd.reset();
  }
  bool outputs_open() const { return outputs_[0].fd.is_open() || outputs_[1].fd.is_open(); }
  void dispatch(Source source);
  void write_input();
  void read_output(Output& output);

  Child& child_;
  std::string_view input_;
  Fd stdin_;
  Output outputs_[2];  // stdout, stderr
  Fd epoll_;
  std::vector<char> buffer_;
  bool exited_ = false;
};

}  // namespace asyncjobs::internal

#endif  // ASYNCJOBS_INTERNAL_PROCESS_EXCHANGE_H_
