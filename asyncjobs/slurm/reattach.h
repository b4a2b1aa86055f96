#ifndef ASYNCJOBS_SLURM_REATTACH_H_
#define ASYNCJOBS_SLURM_REATTACH_H_

// Where a batch job's run begins: re-attached to the Slurm job an earlier run of it submitted
// and did not see end (kept in the run's journal), or a new submission. The job's pending
// token in the journal is "slurm:<id>" from the moment sbatch answers until the job is
// recorded, and "" (nothing to re-attach to) once its Slurm job ended without success or was
// cancelled: a job that raised runs again, as any job does.

#include <string>

#include "asyncjobs/job.h"
#include "asyncjobs/slurm.h"

namespace asyncjobs::slurm::internal {

// Returns the Slurm job id to wait for: the one the journal keeps for `job`, if Slurm still
// knows it (pending, running, or ended within MinJobAge); else a new submission of `batch`
// (an array of `array_size` elements if > 0), whose id is in the journal on return. Reports
// "Slurm job 12 submitted" or "... re-attached" as the job's output line. Throws as submit().
std::string submit_or_reattach(const AbstractJob& job, const BatchOptions& batch,
                               int array_size = 0);

// Clears the Slurm job id the journal keeps for `job`: the next run submits anew. Never
// throws (it runs while exceptions propagate); if the journal cannot be written, the next
// run re-attaches to the ended Slurm job and sees its outcome again.
void forget_slurm_job(const AbstractJob& job) noexcept;

}  // namespace asyncjobs::slurm::internal

#endif  // ASYNCJOBS_SLURM_REATTACH_H_
