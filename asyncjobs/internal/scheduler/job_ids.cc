// Numbering the jobs of a scheduler, nested ones included, for the views.
#include "asyncjobs/internal/scheduler/job_ids.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace asyncjobs::internal {
namespace {

// Jobs and nested schedulers below `scheduler`, at all depths.
int count_jobs(const Scheduler& scheduler) {
  int count = 0;
  for (const JobPtr& job : scheduler.jobs()) {
    ++count;
    if (const Scheduler* nested = nested_scheduler(*job)) count += count_jobs(*nested);
  }
  return count;
}

}  // namespace

const Scheduler* nested_scheduler(const AbstractJob& job) {
  return job.is_scheduler() ? static_cast<const Scheduler*>(&job) : nullptr;
}

JobIds JobIds::topological(const Scheduler& top) {
  JobIds ids;
  ids.number_topologically(top, static_cast<int>(absl::StrCat(count_jobs(top)).size()));
  return ids;
}

JobIds JobIds::paths(const Scheduler& top) {
  JobIds ids;
  ids.number_paths(top, "");
  return ids;
}

void JobIds::number_topologically(const Scheduler& scheduler, int width) {
  for (const JobPtr& job : scheduler.topological_order()) {
    ids_[job.get()] = absl::StrFormat("%0*d", width, next_++);
    if (const Scheduler* nested = nested_scheduler(*job)) number_topologically(*nested, width);
  }
}

void JobIds::number_paths(const Scheduler& scheduler, const std::string& prefix) {
  int position = 0;
  for (const JobPtr& job : scheduler.jobs()) {
    const std::string id = absl::StrCat(prefix, ++position);
    ids_[job.get()] = id;
    if (const Scheduler* nested = nested_scheduler(*job)) {
      number_paths(*nested, absl::StrCat(id, "."));
    }
  }
}

absl::string_view JobIds::of(const AbstractJob& job) const {
  auto found = ids_.find(&job);
  return found != ids_.end() ? absl::string_view(found->second) : "??";
}

std::string JobIds::set(const std::vector<JobPtr>& jobs) const {
  if (jobs.empty()) return "";
  return absl::StrCat("{", absl::StrJoin(jobs, ", ", [this](std::string* out, const JobPtr& job) {
                        absl::StrAppend(out, of(*job));
                      }),
                      "}");
}

}  // namespace asyncjobs::internal
