#ifndef ASYNCJOBS_SLURM_COMMANDS_H_
#define ASYNCJOBS_SLURM_COMMANDS_H_

// Slurm's client commands (sbatch, scontrol, scancel) run with `run_process`: in a job they
// suspend only that job. They are looked up in PATH and read SLURM_CONF from the inherited
// environment. Every failure is a BatchError whose what() carries the command's stderr.

#include <optional>
#include <string>
#include <vector>

#include "asyncjobs/slurm.h"

namespace asyncjobs::slurm::internal {

// `sbatch --parsable <sbatch_args>`: the script comes on its stdin.
std::vector<std::string> sbatch_command(const BatchOptions& batch);

// Submits the script from `batch.working_directory`; returns the new job id. Throws
// BatchError when sbatch cannot run, refuses the job or prints no job id.
std::string sbatch(const BatchOptions& batch);

// The job's state per `scontrol show job -o <id>`; nullopt once Slurm no longer knows the
// id. Throws BatchError when scontrol fails otherwise or prints no state.
std::optional<BatchResult> scontrol_show_job(const std::string& job_id);

// Asks Slurm to cancel the job. Its refusal is not an error (the job may have just ended):
// the job's state tells. Throws BatchError only when scancel cannot run.
void scancel(const std::string& job_id);

}  // namespace asyncjobs::slurm::internal

#endif  // ASYNCJOBS_SLURM_COMMANDS_H_
