// Linking a run before anything starts: the checks (GraphError), requirement counts and the
// start plan, counted as jobs are added or in a pass over them, and the cycle named when the
// graph is not in insertion order.
#include "asyncjobs/internal/scheduler/job_graph.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "asyncjobs/internal/scheduler/graph.h"
#include "asyncjobs/internal/base/prefetch.h"
#include "asyncjobs/internal/memory/huge_page_allocator.h"
#include "asyncjobs/scheduler.h"

namespace asyncjobs::internal {

void JobGraph::link() {
  // Usually every job was added after the jobs it requires, and counted then (job_graph.h).
  if (counted_ && member_changes_so_far() == changes_seen_) {
    start_plan_ = added_plan_;
    start_plan_.valid = true;
    link_pass_ = next_link_pass();
    custom_shutdowns_ = added_shutdowns_;
    return;
  }
  counted_ = false;  // for good: the pass resets what add() counts
  // Else usually every job comes after the jobs it requires: one pass links them, and proves
  // the graph acyclic. Otherwise a second pass and Kahn's algorithm.
  if (!link_jobs(/*single_pass=*/true)) {
    link_jobs(/*single_pass=*/false);
    check_acyclic();
  }
}

// Counts each job's requirements, lists the nested schedulers and counts the jobs whose
// co_shutdown() may do something. With `single_pass`, stops and returns false at the first
// requirement on a job that comes later in insertion order, and otherwise plans the start
// (see StartPlan).
bool JobGraph::link_jobs(bool single_pass) {
  link_pass_ = next_link_pass();  // the run counts the links made before
  custom_shutdowns_ = 0;
  nested_.clear();
  start_plan_ = {};
  StartPlan plan;
  bool cancelled_before_run = false;
  auto reset = [&](AbstractJob& job, uint32_t index) {
    if (job.is_scheduler()) nested_.push_back(static_cast<Scheduler*>(&job));
    JobRunControl::reset_links(job, index);
    if (may_shut_down(job)) ++custom_shutdowns_;
  };
  if (!single_pass) {
    for (uint32_t i = 0; i < jobs_.size(); ++i) reset(*jobs_[i], i);
  }
  // A job's dependents start in insertion order: the order of its list unless require()
  // calls came in another order (then its end sorts them).
  // By graph_index_; in kept huge pages, as 4 MB at a million jobs would be fresh pages each run.
  HugePageVector<uint32_t> last_linked(jobs_.size(), UINT32_MAX);
  // Requirements are scattered: fetch each job's requirement list 16 jobs ahead, and the
  // required jobs 8 jobs ahead.
  constexpr uint32_t kNear = 8, kFar = 16;
  for (uint32_t i = 0; i < jobs_.size(); ++i) {
    if (i + kFar < jobs_.size()) JobRunControl::prefetch_job(jobs_[i + kFar].get(), 0);
    if (i + kNear < jobs_.size()) {
      for (const Requirement ahead : JobRunControl::required(*jobs_[i + kNear])) {
        if (ahead.job == nullptr) continue;
        const char* begin = JobRunControl::link_fields_begin(*ahead.job);
        prefetch_lines(begin, JobRunControl::link_fields_end(*ahead.job) - begin);
      }
    }
    AbstractJob& job = *jobs_[i];
    if (single_pass) reset(job, i);
    uint32_t& pending = JobRunControl::pending_requirements(job);
    for (const Requirement requirement : JobRunControl::required(job)) {
      check_requirement(job, requirement.job);
      AbstractJob& required = *requirement.job;
      const uint32_t index = JobRunControl::graph_index(required);  // maybe stale if it comes later
      if (single_pass && (index >= i || jobs_[index].get() != &required)) return false;
      uint32_t& last = last_linked[JobRunControl::graph_index(required)];
      if (last != UINT32_MAX && requirement.mirror < last) {
        JobRunControl::set_dependents_unordered(required);
      }
      last = requirement.mirror;
      ++pending;
    }
    if (single_pass) {  // its count is complete: it comes after all it requires
      cancelled_before_run |= JobRunControl::cancelled_before_start(job);
      plan.awaited += !job.forever();
      if (pending == 0) {
        if (plan.ready.empty() || plan.ready.back().second != i) plan.ready.emplace_back(i, i);
        plan.ready.back().second = i + 1;
      }
    }
  }
  if (single_pass && !cancelled_before_run) {
    start_plan_ = std::move(plan);
    start_plan_.valid = true;
  }
  return true;
}

// A dependent after `mirror` in `required`'s list that is a member was added before the job
// at `mirror`: the list is not in insertion order. Past a few entries, assumed so (the run
// then sorts the dependents it frees).
void JobGraph::check_order(AbstractJob& required, uint32_t mirror) {
  constexpr size_t kScan = 8;
  const auto& dependents = JobRunControl::dependents(required);
  const size_t end = std::min<size_t>(dependents.size(), mirror + 1 + kScan);
  bool unordered = end < dependents.size();
  for (size_t i = mirror + 1; i < end && !unordered; ++i) {
    unordered = dependents[i].job != nullptr && contains(dependents[i].job);
  }
  if (unordered) JobRunControl::set_dependents_unordered(required);
}

void JobGraph::count_added_rare(AbstractJob& job) {
  if (JobRunControl::cancelled_before_start(job)) counted_ = false;  // the pass plans no start
  if (may_shut_down(job)) ++added_shutdowns_;
  if (!job.is_scheduler()) return;
  try {
    nested_.push_back(static_cast<Scheduler*>(&job));
  } catch (...) {  // out of memory: the pass lists them
    counted_ = false;
  }
}

void JobGraph::add_ready_range(uint32_t index) {
  try {
    added_plan_.ready.emplace_back(index, index + 1);
  } catch (...) {  // out of memory: the pass plans
    counted_ = false;
  }
}

namespace {

// Out of line: the message takes a stack buffer (a stack-protector check and saved registers
// in every call of the function that would build it).
[[noreturn, gnu::cold, gnu::noinline]] void throw_not_member(const AbstractJob& scheduler,
                                                             const AbstractJob& job,
                                                             const AbstractJob* required) {
  throw GraphError(absl::StrCat(
      "asyncjobs: job `", job.label(), "` requires `",
      required == nullptr ? "a deleted job" : required->label(),
      "`, which is not in scheduler `", scheduler.label(), "`; sanitize() drops such requirements"));
}

}  // namespace

void JobGraph::check_requirement(const AbstractJob& job, const AbstractJob* required) const {
  if (required == nullptr || !contains(required)) [[unlikely]] {
    throw_not_member(owner_, job, required);
  }
}

// When the jobs do not come after what they require, the graph algorithms tell whether it
// is acyclic, and name a cycle for the GraphError if not.
void JobGraph::check_acyclic() const {
  Edges edges(jobs_.size());
  for (const JobPtr& job : jobs_) {
    for (const Requirement requirement : JobRunControl::required(*job)) {
      edges[JobRunControl::graph_index(*job)].push_back(
          JobRunControl::graph_index(*requirement.job));
    }
  }
  if (::asyncjobs::internal::topological_order(edges).size() == jobs_.size()) return;
  const std::vector<uint32_t> cycle = find_cycle(edges);
  std::string names;
  for (uint32_t index : cycle) absl::StrAppend(&names, "`", jobs_[index]->label(), "` requires ");
  absl::StrAppend(&names, "`", jobs_[cycle.front()]->label(), "`");
  throw GraphError(absl::StrCat("asyncjobs: cycle in scheduler `", owner_.label(), "`: ", names));
}

}  // namespace asyncjobs::internal
