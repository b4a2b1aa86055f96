#ifndef ASYNCJOBS_PROCESS_JOB_H_
#define ASYNCJOBS_PROCESS_JOB_H_

// Commands as jobs: run a program, feed its stdin, capture its stdout and stderr line by line.
//
// `run_process` suspends only the calling job while the child runs (non-blocking pipes and a
// pidfd, waited for with `wait_readable`/`wait_writable`); outside a job it blocks the thread.
// Where pidfd_open is missing (Linux before 5.3, some seccomp filters, Valgrind) or the
// environment sets ASYNCJOBS_NO_PIDFD=1, the child's exit is polled instead (every 1 to
// 20 ms, once its outputs are closed).
// The child runs in its own process group. When `run_process` is left by an exception (a
// callback threw, or `Cancelled` in a job being cancelled), that whole group gets SIGTERM,
// then SIGKILL after `kill_grace`, and the child is reaped: nothing is left behind.

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "asyncjobs/job.h"
#include "asyncjobs/journal.h"

namespace asyncjobs {

struct ProcessOptions {
  std::vector<std::string> argv{};  // argv[0] looked up in the inherited PATH
  std::string working_directory{};  // empty: inherit
  std::vector<std::pair<std::string, std::string>> environment{};  // added to the inherited one
  std::string stdin_data{};  // written to the child's stdin, which is then closed
  // Called with each line as it arrives, without its newline; a last unterminated line too.
  // May suspend; what it throws propagates out of run_process (the child is terminated).
  std::function<void(std::string_view line)> on_stdout{}, on_stderr{};
  absl::Duration kill_grace = absl::Seconds(1);  // on cancel: SIGTERM to the process group,
                                                 // SIGKILL after this
  bool check = true;  // a non-zero exit (or a signal) makes run_process throw ProcessError
};

struct ProcessResult {
  int exit_code;  // -1 when killed by a signal
  int signal;     // the signal that killed it; 0 if none
  std::string out, err;
};

// A ProcessResult in a journal: its four fields through the std::vector<std::string> codec.
template <>
struct ResultCodec<ProcessResult> {
  static std::string encode(const ProcessResult& result);
  static ProcessResult decode(std::string_view text);  // throws std::invalid_argument
};

// Thrown by `run_process` with `check` when the command failed; what() names the command and
// its exit status: "`false` exited with code 1", "`sleep 9` was killed by signal 9 (SIGKILL)".
class ProcessError : public ErrorOf<std::runtime_error> {
 public:
  ProcessError(const std::string& command, ProcessResult result);
  const ProcessResult& result() const { return *result_; }

 private:
  std::shared_ptr<const ProcessResult> result_;  // shared: copying an exception must not throw
};

// Runs `options.argv` to completion: returns once the child has exited and both of its
// outputs are closed. Throws std::system_error when the program cannot be started (missing,
// not executable, bad working directory: the exec error is reported by posix_spawn, never as
// exit code 127), std::invalid_argument for an empty argv, ProcessError as `check` says.
ProcessResult run_process(const ProcessOptions& options);

// A job running one command; its result() is a ProcessResult.
class ProcessJob : public AbstractJob {
 public:
  explicit ProcessJob(ProcessOptions process, JobOptions options = {});
  Value co_run() override;
  std::string details() const override;  // the command line
  const internal::ResultCoder* result_coder() const override {
    return internal::result_coder_for<ProcessResult>();
  }
  const ProcessOptions& process() const { return process_; }

 private:
  ProcessOptions process_;
};

std::shared_ptr<ProcessJob> make_process_job(std::vector<std::string> argv,
                                             JobOptions options = {});

}  // namespace asyncjobs

#endif  // ASYNCJOBS_PROCESS_JOB_H_
