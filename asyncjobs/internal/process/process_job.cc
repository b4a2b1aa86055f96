// run_process and ProcessJob: a child spawned, talked to and reaped, its exit status turned
// into a ProcessResult or a ProcessError.
#include "asyncjobs/process_job.h"

#include <string.h>  // sigabbrev_np
#include <sys/wait.h>

#include <stdexcept>
#include <utility>

#include "absl/strings/str_cat.h"
#include "asyncjobs/internal/process/child.h"
#include "asyncjobs/internal/process/child_pipes.h"
#include "asyncjobs/internal/process/exchange.h"
#include "asyncjobs/internal/process/spawn.h"

namespace asyncjobs {
namespace {

void set_exit_status(int wait_status, ProcessResult& result) {
  if (WIFSIGNALED(wait_status)) {
    result.exit_code = -1;
    result.signal = WTERMSIG(wait_status);
  } else {
    result.exit_code = WEXITSTATUS(wait_status);
    result.signal = 0;
  }
}

std::string describe_failure(const std::string& command, const ProcessResult& result) {
  if (result.signal == 0) {
    return absl::StrCat("`", command, "` exited with code ", result.exit_code);
  }
  const char* name = sigabbrev_np(result.signal);
  return absl::StrCat("`", command, "` was killed by signal ", result.signal,
                      name == nullptr ? "" : absl::StrCat(" (SIG", name, ")"));
}

}  // namespace

ProcessError::ProcessError(const std::string& command, ProcessResult result)
    : ErrorOf(describe_failure(command, result)),
      result_(std::make_shared<const ProcessResult>(std::move(result))) {}

ProcessResult run_process(const ProcessOptions& options) {
  if (options.argv.empty()) throw std::invalid_argument("asyncjobs: run_process needs a command");
  // Every descriptor of the child's run, charged to one lease: out of descriptors, this job
  // waits for another to release some (internal/reactor/descriptor_admission.h).
  internal::DescriptorLease lease;
  internal::ChildPipes pipes(lease);
  const pid_t pid = internal::spawn(options, pipes);
  pipes.close_child_ends();  // before the pidfd: three descriptors fewer at the peak
  internal::Child child(pid, options.kill_grace, lease);
  ProcessResult result{};
  internal::Exchange(options, pipes, child, result, lease).run();
  child.reap();
  set_exit_status(child.wait_status(), result);
  if (options.check && (result.exit_code != 0 || result.signal != 0)) {
    throw ProcessError(internal::command_line(options.argv), std::move(result));
  }
  return result;
}

ProcessJob::ProcessJob(ProcessOptions process, JobOptions options)
    : AbstractJob(std::move(options)), process_(std::move(process)) {}

Value ProcessJob::co_run() { return run_process(process_); }

std::string ResultCodec<ProcessResult>::encode(const ProcessResult& result) {
  return ResultCodec<std::vector<std::string>>::encode(
      {std::to_string(result.exit_code), std::to_string(result.signal), result.out, result.err});
}

ProcessResult ResultCodec<ProcessResult>::decode(std::string_view text) {
  std::vector<std::string> fields = ResultCodec<std::vector<std::string>>::decode(text);
  if (fields.size() != 4) throw std::invalid_argument("not a ProcessResult");
  return ProcessResult{ResultCodec<int>::decode(fields[0]), ResultCodec<int>::decode(fields[1]),
                       std::move(fields[2]), std::move(fields[3])};
}

std::string ProcessJob::details() const { return internal::command_line(process_.argv); }

std::shared_ptr<ProcessJob> make_process_job(std::vector<std::string> argv, JobOptions options) {
  ProcessOptions process;
  process.argv = std::move(argv);
  return std::make_shared<ProcessJob>(std::move(process), std::move(options));
}

}  // namespace asyncjobs
