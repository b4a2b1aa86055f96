#ifndef ASYNCJOBS_INTERNAL_SCHEDULER_JOB_GRAPH_H_
#define ASYNCJOBS_INTERNAL_SCHEDULER_JOB_GRAPH_H_

// JobGraph: a Scheduler's members and the requirements between them: membership (add,
// remove), queries (topological order, entries, exits, neighbours), surgery (sanitize,
// keep_only, bypass_and_remove) and the linking of a run (the counted links, requirement
// counts, the start plan, cycles named for GraphError). No fibers, no run state: the run
// (scheduler_run.cc) reads what linking leaves in the jobs. Algorithms on indices are in
// graph.h.
//
// Linking is usually counted as jobs are added: each job's requirements, its place, the start
// plan. It holds while every requirement is on a job added before, nothing was removed and
// no member changed since (internal/jobs/link_stamps.h); otherwise link() passes over the
// jobs.

#include <cstdint>
#include <typeinfo>
#include <utility>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/types/span.h"
#include "asyncjobs/internal/jobs/job_run_control.h"
#include "asyncjobs/internal/jobs/link_stamps.h"
#include "asyncjobs/internal/memory/huge_page_allocator.h"
#include "asyncjobs/internal/memory/huge_page_growth.h"
#include "asyncjobs/job.h"

namespace asyncjobs {
class Scheduler;
}

namespace asyncjobs::internal {

// A plain Job's co_shutdown() is AbstractJob's, which does nothing: no need to call it.
inline bool may_shut_down(const AbstractJob& job) { return typeid(job) != typeid(Job); }

class JobGraph {
 public:
  // `owner` is the scheduler the members belong to (AbstractJob::parent()); errors name it.
  explicit JobGraph(AbstractJob& owner)
      : owner_(owner), changes_seen_(member_changes_so_far()) {}
  ~JobGraph();  // releases the members last first
  JobGraph(const JobGraph&) = delete;
  JobGraph& operator=(const JobGraph&) = delete;

  // --- Membership (insertion order)
  const HugePageVector<JobPtr>& jobs() const { return jobs_; }
  bool contains(const AbstractJob* job) const { return job->parent() == &owner_; }
  // Adds `jobs`, moving them out; returns the last. GraphError for a job of another
  // scheduler; a member again is a no-op.
  // Inline into Scheduler::add: user code often adds jobs one at a time.
  ABSL_ATTRIBUTE_ALWAYS_INLINE JobPtr add(absl::Span<JobPtr> jobs) {
    for (const JobPtr& job : jobs) check_can_add(job);
    for (size_t i = 0; i < jobs.size(); ++i) {
      if (contains(jobs[i].get())) continue;
      if (jobs_.size() == jobs_.capacity()) grow(jobs_);  // may throw: nothing changed
      JobRunControl::set_parent(*jobs[i], &owner_);
      count_added(*jobs[i], static_cast<uint32_t>(jobs_.size()));
      // Moved, but for the last job, which is also returned.
      jobs_.push_back(i + 1 < jobs.size() ? std::move(jobs[i]) : jobs[i]);
    }
    return jobs.empty() ? nullptr : std::move(jobs.back());
  }
  // Throws as add() would, without adding.
  void check_can_add(const JobPtr& job) const;
  void remove(const JobPtr& job);  // std::invalid_argument if absent
  // std::invalid_argument naming `what` unless `job` is a member.
  void check_member(const JobPtr& job, const char* what) const;

  // --- Queries and surgery (Scheduler's graph API)
  bool check_cycles() const;
  bool sanitize(bool verbose);
  std::vector<JobPtr> topological_order() const;
  std::vector<JobPtr> entry_jobs() const;
  std::vector<JobPtr> exit_jobs(bool discard_forever) const;
  std::vector<JobPtr> predecessors(const JobPtr& job) const;
  std::vector<JobPtr> successors(const JobPtr& job) const;
  // Direct neighbours (or, when `transitive`, everything reachable) of `starts`: the
  // union, in insertion order, without the starts themselves.
  std::vector<JobPtr> neighbours(const std::vector<JobPtr>& starts, const char* what,
                                 bool downstream, bool transitive) const;
  void bypass_and_remove(const JobPtr& job);
  void keep_only(const std::vector<JobPtr>& jobs);
  void keep_only_between(const std::vector<JobPtr>& starts, const std::vector<JobPtr>& ends,
                         bool keep_starts, bool keep_ends);

