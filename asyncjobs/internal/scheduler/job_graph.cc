// A Scheduler's graph: membership, queries and surgery over its direct members (insertion
// order). Linking a run is in job_graph_link.cc.
#include "asyncjobs/internal/scheduler/job_graph.h"

#include <algorithm>
#include <iostream>
#include <stdexcept>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "asyncjobs/internal/scheduler/graph.h"
#include "asyncjobs/scheduler.h"

namespace asyncjobs::internal {
namespace {

namespace graph = ::asyncjobs::internal;  // the algorithms of graph.h

// The member jobs as graph nodes: edges go from a job to the members it requires.
struct MemberGraph {
  absl::flat_hash_map<const AbstractJob*, uint32_t> index;
  Edges requirements;
};

MemberGraph member_graph(absl::Span<const JobPtr> jobs) {
  MemberGraph graph;
  graph.index.reserve(jobs.size());
  for (uint32_t i = 0; i < jobs.size(); ++i) graph.index.emplace(jobs[i].get(), i);
  graph.requirements.resize(jobs.size());
  for (uint32_t i = 0; i < jobs.size(); ++i) {
    for (const JobPtr& required : jobs[i]->required()) {
      auto found = graph.index.find(required.get());
      if (found != graph.index.end()) graph.requirements[i].push_back(found->second);
    }
  }
  return graph;
}

std::vector<JobPtr> select(absl::Span<const JobPtr> jobs, const std::vector<bool>& keep) {
  std::vector<JobPtr> selected;
  for (uint32_t i = 0; i < jobs.size(); ++i) {
    if (keep[i]) selected.push_back(jobs[i]);
  }
  return selected;
}

std::vector<JobPtr> at(absl::Span<const JobPtr> jobs,
                       const absl::InlinedVector<uint32_t, 2>& indices) {
  std::vector<JobPtr> selected;
  for (uint32_t i : indices) selected.push_back(jobs[i]);
  return selected;
}

}  // namespace

JobGraph::~JobGraph() {
  // Last job first: the pool's LIFO free list then hands the memory out again in address
  // order (jobs are usually made in insertion order), so the next graph is built on
  // contiguous memory; and each dying job unlinks itself from the jobs it requires, which
  // are still alive, at the end of their dependent lists.
  constexpr size_t kAhead = 16;
  for (size_t i = jobs_.size(); i-- > 0;) {  // one pass: a job often dies here too
    if (i >= kAhead) JobRunControl::prefetch_job(jobs_[i - kAhead].get(), 0);
    JobPtr& job = jobs_[i];
    if (contains(job.get())) JobRunControl::set_parent(*job, nullptr);
    job.reset();
  }
}

// --- Membership

namespace {

// check_can_add() for a null job, a job of another scheduler or a scheduler: out of line, as
// its messages take a stack buffer (a stack-protector check and saved registers per call).
[[gnu::cold, gnu::noinline]] void check_can_add_rare(const AbstractJob& scheduler,
                                                     const JobPtr& job) {
  if (!job) throw std::invalid_argument("asyncjobs: cannot add a null job");
  if (job->parent() != nullptr && job->parent() != &scheduler) {
    throw GraphError(absl::StrCat("asyncjobs: job `", job->label(),
                                  "` already belongs to scheduler `", job->parent()->label(),
                                  "`; cannot add it to `", scheduler.label(), "`"));
  }
  for (const AbstractJob* outer = &scheduler; outer != nullptr; outer = outer->parent()) {
    if (outer == job.get()) {
      throw GraphError(absl::StrCat("asyncjobs: scheduler `", job->label(),
                                    "` cannot contain itself (adding it to `",
                                    scheduler.label(), "`)"));
    }
  }
}

}  // namespace

void JobGraph::check_can_add(const JobPtr& job) const {
  // The common case in one test: a plain job (it cannot contain a scheduler) of no other.
  if (job && !job->is_scheduler() && (job->parent() == nullptr || contains(job.get()))) {
    return;
  }
  check_can_add_rare(owner_, job);
}

void JobGraph::remove(const JobPtr& job) {
  check_member(job, "remove");
  counted_ = false;  // the places counted as jobs were added no longer hold
  JobRunControl::set_parent(*job, nullptr);
  std::erase(jobs_, job);
}

void JobGraph::check_member(const JobPtr& job, const char* what) const {
  if (!job || !contains(job.get())) {
    throw std::invalid_argument(absl::StrCat("asyncjobs: ", what, ": job `",
                                             job ? job->label() : "null",
                                             "` is not in scheduler `", owner_.label(), "`"));
  }
}

// --- Queries and surgery

bool JobGraph::check_cycles() const {
  const MemberGraph graph = member_graph(jobs_);
  if (graph::topological_order(graph.requirements).size() != jobs_.size()) return false;
  return std::all_of(jobs_.begin(), jobs_.end(), [](const JobPtr& job) {
    return !job->is_scheduler() || static_cast<const Scheduler&>(*job).check_cycles();
  });
}

bool JobGraph::sanitize(bool verbose) {
  bool clean = true;
  for (const JobPtr& job : jobs_) {
    auto foreign = [&](const AbstractJob* required) {
      const bool drop = required == nullptr || !contains(required);
      if (drop && verbose) {
        std::cout << "WARNING: removed requirement of `" << job->label() << "` on `"
                  << (required == nullptr ? "a deleted job" : required->label())
                  << "`, which is not in scheduler `" << owner_.label() << "`" << std::endl;
      }
      return drop;
    };
    clean = JobRunControl::drop_requirements_if(*job, foreign) == 0 && clean;
    if (job->is_scheduler()) clean = static_cast<Scheduler&>(*job).sanitize(verbose) && clean;
  }
  return clean;
}

std::vector<JobPtr> JobGraph::topological_order() const {
  const MemberGraph graph = member_graph(jobs_);
  const std::vector<uint32_t> order = graph::topological_order(graph.requirements);
  if (order.size() != jobs_.size()) {
    throw GraphError(absl::StrCat("asyncjobs: scheduler `", owner_.label(), "` has a cycle"));
  }
  std::vector<JobPtr> jobs;
  jobs.reserve(order.size());
  for (uint32_t i : order) jobs.push_back(jobs_[i]);
  return jobs;
}

std::vector<JobPtr> JobGraph::entry_jobs() const {
  const MemberGraph graph = member_graph(jobs_);
  std::vector<bool> keep(jobs_.size());
  for (uint32_t i = 0; i < jobs_.size(); ++i) keep[i] = graph.requirements[i].empty();
  return select(jobs_, keep);
}

std::vector<JobPtr> JobGraph::exit_jobs(bool discard_forever) const {
  const Edges successors = reversed(member_graph(jobs_).requirements);
  std::vector<bool> keep(jobs_.size());
  for (uint32_t i = 0; i < jobs_.size(); ++i) {
    keep[i] = successors[i].empty() && !(discard_forever && jobs_[i]->forever());
  }
  return select(jobs_, keep);
}

// Direct neighbours (or, when `transitive`, everything reachable) of the `starts` along
// `edges`: the union, in insertion order, without the starts themselves.
std::vector<JobPtr> JobGraph::neighbours(const std::vector<JobPtr>& starts, const char* what,
                                          bool downstream, bool transitive) const {
  for (const JobPtr& job : starts) check_member(job, what);
  const MemberGraph graph = member_graph(jobs_);
  const Edges edges =
      downstream ? reversed(graph.requirements) : graph.requirements;
  std::vector<uint32_t> indices;
  for (const JobPtr& job : starts) indices.push_back(graph.index.at(job.get()));
  std::vector<bool> keep(jobs_.size());
  if (transitive) {
    keep = reachable_from(edges, indices);
  } else {
    for (uint32_t i : indices) {
      for (uint32_t next : edges[i]) keep[next] = true;
    }
  }
  for (uint32_t i : indices) keep[i] = false;
  return select(jobs_, keep);
}

// One job's direct neighbours come in the order of its own requirement lists.
std::vector<JobPtr> JobGraph::predecessors(const JobPtr& job) const {
  check_member(job, "predecessors");
  const MemberGraph graph = member_graph(jobs_);
  return at(jobs_, graph.requirements[graph.index.at(job.get())]);
}

std::vector<JobPtr> JobGraph::successors(const JobPtr& job) const {
  check_member(job, "successors");
  const MemberGraph graph = member_graph(jobs_);
  return at(jobs_, reversed(graph.requirements)[graph.index.at(job.get())]);
}

void JobGraph::bypass_and_remove(const JobPtr& job) {
  check_member(job, "bypass_and_remove");
  const std::vector<JobPtr> inherited = job->required();
  for (const JobPtr& successor : successors(job)) {
    successor->unrequire(job);
    successor->require(inherited);
  }
  remove(job);
}

void JobGraph::keep_only(const std::vector<JobPtr>& jobs) {
  const absl::flat_hash_set<const AbstractJob*> kept(
      [&] {
        absl::flat_hash_set<const AbstractJob*> set;
        for (const JobPtr& job : jobs) set.insert(job.get());
        return set;
      }());
  counted_ = false;  // as in remove()
  std::erase_if(jobs_, [&](const JobPtr& job) {
    if (kept.contains(job.get())) return false;
    JobRunControl::set_parent(*job, nullptr);
    return true;
  });
  for (const JobPtr& job : jobs_) {
    JobRunControl::drop_requirements_if(*job, [&](const AbstractJob* required) {
      return required == nullptr || !kept.contains(required);
    });
  }
}

void JobGraph::keep_only_between(const std::vector<JobPtr>& starts,
                                  const std::vector<JobPtr>& ends, bool keep_starts,
                                  bool keep_ends) {
  const MemberGraph graph = member_graph(jobs_);
  auto indices = [&](const std::vector<JobPtr>& bounds, const char* what) {
    std::vector<uint32_t> result;
    for (const JobPtr& job : bounds) {
      check_member(job, what);
      result.push_back(graph.index.at(job.get()));
    }
    return result;
  };
  auto side = [&](const std::vector<JobPtr>& bounds, const Edges& edges, bool keep,
                  const char* what) {
    if (bounds.empty()) return std::vector<bool>(jobs_.size(), true);
    const std::vector<uint32_t> from = indices(bounds, what);
    std::vector<bool> reached = reachable_from(edges, from);
    if (keep) {
      for (uint32_t i : from) reached[i] = true;
    }
    return reached;
  };
  const std::vector<bool> after =
      side(starts, reversed(graph.requirements), keep_starts, "keep_only_between");
  const std::vector<bool> before = side(ends, graph.requirements, keep_ends, "keep_only_between");
  std::vector<bool> keep(jobs_.size());
  for (uint32_t i = 0; i < jobs_.size(); ++i) keep[i] = after[i] && before[i];
  keep_only(select(jobs_, keep));
}

}  // namespace asyncjobs::internal
