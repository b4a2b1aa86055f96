// Linking a run before anything starts: the checks (GraphError), the links the run counts,
// requirement counts and the start plan, and the cycle named when the graph is not in
// insertion order.
#include <atomic>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "asyncjobs/internal/scheduler/graph.h"
#include "asyncjobs/internal/base/prefetch.h"
#include "asyncjobs/internal/memory/huge_page_allocator.h"
#include "asyncjobs/scheduler.h"

namespace asyncjobs {

void Scheduler::prepare_run(bool recursive) {
  if (ran_) {
    throw GraphError(absl::StrCat("asyncjobs: scheduler `", label(), "` has already run"));
  }
  // Usually every job comes after the jobs it requires: one pass links them, and proves the
  // graph acyclic. Otherwise a second pass and Kahn's algorithm.
  if (!link_jobs(/*single_pass=*/true)) {
    link_jobs(/*single_pass=*/false);
    check_acyclic();
  }
  if (recursive) {
    for (Scheduler* nested : nested_) {
      nested->prepare_run(true);
      nested->start_plan_ = {};  // other jobs run before it starts
    }
    if (scheduler_ == nullptr && !options_.journal.empty()) [[unlikely]] open_journal();
  }
  prepared_ = true;
}

// Marks the requirement links this run counts, counts each job's requirements, lists the
// nested schedulers and counts the jobs whose co_shutdown() may do something. With
// `single_pass`, stops and returns false at the first requirement on a job that comes later
// in insertion order, and otherwise plans the start (see StartPlan).
bool Scheduler::link_jobs(bool single_pass) {
  static std::atomic<uint32_t> last_pass{0};
  const uint32_t pass = link_pass_ = last_pass.fetch_add(1, std::memory_order_relaxed) + 1;
  custom_shutdowns_ = 0;
  nested_.clear();
  start_plan_ = {};
  StartPlan plan;
  bool cancelled_before_run = false;
  auto reset = [&](AbstractJob& job, uint32_t index) {
    if (job.is_scheduler_) nested_.push_back(static_cast<Scheduler*>(&job));
    job.graph_index_ = index;
    job.pending_requirements_ = 0;
    job.dependents_unordered_ = false;
    if (may_shut_down(job)) ++custom_shutdowns_;
  };
  if (!single_pass) {
    for (uint32_t i = 0; i < jobs_.size(); ++i) reset(*jobs_[i], i);
  }
  // A job's dependents start in insertion order: the order of its list unless require()
  // calls came in another order (then its end sorts them).
  // By graph_index_; in kept huge pages, as 4 MB at a million jobs would be fresh pages each run.
  internal::HugePageVector<uint32_t> last_linked(jobs_.size(), UINT32_MAX);
  // Requirements are scattered: fetch each job's requirement list 16 jobs ahead, and the
  // required jobs 8 jobs ahead.
  constexpr uint32_t kNear = 8, kFar = 16;
  for (uint32_t i = 0; i < jobs_.size(); ++i) {
    if (i + kFar < jobs_.size()) prefetch_job(jobs_[i + kFar].get(), 0);
    if (i + kNear < jobs_.size()) {
      for (const Requirement ahead : jobs_[i + kNear]->required_) {
        // The fields linking reads and writes, up to the inline end of its dependents.
        if (ahead.job == nullptr) continue;
        const auto* begin = reinterpret_cast<const char*>(&ahead.job->graph_index_);
        const auto* end = reinterpret_cast<const char*>(&ahead.job->dependents_ + 1);
        internal::prefetch_lines(begin, end - begin);
      }
    }
    AbstractJob& job = *jobs_[i];
    if (single_pass) reset(job, i);
    for (const Requirement requirement : job.required_) {
      check_requirement(job, requirement.job);
      AbstractJob& required = *requirement.job;
      const uint32_t index = required.graph_index_;  // maybe stale if it comes later
      if (single_pass && (index >= i || jobs_[index].get() != &required)) return false;
      required.dependents_[requirement.mirror].pass = pass;  // counted: its end counts down
      uint32_t& last = last_linked[required.graph_index_];
      if (last != UINT32_MAX && requirement.mirror < last) required.dependents_unordered_ = true;
      last = requirement.mirror;
      ++job.pending_requirements_;
    }
    if (single_pass) {  // its count is complete: it comes after all it requires
      cancelled_before_run |= job.cancel_requested_;
      plan.awaited += !job.forever_;
      if (job.pending_requirements_ == 0) {
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

void Scheduler::check_requirement(const AbstractJob& job, const AbstractJob* required) const {
  if (required == nullptr || !member(required)) [[unlikely]] throw_not_member(*this, job, required);
}

// When the jobs do not come after what they require, the graph algorithms tell whether it
// is acyclic, and name a cycle for the GraphError if not.
void Scheduler::check_acyclic() const {
  internal::Edges edges(jobs_.size());
  for (const JobPtr& job : jobs_) {
    for (const Requirement requirement : job->required_) {
      edges[job->graph_index_].push_back(requirement.job->graph_index_);
    }
  }
  if (internal::topological_order(edges).size() == jobs_.size()) return;
  const std::vector<uint32_t> cycle = internal::find_cycle(edges);
  std::string names;
  for (uint32_t index : cycle) absl::StrAppend(&names, "`", jobs_[index]->label(), "` requires ");
  absl::StrAppend(&names, "`", jobs_[cycle.front()]->label(), "`");
  throw GraphError(absl::StrCat("asyncjobs: cycle in scheduler `", label(), "`: ", names));
}

}  // namespace asyncjobs
