#ifndef ASYNCJOBS_SLURM_STEPS_H_
#define ASYNCJOBS_SLURM_STEPS_H_

// The two steps of a batch job's run, apart so that a job can re-attach to a Slurm job it
// submitted before (wait_for an id it kept) without submitting again.

#include <string>
#include <vector>

#include "asyncjobs/slurm.h"

namespace asyncjobs::slurm::internal {

// Submits the script (an array of `array_size` elements if > 0) with sbatch, holding one
// of the reactor's submission slots (see submit_slot.h); returns the Slurm job id. Waiting
// for a slot can be cancelled; sbatch itself is shielded, so that an id Slurm gave is known.
std::string submit(const BatchOptions& batch, int array_size = 0);

// Suspends the job until Slurm job `job_id` (an array of `array_size` elements if > 0)
// reached a final state, then returns: `results` holds one BatchResult per element (one for
// a plain job), updated at every poll meanwhile. Throws BatchError when the job vanished or
// the status query kept failing. When cancelled, scancels the job and waits (shielded, at
// most a minute) until Slurm reports it ended, then lets Cancelled propagate.
void wait_for(const std::string& job_id, int array_size, absl::Duration poll_interval,
              std::vector<BatchResult>& results);

// "Slurm job 12 ended FAILED with exit code 3[ and signal 9]".
std::string final_state_text(const BatchResult& result);
// COMPLETED with exit code 0 and no signal.
bool succeeded(const BatchResult& result);

}  // namespace asyncjobs::slurm::internal

#endif  // ASYNCJOBS_SLURM_STEPS_H_
