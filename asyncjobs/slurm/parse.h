#ifndef ASYNCJOBS_SLURM_PARSE_H_
#define ASYNCJOBS_SLURM_PARSE_H_

// Pure parsers of what Slurm's commands print: no process, no I/O.

#include <optional>
#include <string>

#include "asyncjobs/slurm.h"

namespace asyncjobs::slurm::internal {

// The job id that `sbatch --parsable` printed ("12" or "12;cluster"); empty if there is none.
std::string parse_submitted_id(const std::string& out);

// Job id, state, exit code and signal from `scontrol show job -o` output (one line of
// Key=Value pairs: JobId=12 ... JobState=FAILED ... ExitCode=3:0 ...); nullopt when the
// output has no JobState.
std::optional<BatchResult> parse_job_record(const std::string& out);

// True for the states a Slurm job never leaves: COMPLETED, FAILED, CANCELLED, TIMEOUT, ...
// Pending, running, completing (still killing processes) and unknown states are not final.
bool is_final_state(const std::string& state);

}  // namespace asyncjobs::slurm::internal

#endif  // ASYNCJOBS_SLURM_PARSE_H_
