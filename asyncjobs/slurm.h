#ifndef ASYNCJOBS_SLURM_H_
#define ASYNCJOBS_SLURM_H_

// Jobs on a Slurm cluster: a job that is a Slurm batch job, driven through Slurm's own
// commands run as process jobs (`run_process`), so that waiting suspends only this job.
//
// A `BatchJob` submits its script with `sbatch --parsable`, polls `scontrol show job -o <id>`
// every `poll_interval` until the Slurm job reaches a final state, and returns it. When it is
// cancelled (its scheduler timed out, a critical job raised, ...) it `scancel`s its Slurm job
// and waits, at most a minute, until Slurm reports it ended, then lets `Cancelled` propagate:
// a cancelled run leaves no Slurm job behind. The commands are found in PATH and honour SLURM_CONF,
// like Slurm's commands do in a shell. Finished jobs are looked up with scontrol, not sacct (no
// slurmdbd needed): `poll_interval` must stay well below the cluster's MinJobAge.

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "asyncjobs/job.h"

namespace asyncjobs::slurm {

struct BatchOptions {
  std::string script{};                    // the batch script's text (a "#!" first line)
  std::vector<std::string> sbatch_args{};  // e.g. {"--ntasks=4", "--partition=debug"}
  std::string working_directory{};  // where sbatch runs, so the job's directory; empty: current
  absl::Duration poll_interval = absl::Seconds(1);
};

struct BatchResult {
  std::string job_id{};
  std::string state{};  // as Slurm says it: "COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", ...;
                        // empty when the job never reached a state Slurm reported
  int exit_code = 0;    // the batch script's exit code (Slurm's ExitCode=code:signal)
  int signal = 0;       // the signal that ended it; 0 if none
};

// Every failure of a BatchJob: sbatch missing or refusing the job (its stderr in what()),
// scontrol failing, the job id vanishing from Slurm, or a final state other than COMPLETED
// with exit code 0 ("Slurm job 12 ended FAILED with exit code 3").
class BatchError : public ErrorOf<std::runtime_error> {
 public:
  explicit BatchError(BatchResult result);  // what() made from the final state
  BatchError(const std::string& what, BatchResult result);
  const BatchResult& result() const { return *result_; }

 private:
  std::shared_ptr<const BatchResult> result_;  // shared: copying an exception must not throw
};

// Submits, waits for a final state, returns it as a BatchResult; raises BatchError unless
// the Slurm job ended COMPLETED with exit code 0. Each attempt (see JobOptions::retries)
// submits a new Slurm job. Submission is shielded from cancellation, so that the job id
// is always known and the Slurm job can be cancelled.
class BatchJob : public AbstractJob {
 public:
  explicit BatchJob(BatchOptions batch, JobOptions options = {});
  Value co_run() override;
  std::string type_name() const override { return "BatchJob"; }
  std::string details() const override;        // the sbatch command and the Slurm job id
  std::string format_result() const override;  // "COMPLETED (Slurm job 12)"

  const BatchOptions& batch() const { return batch_; }
  const std::string& slurm_job_id() const { return slurm_job_id_; }  // empty until submitted

 private:
  BatchResult wait_or_scancel();

  BatchOptions batch_;
  std::string slurm_job_id_;
};

std::shared_ptr<BatchJob> make_batch_job(BatchOptions batch, JobOptions options = {});

}  // namespace asyncjobs::slurm

#endif  // ASYNCJOBS_SLURM_H_
