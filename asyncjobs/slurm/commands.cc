// sbatch, squeue, scontrol and scancel as child processes, their failures as BatchError.
#include "asyncjobs/slurm/commands.h"

#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "asyncjobs/process_job.h"
#include "asyncjobs/slurm/parse.h"

namespace asyncjobs::slurm::internal {
namespace {

// Why a Slurm command most likely could not start.
std::string start_failure_hint(const std::string& working_directory) {
  std::error_code unused;
  if (!working_directory.empty() && !std::filesystem::is_directory(working_directory, unused)) {
    return "no such working directory";
  }
  return "are Slurm's commands in PATH?";
}

// Runs a Slurm command without `check`: the callers judge its exit code.
ProcessResult run_command(std::vector<std::string> argv, std::string stdin_data = "",
                          std::string working_directory = "") {
  ProcessOptions process{.argv = std::move(argv),
                         .working_directory = std::move(working_directory),
                         .stdin_data = std::move(stdin_data),
                         .check = false};
  try {
    return run_process(process);
  } catch (const std::system_error& error) {
    throw BatchError(
        absl::StrCat(error.what(), " (", start_failure_hint(process.working_directory), ")"), {});
  }
}

std::string stderr_text(const ProcessResult& result) {
  const absl::string_view text = absl::StripAsciiWhitespace(result.err);
  return text.empty() ? "(nothing on stderr)" : std::string(text);
}

bool is_unknown_job(const ProcessResult& result) {
  return absl::StrContains(result.err, "Invalid job id");
}

}  // namespace

std::vector<std::string> sbatch_command(const BatchOptions& batch, int array_size) {
  std::vector<std::string> argv = {"sbatch", "--parsable"};
  argv.insert(argv.end(), batch.sbatch_args.begin(), batch.sbatch_args.end());
  if (array_size > 0) argv.push_back(absl::StrCat("--array=0-", array_size - 1));
  return argv;
}

std::string sbatch(const BatchOptions& batch, int array_size) {
  const ProcessResult result =
      run_command(sbatch_command(batch, array_size), batch.script, batch.working_directory);
  if (result.exit_code != 0) {
    throw BatchError(absl::StrCat("sbatch refused the job (exit code ", result.exit_code,
                                  "): ", stderr_text(result)),
                     {});
  }
  std::string job_id = parse_submitted_id(result.out);
  if (job_id.empty()) {
    throw BatchError(absl::StrCat("sbatch printed no job id: \"", result.out, "\""), {});
  }
  return job_id;
}

std::vector<JobRecord> squeue(const std::vector<std::string>& job_ids) {
  const ProcessResult result = run_command(
      {"squeue", "--noheader", "--array", "--states=all",
       absl::StrCat("--jobs=", absl::StrJoin(job_ids, ",")),
       "--Format=ArrayJobID: ,ArrayTaskID: ,State: ,exit_code: ,Reason: "});
  // With a single id squeue asks for that job alone, and fails if Slurm forgot it.
  if (result.exit_code != 0 && is_unknown_job(result)) return {};
  if (result.exit_code != 0) {
    throw BatchError(absl::StrCat("squeue failed: ", stderr_text(result)), {});
  }
  return parse_squeue(result.out);
}

std::vector<JobRecord> scontrol_show_job(const std::string& job_id) {
  const ProcessResult result = run_command({"scontrol", "show", "job", "-o", job_id});
  if (result.exit_code != 0 && is_unknown_job(result)) return {};
  if (result.exit_code != 0) {
    throw BatchError(absl::StrCat("`scontrol show job ", job_id, "` failed: ", stderr_text(result)),
                     {.job_id = job_id});
  }
  return parse_job_records(result.out);
}

void scontrol_release(const std::vector<std::string>& job_ids) {
  run_command({"scontrol", "release", absl::StrJoin(job_ids, ",")});
}

void scancel(const std::vector<std::string>& job_ids) {
  std::vector<std::string> argv = {"scancel"};
  argv.insert(argv.end(), job_ids.begin(), job_ids.end());
  run_command(std::move(argv));
}

}  // namespace asyncjobs::slurm::internal
