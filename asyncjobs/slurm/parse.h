#ifndef ASYNCJOBS_SLURM_PARSE_H_
#define ASYNCJOBS_SLURM_PARSE_H_

// Pure parsers of what Slurm's commands print: no process, no I/O.

#include <optional>
#include <string>
#include <vector>

#include "asyncjobs/slurm.h"

namespace asyncjobs::slurm::internal {

// One job as a status query reports it: a plain job, or one element of an array.
struct JobRecord {
  std::string job_id;     // the plain job's id, or the array's id
  int array_index = -1;   // the element's SLURM_ARRAY_TASK_ID; -1 for a plain job
  BatchResult result;     // job_id "12" or "12_3", state, exit code, signal
  std::string reason;     // why it is pending (squeue only): "Resources", "BeginTime", ...
};

// The job id that `sbatch --parsable` printed ("12" or "12;cluster"); empty if there is none.
std::string parse_submitted_id(const std::string& out);

// The lines of `squeue --noheader --array -O ArrayJobID,ArrayTaskID,State,exit_code,Reason`
// (each field followed by a space); exit_code is the raw wait status (768: exit code 3).
// Lines that do not parse are skipped.
std::vector<JobRecord> parse_squeue(const std::string& out);

// The records of `scontrol show job -o` output, one line each (JobId=12 ArrayJobId=12
// ArrayTaskId=3 ... JobState=FAILED ... ExitCode=3:0 ...). A line without JobState, or
// standing for a range of still pending elements (ArrayTaskId=4-9), is skipped.
std::vector<JobRecord> parse_job_records(const std::string& out);

// True for a job Slurm requeued and held because slurmd failed to launch it (an overloaded
// node): it stays pending until released.
bool is_held_after_failed_launch(const JobRecord& record);

// True for the states a Slurm job never leaves: COMPLETED, FAILED, CANCELLED, TIMEOUT, ...
// Pending, running, completing (still killing processes) and unknown states are not final.
bool is_final_state(const std::string& state);

}  // namespace asyncjobs::slurm::internal

#endif  // ASYNCJOBS_SLURM_PARSE_H_
