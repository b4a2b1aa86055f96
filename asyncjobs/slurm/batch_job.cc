// BatchJob: submit, wait for a final state (scancel when cancelled); and BatchError.
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "asyncjobs/slurm.h"
#include "asyncjobs/slurm/commands.h"
#include "asyncjobs/slurm/steps.h"

namespace asyncjobs::slurm {

BatchError::BatchError(BatchResult result)
    : BatchError(internal::final_state_text(result), result) {}

BatchError::BatchError(const std::string& what, BatchResult result)
    : ErrorOf(what), result_(std::make_shared<const BatchResult>(std::move(result))) {}

BatchJob::BatchJob(BatchOptions batch, JobOptions options)
    : AbstractJob(std::move(options)), batch_(std::move(batch)) {}

Value BatchJob::co_run() {
  submit();
  BatchResult result = wait_for(slurm_job_id_);
  if (!internal::succeeded(result)) throw BatchError(std::move(result));
  return result;
}

void BatchJob::submit() {
  slurm_job_id_.clear();
  slurm_job_id_ = internal::submit(batch_);
}

BatchResult BatchJob::wait_for(const std::string& job_id) {
  std::vector<BatchResult> results;
  internal::wait_for(job_id, 0, batch_.poll_interval, results);
  return std::move(results.front());
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
