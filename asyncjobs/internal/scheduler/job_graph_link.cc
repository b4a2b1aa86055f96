// Linking a run before anything starts: the checks (GraphError), the links the run counts,
// requirement counts and the start plan, and the cycle named when the graph is not in
// insertion order.
#include "asyncjobs/internal/scheduler/job_graph.h"

#include <atomic>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "asyncjobs/internal/scheduler/graph.h"
#include "asyncjobs/internal/base/prefetch.h"
#include "asyncjobs/internal/memory/huge_page_allocator.h"
#include "asyncjobs/scheduler.h"

namespace asyncjobs::internal {

using Requirement = JobRunControl::Requirement;

void JobGraph::link() {
  // Usually every job comes after the jobs it requires: one pass links them, and proves the
  // graph acyclic. Otherwise a second pass and Kahn's algorithm.
  if (!link_jobs(/*single_pass=*/true)) {
    link_jobs(/*single_pass=*/false);
    check_acyclic();
  }
}

// Marks the requirement links this run counts, counts each job's requirements, lists the
// nested schedulers and counts the jobs whose co_shutdown() may do something. With
// `single_pass`, stops and returns false at the first requirement on a job that comes later
// in insertion order, and otherwise plans the start (see StartPlan).
bool JobGraph::link_jobs(bool single_pass) {
  static std::atomic<uint32_t> last_pass{0};
  const uint32_t pass = link_pass_ = last_pass.fetch_add(1, std::memory_order_relaxed) + 1;
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
      // Counted: its end counts down.
      JobRunControl::dependents(required)[requirement.mirror].pass = pass;
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
