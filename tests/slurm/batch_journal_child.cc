// The orchestrator batch_journal_test kills and reruns: a run with a journal and one batch
// job (a plain job, or an array of 2) whose script appends its Slurm id to WORKDIR/runs and
// sleeps. Prints each of the job's output lines (kOutput events) as `event <line>` at once,
// then `result <restored> <job ids> <states>` (ids and states comma-separated).
//
//   batch_journal_child JOURNAL WORKDIR plain|array
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "asyncjobs/asyncjobs.h"
#include "asyncjobs/slurm.h"

namespace {

namespace aj = asyncjobs;
namespace slurm = asyncjobs::slurm;

constexpr char kPlainScript[] = "#!/bin/sh\necho $SLURM_JOB_ID >> runs\nsleep 10\n";
constexpr char kArrayScript[] =
    "#!/bin/sh\necho ${SLURM_ARRAY_JOB_ID}_$SLURM_ARRAY_TASK_ID >> runs\nsleep 10\n";

std::vector<slurm::BatchResult> results(const aj::AbstractJob& job, bool array) {
  if (array) return job.result<std::vector<slurm::BatchResult>>();
  return {job.result<slurm::BatchResult>()};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: batch_journal_child JOURNAL WORKDIR plain|array\n";
    return 2;
  }
  const std::string journal = argv[1], dir = argv[2];
  const bool array = std::string(argv[3]) == "array";
  const slurm::BatchOptions batch{.script = array ? kArrayScript : kPlainScript,
                                  .sbatch_args = {"--output=/dev/null"},
                                  .working_directory = dir,
                                  .poll_interval = absl::Milliseconds(200)};
  aj::JobPtr job = array ? aj::JobPtr(slurm::make_batch_array_job(batch, 2, {.label = "batch"}))
                         : aj::JobPtr(slurm::make_batch_job(batch, {.label = "batch"}));
  aj::Scheduler scheduler({job}, {.critical = false,
                                  .journal = journal,
                                  .on_event = [](const aj::JobEvent& event) {
                                    if (event.kind != aj::JobEvent::Kind::kOutput) return;
                                    std::cout << "event " << event.text << std::endl;
                                  }});
  if (!scheduler.run()) {
    std::cerr << scheduler.why() << "\n";
    return 1;
  }
  std::vector<std::string> ids, states;
  for (const slurm::BatchResult& result : results(*job, array)) {
    ids.push_back(result.job_id);
    states.push_back(result.state);
  }
  std::cout << "result " << job->restored() << " " << absl::StrJoin(ids, ",") << " "
            << absl::StrJoin(states, ",") << std::endl;
  return 0;
}
