// The three pipes between this process and a child (its stdin, stdout, stderr), and writing
// to one without SIGPIPE.
#ifndef ASYNCJOBS_INTERNAL_PROCESS_CHILD_PIPES_H_
#define ASYNCJOBS_INTERNAL_PROCESS_CHILD_PIPES_H_

#include <sys/types.h>

#include <string_view>

#include "asyncjobs/internal/process/fd.h"

namespace asyncjobs::internal {

struct Pipe {
  Fd read, write;
};

// A pipe whose ends close on exec, charged to `lease`; the end this process keeps is
// non-blocking. Without descriptors left, a job waits its turn (fd.h). Throws
// std::system_error when pipe2 or fcntl fails otherwise, or no descriptor can be released.
Pipe make_pipe(bool parent_reads, DescriptorLease& lease);

struct ChildPipes {
  explicit ChildPipes(DescriptorLease& lease)
      : in(make_pipe(false, lease)), out(make_pipe(true, lease)), err(make_pipe(true, lease)) {}
  Pipe in, out, err;

  // Once the child has its copies: our reads see end of file only when no writer is left.
  void close_child_ends() {
    in.read.reset();
    out.write.reset();
    err.write.reset();
  }
};

// Writes without letting SIGPIPE kill this process: the signal is blocked on this thread for
// the call, and one the call raised is consumed. Sets errno like write(2).
ssize_t write_without_sigpipe(int fd, std::string_view data);

}  // namespace asyncjobs::internal

#endif  // ASYNCJOBS_INTERNAL_PROCESS_CHILD_PIPES_H_
