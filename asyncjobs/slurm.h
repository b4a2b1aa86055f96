#ifndef ASYNCJOBS_SLURM_H_
#define ASYNCJOBS_SLURM_H_

// Jobs on a Slurm cluster: a job that is a Slurm batch job (or a Slurm job array), driven
// through Slurm's own commands run as process jobs (`run_process`), so that waiting suspends
// only this job.
//
// A `BatchJob` submits its script with `sbatch --parsable` and waits until the Slurm job
// reaches a final state. The batch jobs of one reactor do not poll one by one: they share
// one status poller per cluster (per SLURM_CONF value), which asks about every job still
// waited for with one `squeue` per poll interval, and wakes each job when its state is
// final; a job Slurm held after failed launches (an overloaded node) is released, at most
// 3 times. At most 8 sbatch run at once per reactor (first come, first served). When batch
// jobs are cancelled (their scheduler timed out, a critical job raised, ...) the poller
// `scancel`s the jobs cancelled together in one call, and each job waits, at most a minute,
// until Slurm reports its job ended, then lets `Cancelled` propagate: a cancelled run leaves
// no Slurm job behind. The commands are found in PATH and honour SLURM_CONF, like Slurm's
// commands do in a shell. Finished jobs are read from slurmctld's memory (no slurmdbd
// needed): `poll_interval` must stay well below the cluster's MinJobAge.

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
// squeue failing three times in a row, the job id vanishing from Slurm, a job Slurm could
// not launch (held again after 3 releases; it is scancelled), or a final state
// other than COMPLETED with exit code 0 ("Slurm job 12 ended FAILED with exit code 3").
// For a BatchArrayJob, result() is the first failed element's.
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
  void submit();
  BatchResult wait_for(const std::string& job_id);

  BatchOptions batch_;
  std::string slurm_job_id_;
};

std::shared_ptr<BatchJob> make_batch_job(BatchOptions batch, JobOptions options = {});

// `count` copies of one script as one Slurm job array (`sbatch --array=0-(count-1)`; each
// copy reads SLURM_ARRAY_TASK_ID): one job in the graph, one submission, one entry in the
// status poller. Returns a std::vector<BatchResult>, one per element in index order (job
// ids "12_0", "12_1", ...); raises BatchError naming the failed elements when any element
// did not end COMPLETED with exit code 0. Cancelled: scancels the whole array first.
class BatchArrayJob : public AbstractJob {
 public:
  BatchArrayJob(BatchOptions batch, int count, JobOptions options = {});  // count >= 1
  Value co_run() override;
  std::string type_name() const override { return "BatchArrayJob"; }
  // The sbatch command, the array id and how many elements are in each state (as of the
  // last poll): "sbatch --parsable --array=0-999 (Slurm array job 12: 990 COMPLETED, ...)".
  std::string details() const override;
  std::string format_result() const override;  // "1000 COMPLETED (Slurm array job 12)"

  const BatchOptions& batch() const { return batch_; }
  int count() const { return count_; }
  const std::string& slurm_job_id() const { return slurm_job_id_; }  // empty until submitted

 private:
  void submit();
  void wait_for(const std::string& job_id);

  BatchOptions batch_;
  int count_;
  std::string slurm_job_id_;
  std::vector<BatchResult> elements_;  // as of the last poll
};

std::shared_ptr<BatchArrayJob> make_batch_array_job(BatchOptions batch, int count,
                                                    JobOptions options = {});

}  // namespace asyncjobs::slurm

#endif  // ASYNCJOBS_SLURM_H_