  // --- Linking a run (job_graph_link.cc)
  // Numbers the links this run counts (those made before it), counts each job's requirements,
  // lists the nested schedulers and counts the jobs whose co_shutdown() may do something
  // (or takes what add() counted, when it still holds); GraphError on a requirement outside
  // the graph or a cycle. Each job then comes after what it requires, or a second pass links
  // them and Kahn's algorithm checks for a cycle.
  void link();
  // What linking found (at add(), or in a single pass) for the start that follows (a nested
  // scheduler's, done by its parent's run, is dropped: jobs run in between): the ready jobs
  // as ranges of jobs(), so that the start reads no other job, and how many are not forever.
  // Not made when a job was cancelled before the run.
  struct StartPlan {
    std::vector<std::pair<uint32_t, uint32_t>> ready;  // [begin, end)
    size_t awaited = 0;
    bool valid = false;
  };
  bool start_plan_valid() const { return start_plan_.valid; }
  StartPlan take_start_plan() { return std::exchange(start_plan_, {}); }
  const std::vector<Scheduler*>& nested() const { return nested_; }  // as of the last link
  size_t custom_shutdowns() const { return custom_shutdowns_; }
  // The dependent `link` names if this run counted it (a member's link made before the run
  // was linked), else nullptr.
  AbstractJob* linked_dependent(const JobRunControl::Link& link) const {
    AbstractJob* job = link.job;
    return job != nullptr && made_before(link.pass, link_pass_) && contains(job) ? job : nullptr;
  }

 private:
  using Requirement = JobRunControl::Requirement;

  // What link() needs, counted as `job` is added at `index`; anything unusual leaves it to
  // the pass (counted_ false). Throws nothing.
  ABSL_ATTRIBUTE_ALWAYS_INLINE void count_added(AbstractJob& job, uint32_t index) {
    if (!counted_) return;
    const RequiredLinks& required = JobRunControl::required(job);
    const auto pending = static_cast<uint32_t>(required.size());
    JobRunControl::reset_links(job, index, pending);
    for (const Requirement requirement : required) {
      // A member came before it; a deleted job, another's or one added later: the pass decides.
      if (requirement.job == nullptr || !contains(requirement.job)) [[unlikely]] {
        counted_ = false;
        return;
      }
      // Not the last dependent: maybe after one added before it.
      if (requirement.mirror + 1 != JobRunControl::dependents(*requirement.job).size())
          [[unlikely]] {
        check_order(*requirement.job, requirement.mirror);
      }
    }
    if (job.is_scheduler() || JobRunControl::cancelled_before_start(job) || may_shut_down(job))
        [[unlikely]] {
      count_added_rare(job);
    }
    added_plan_.awaited += !job.forever();
    if (pending != 0) return;
    if (!added_plan_.ready.empty() && added_plan_.ready.back().second == index) {
      ++added_plan_.ready.back().second;
    } else {
      add_ready_range(index);
    }
  }
  void check_order(AbstractJob& required, uint32_t mirror);
  void count_added_rare(AbstractJob& job);
  void add_ready_range(uint32_t index);

  bool link_jobs(bool single_pass);
  void check_requirement(const AbstractJob& job, const AbstractJob* required) const;
  void check_acyclic() const;

  AbstractJob& owner_;
  HugePageVector<JobPtr> jobs_;
  // Counted as jobs were added, valid while counted_ and no member changed since changes_seen_.
  bool counted_ = true;
  uint64_t changes_seen_;
  StartPlan added_plan_;
  size_t added_shutdowns_ = 0;
  uint32_t link_pass_ = 0;  // the current run's: it counts the links made before it
  std::vector<Scheduler*> nested_;
  StartPlan start_plan_;
  size_t custom_shutdowns_ = SIZE_MAX;  // jobs whose co_shutdown() may do something
};

}  // namespace asyncjobs::internal

#endif  // ASYNCJOBS_INTERNAL_SCHEDULER_JOB_GRAPH_H_
