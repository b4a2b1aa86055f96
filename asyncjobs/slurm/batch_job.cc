// BatchJob: submit, poll until a final state, scancel when cancelled; and BatchError.
#include "asyncjobs/slurm.h"

#include <algorithm>
#include <iostream>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "asyncjobs/fiber_calls.h"
#include "asyncjobs/reactor.h"
#include "asyncjobs/slurm/commands.h"
#include "asyncjobs/slurm/parse.h"

namespace asyncjobs::slurm {
namespace {

// After scancel: how long to wait for Slurm to report the job ended (its processes may get
// up to the cluster's KillWait, 30 s by default, between SIGTERM and SIGKILL), and how often
// to look.
constexpr absl::Duration kScancelWait = absl::Seconds(60);
constexpr absl::Duration kScancelPoll = absl::Milliseconds(250);

std::string final_state_text(const BatchResult& result) {
  std::string text = absl::StrCat("Slurm job ", result.job_id, " ended ", result.state,
                                  " with exit code ", result.exit_code);
  if (result.signal != 0) absl::StrAppend(&text, " and signal ", result.signal);
  return text;
}

bool succeeded(const BatchResult& result) {
  return result.state == "COMPLETED" && result.exit_code == 0 && result.signal == 0;
}

// Polls scontrol every `interval` until the job is in a final state (returned), Slurm no
// longer knows it (nullopt), or `deadline` passes (the last state seen is returned).
std::optional<BatchResult> poll_until_final(const std::string& job_id, absl::Duration interval,
                                            absl::Time deadline) {
  while (true) {
    std::optional<BatchResult> record = internal::scontrol_show_job(job_id);
    if (!record || internal::is_final_state(record->state) || absl::Now() >= deadline) {
      return record;
    }
    sleep_for(interval);
  }
}

// Cancels the Slurm job and waits, shielded from cancellation, until Slurm reports it ended.
// Runs while another exception propagates, so failures only go to stderr.
void scancel_and_wait(const std::string& job_id, absl::Duration poll_interval) {
  CancelShield shield;
  try {
    internal::scancel(job_id);
    const std::optional<BatchResult> last =
        poll_until_final(job_id, std::min(poll_interval, kScancelPoll), absl::Now() + kScancelWait);
    if (last && !internal::is_final_state(last->state)) {
      std::cerr << "asyncjobs: Slurm job " << job_id << " still " << last->state << " "
                << kScancelWait << " after scancel\n";
    }
  } catch (const std::exception& error) {
    std::cerr << "asyncjobs: Slurm job " << job_id << " may still run: " << error.what() << "\n";
  }
}

}  // namespace

BatchError::BatchError(BatchResult result) : BatchError(final_state_text(result), result) {}

BatchError::BatchError(const std::string& what, BatchResult result)
    : ErrorOf(what), result_(std::make_shared<const BatchResult>(std::move(result))) {}

BatchJob::BatchJob(BatchOptions batch, JobOptions options)
    : AbstractJob(std::move(options)), batch_(std::move(batch)) {}

Value BatchJob::co_run() {
  slurm_job_id_.clear();
  {
    CancelShield shield;  // once sbatch has run, the job id must be known to scancel it
    slurm_job_id_ = internal::sbatch(batch_);
  }
  BatchResult result = wait_or_scancel();
  if (!succeeded(result)) throw BatchError(std::move(result));
  return result;
}

BatchResult BatchJob::wait_or_scancel() {
  std::optional<BatchResult> result;
  try {
    result = poll_until_final(slurm_job_id_, batch_.poll_interval, absl::InfiniteFuture());
  } catch (...) {  // cancelled, or scontrol failed: the Slurm job must not outlive this job
    scancel_and_wait(slurm_job_id_, batch_.poll_interval);
    throw;
  }
  if (!result) {
    throw BatchError(absl::StrCat("Slurm job ", slurm_job_id_,
                                  " vanished before a final state (scontrol no longer knows "
                                  "it: is poll_interval longer than the cluster's MinJobAge?)"),
                     {.job_id = slurm_job_id_});
  }
  return *result;
}

std::string BatchJob::details() const {
  std::string text = absl::StrJoin(internal::sbatch_command(batch_), " ");
  if (!slurm_job_id_.empty()) absl::StrAppend(&text, " (Slurm job ", slurm_job_id_, ")");
  return text;
}

std::string BatchJob::format_result() const {
  const auto* result = std::any_cast<BatchResult>(&stored_result());
  if (result == nullptr) return AbstractJob::format_result();
  return absl::StrCat(result->state, " (Slurm job ", result->job_id, ")");
}

std::shared_ptr<BatchJob> make_batch_job(BatchOptions batch, JobOptions options) {
  return std::make_shared<BatchJob>(std::move(batch), std::move(options));
}

}  // namespace asyncjobs::slurm
