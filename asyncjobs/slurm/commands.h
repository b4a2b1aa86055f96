#ifndef ASYNCJOBS_SLURM_COMMANDS_H_
#define ASYNCJOBS_SLURM_COMMANDS_H_

// Slurm's client commands (sbatch, squeue, scontrol, scancel) run with `run_process`: in a
// job they suspend only that job. They are looked up in PATH and read SLURM_CONF from the
// inherited environment. Every failure is a BatchError whose what() carries the stderr.

#include <string>
#include <vector>

#include "asyncjobs/slurm.h"
#include "asyncjobs/slurm/parse.h"

namespace asyncjobs::slurm::internal {

// `sbatch --parsable <sbatch_args>`, plus `--array=0-(array_size-1)` for an array: the
// script comes on its stdin.
std::vector<std::string> sbatch_command(const BatchOptions& batch, int array_size = 0);

// Submits the script from `batch.working_directory`; returns the new job (or array) id.
// Throws BatchError when sbatch cannot run, refuses the job or prints no job id.
std::string sbatch(const BatchOptions& batch, int array_size = 0);

// Every job and array element among `job_ids` that Slurm still knows, in one `squeue` call
// (one job-information RPC), finished ones included. Ids Slurm forgot are simply absent.
// Throws BatchError when squeue fails otherwise.
std::vector<JobRecord> squeue(const std::vector<std::string>& job_ids);

// The job's records per `scontrol show job -o <id>` (one per array element); empty once
// Slurm no longer knows the id. Throws BatchError when scontrol fails otherwise.
std::vector<JobRecord> scontrol_show_job(const std::string& job_id);

// Releases held jobs (arrays: every held element) in one call, so that Slurm launches them
// again. Its refusal is not an error (a job may not be held any more). Throws BatchError
// only when scontrol cannot run.
void scontrol_release(const std::vector<std::string>& job_ids);

// Asks Slurm to cancel the jobs (an array id: the whole array), in one scancel call. Its
// refusal is not an error (a job may have just ended): the jobs' states tell. Throws
// BatchError only when scancel cannot run.
void scancel(const std::vector<std::string>& job_ids);

}  // namespace asyncjobs::slurm::internal

#endif  // ASYNCJOBS_SLURM_COMMANDS_H_
