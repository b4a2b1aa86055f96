#ifndef ASYNCJOBS_INTERNAL_SCHEDULER_JOB_IDS_H_
#define ASYNCJOBS_INTERNAL_SCHEDULER_JOB_IDS_H_

// The ids that the text, DOT and trace views show for the jobs of a scheduler, nested
// schedulers included.

#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "asyncjobs/scheduler.h"

namespace asyncjobs::internal {

// `job` as a scheduler, or nullptr for an atomic job.
const Scheduler* nested_scheduler(const AbstractJob& job);

class JobIds {
 public:
  // Numbered from 1, depth first in topological order across nesting (a nested scheduler
  // takes the next id, its jobs the following ones), zero-padded to the digits of the total
  // count: what list() and dot_format() show. Throws GraphError on a cycle.
  static JobIds topological(const Scheduler& top);
  // Positions in insertion order, "1", "2", "2.1": works on any graph, cycles included.
  static JobIds paths(const Scheduler& top);

  // The job's id; "??" for a job outside `top`.
  absl::string_view of(const AbstractJob& job) const;
  bool has(const AbstractJob& job) const { return ids_.contains(&job); }
  // "{1, 2}" for those jobs, "" for none.
  std::string set(const std::vector<JobPtr>& jobs) const;

 private:
  JobIds() = default;
  void number_topologically(const Scheduler& scheduler, int width);
  void number_paths(const Scheduler& scheduler, const std::string& prefix);

  absl::flat_hash_map<const AbstractJob*, std::string> ids_;
  int next_ = 1;
};

}  // namespace asyncjobs::internal

#endif  // ASYNCJOBS_INTERNAL_SCHEDULER_JOB_IDS_H_
