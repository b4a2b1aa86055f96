// Graph queries and edits of a Scheduler, over its direct members (insertion order).
#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "asyncjobs/internal/scheduler/graph.h"
#include "asyncjobs/scheduler.h"

namespace asyncjobs {
namespace {

// The member jobs as graph nodes: edges go from a job to the members it requires.
struct MemberGraph {
  absl::flat_hash_map<const AbstractJob*, uint32_t> index;
  internal::Edges requirements;
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

bool Scheduler::check_cycles() const {
  const MemberGraph graph = member_graph(jobs_);
  if (internal::topological_order(graph.requirements).size() != jobs_.size()) return false;
  return std::all_of(jobs_.begin(), jobs_.end(), [](const JobPtr& job) {
    return !job->is_scheduler_ || static_cast<const Scheduler&>(*job).check_cycles();
  });
}

bool Scheduler::sanitize(bool verbose) {
  bool clean = true;
  for (const JobPtr& job : jobs_) {
    auto foreign = [&](const AbstractJob* required) {
      const bool drop = required == nullptr || !member(required);
      if (drop && verbose) {
        std::cout << "WARNING: removed requirement of `" << job->label() << "` on `"
                  << (required == nullptr ? "a deleted job" : required->label())
                  << "`, which is not in scheduler `" << label() << "`" << std::endl;
      }
      return drop;
    };
    clean = job->drop_requirements_if(foreign) == 0 && clean;
    if (job->is_scheduler_) clean = static_cast<Scheduler&>(*job).sanitize(verbose) && clean;
  }
  return clean;
}

std::vector<JobPtr> Scheduler::topological_order() const {
  const MemberGraph graph = member_graph(jobs_);
  const std::vector<uint32_t> order = internal::topological_order(graph.requirements);
  if (order.size() != jobs_.size()) {
    throw GraphError(absl::StrCat("asyncjobs: scheduler `", label(), "` has a cycle"));
  }
  std::vector<JobPtr> jobs;
  jobs.reserve(order.size());
  for (uint32_t i : order) jobs.push_back(jobs_[i]);
  return jobs;
}

std::vector<JobPtr> Scheduler::entry_jobs() const {
  const MemberGraph graph = member_graph(jobs_);
  std::vector<bool> keep(jobs_.size());
  for (uint32_t i = 0; i < jobs_.size(); ++i) keep[i] = graph.requirements[i].empty();
  return select(jobs_, keep);
}

std::vector<JobPtr> Scheduler::exit_jobs(bool discard_forever) const {
  const internal::Edges successors = internal::reversed(member_graph(jobs_).requirements);
  std::vector<bool> keep(jobs_.size());
  for (uint32_t i = 0; i < jobs_.size(); ++i) {
    keep[i] = successors[i].empty() && !(discard_forever && jobs_[i]->forever());
  }
  return select(jobs_, keep);
}

// Direct neighbours (or, when `transitive`, everything reachable) of the `starts` along
// `edges`: the union, in insertion order, without the starts themselves.
std::vector<JobPtr> Scheduler::neighbours(const std::vector<JobPtr>& starts, const char* what,
                                          bool downstream, bool transitive) const {
  for (const JobPtr& job : starts) check_member(job, what);
  const MemberGraph graph = member_graph(jobs_);
  const internal::Edges edges =
      downstream ? internal::reversed(graph.requirements) : graph.requirements;
  std::vector<uint32_t> indices;
  for (const JobPtr& job : starts) indices.push_back(graph.index.at(job.get()));
  std::vector<bool> keep(jobs_.size());
  if (transitive) {
    keep = internal::reachable_from(edges, indices);
  } else {
    for (uint32_t i : indices) {
      for (uint32_t next : edges[i]) keep[next] = true;
    }
  }
  for (uint32_t i : indices) keep[i] = false;
  return select(jobs_, keep);
}

// One job's direct neighbours come in the order of its own requirement lists.
std::vector<JobPtr> Scheduler::predecessors(const JobPtr& job) const {
  check_member(job, "predecessors");
  const MemberGraph graph = member_graph(jobs_);
  return at(jobs_, graph.requirements[graph.index.at(job.get())]);
}

std::vector<JobPtr> Scheduler::successors(const JobPtr& job) const {
  check_member(job, "successors");
  const MemberGraph graph = member_graph(jobs_);
  return at(jobs_, internal::reversed(graph.requirements)[graph.index.at(job.get())]);
}

std::vector<JobPtr> Scheduler::predecessors_upstream(const JobPtr& job) const {
  return neighbours({job}, "predecessors_upstream", false, true);
}

std::vector<JobPtr> Scheduler::successors_downstream(const JobPtr& job) const {
  return neighbours({job}, "successors_downstream", true, true);
}

std::vector<JobPtr> Scheduler::predecessors(const std::vector<JobPtr>& jobs) const {
  return neighbours(jobs, "predecessors", false, false);
}

std::vector<JobPtr> Scheduler::successors(const std::vector<JobPtr>& jobs) const {
  return neighbours(jobs, "successors", true, false);
}

std::vector<JobPtr> Scheduler::predecessors_upstream(const std::vector<JobPtr>& jobs) const {
  return neighbours(jobs, "predecessors_upstream", false, true);
}

std::vector<JobPtr> Scheduler::successors_downstream(const std::vector<JobPtr>& jobs) const {
  return neighbours(jobs, "successors_downstream", true, true);
}

void Scheduler::bypass_and_remove(const JobPtr& job) {
  check_member(job, "bypass_and_remove");
  const std::vector<JobPtr> inherited = job->required();
  for (const JobPtr& successor : successors(job)) {
    successor->unrequire(job);
    successor->require(inherited);
  }
  remove(job);
}

void Scheduler::keep_only(const std::vector<JobPtr>& jobs) {
  const absl::flat_hash_set<const AbstractJob*> kept(
      [&] {
        absl::flat_hash_set<const AbstractJob*> set;
        for (const JobPtr& job : jobs) set.insert(job.get());
        return set;
      }());
  std::erase_if(jobs_, [&](const JobPtr& job) {
    if (kept.contains(job.get())) return false;
    job->scheduler_ = nullptr;
    return true;
  });
  for (const JobPtr& job : jobs_) {
    job->drop_requirements_if([&](const AbstractJob* required) {
      return required == nullptr || !kept.contains(required);
    });
  }
}

void Scheduler::keep_only_between(const std::vector<JobPtr>& starts,
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
  auto side = [&](const std::vector<JobPtr>& bounds, const internal::Edges& edges, bool keep,
                  const char* what) {
    if (bounds.empty()) return std::vector<bool>(jobs_.size(), true);
    const std::vector<uint32_t> from = indices(bounds, what);
    std::vector<bool> reached = internal::reachable_from(edges, from);
    if (keep) {
      for (uint32_t i : from) reached[i] = true;
    }
    return reached;
  };
  const std::vector<bool> after =
      side(starts, internal::reversed(graph.requirements), keep_starts, "keep_only_between");
  const std::vector<bool> before = side(ends, graph.requirements, keep_ends, "keep_only_between");
  std::vector<bool> keep(jobs_.size());
  for (uint32_t i = 0; i < jobs_.size(); ++i) keep[i] = after[i] && before[i];
  keep_only(select(jobs_, keep));
}

}  // namespace asyncjobs
