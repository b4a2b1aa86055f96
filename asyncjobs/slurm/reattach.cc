// Re-attaching batch jobs to their Slurm jobs through the run's journal.
#include "asyncjobs/slurm/reattach.h"

#include <iostream>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "asyncjobs/internal/jobs/job_output.h"
#include "asyncjobs/internal/reactor/reactor.h"
#include "asyncjobs/internal/scheduler/scheduler_journal.h"
#include "asyncjobs/slurm/commands.h"
#include "asyncjobs/slurm/steps.h"

namespace asyncjobs::slurm::internal {
namespace {

constexpr absl::string_view kTokenPrefix = "slurm:";

// The Slurm job id the journal keeps for `job`, or "".
std::string kept_job_id(const AbstractJob& job) {
  std::optional<std::string> token = asyncjobs::internal::journal_pending(job);
  if (!token || !absl::StartsWith(*token, kTokenPrefix)) return "";
  return token->substr(kTokenPrefix.size());
}

// Without it the job works, but a next run would not re-attach: worth a warning, not a failure.
void keep_job_id(const AbstractJob& job, const std::string& job_id) {
  try {
    asyncjobs::internal::record_pending(job, absl::StrCat(kTokenPrefix, job_id));
  } catch (const std::exception& error) {
    asyncjobs::internal::print_line(
        std::cerr, absl::StrCat("asyncjobs: job `", job.label(), "`: Slurm job ", job_id,
                                " not kept in the journal: ", error.what()));
  }
}

}  // namespace

std::string submit_or_reattach(const AbstractJob& job, const BatchOptions& batch,
                               int array_size) {
  std::string job_id = kept_job_id(job);
  if (!job_id.empty()) {
    const std::string name = slurm_job_name(job_id, array_size);
    // Cancelled once the id is known to Slurm, the job must go on to wait_for, which
    // scancels it: a cancelled run leaves no Slurm job behind.
    CancelShield shield;
    if (slurm_knows(job_id)) {
      asyncjobs::internal::report_output(name + " re-attached");
      return job_id;
    }
    asyncjobs::internal::report_output(name + " (an earlier run's) is no longer known to Slurm");
  }
  job_id = submit(batch, array_size);
  keep_job_id(job, job_id);
  asyncjobs::internal::report_output(slurm_job_name(job_id, array_size) + " submitted");
  return job_id;
}

void forget_slurm_job(const AbstractJob& job) noexcept {
  try {
    if (!kept_job_id(job).empty()) asyncjobs::internal::record_pending(job, "");
  } catch (const std::exception& error) {
    asyncjobs::internal::print_line(
        std::cerr, absl::StrCat("asyncjobs: job `", job.label(), "`: ", error.what()));
  }
}

}  // namespace asyncjobs::slurm::internal
