// Requirements as links kept at both ends: a job lists what it requires (`required_`, in
// insertion order, internal/jobs/required_links.h) and what requires it (`dependents_`);
// each entry knows where its mirror is, so a dying job unlinks itself in O(1) per link, and
// no job owns another (docs/design.md, "Requirements").
#include <stdexcept>

#include "absl/strings/str_cat.h"
#include "asyncjobs/internal/jobs/link_stamps.h"
#include "asyncjobs/job.h"
#include "asyncjobs/sequence.h"

namespace asyncjobs {

// RequiredLinks keeps its size in the low bits of a job's address.
static_assert(alignof(AbstractJob) >= 4);

void AbstractJob::add_requirement(AbstractJob* job) {
  if (job == nullptr) throw std::invalid_argument("asyncjobs: require() got a null job");
  if (job == this || requires_job(*job)) return;
  if (scheduler_ != nullptr) internal::note_member_change();  // its scheduler counted it
  required_.push_back({job, 0});
  try {
    job->add_dependent(*this);
  } catch (...) {  // out of memory: no half link
    required_.truncate(required_.size() - 1);
    throw;
  }
}

// Searches the shorter of the two lists: a job that many require, or that requires many,
// still links in O(1) per requirement.
bool AbstractJob::requires_job(const AbstractJob& job) const {
  if (required_.size() <= job.dependents_.size()) {
    for (const Requirement requirement : required_) {
      if (requirement.job == &job) return true;
    }
    return false;
  }
  for (const Link& link : job.dependents_) {
    if (link.job == this) return true;
  }
  return false;
}

// Mirrors `job`'s last requirement. A full list first drops the links of dependents that
// died or let go if they are at least half of it (each entry is moved at most once per
// doubling, so this stays O(1) amortized), else grows.
void AbstractJob::add_dependent(AbstractJob& job) {
  if (dependents_.size() == dependents_.capacity()) {
    size_t dead = 0;
    for (const Link& link : dependents_) dead += link.job == nullptr;
    if (dead > 0 && 2 * dead >= dependents_.size()) {
      size_t kept = 0;
      for (const Link& link : dependents_) {
        if (link.job == nullptr) continue;
        link.job->required_.set_mirror(link.mirror, static_cast<uint32_t>(kept));
        dependents_[kept++] = link;
      }
      dependents_.resize(kept);
    }
  }
  const auto position = static_cast<uint32_t>(job.required_.size() - 1);
  job.required_.set_mirror(position, static_cast<uint32_t>(dependents_.size()));
  // Field by field: a Link built on the stack and copied whole stalls on store forwarding.
  Link& added = dependents_.emplace_back();
  added.job = &job;
  added.mirror = position;
  added.pass = internal::current_link_pass();
}

// At most one live link names `job` (require() keeps one), and a dead one names nullptr.
void AbstractJob::remove_requirement(AbstractJob* job) {
  const auto names_job = [job](const AbstractJob* required) { return required == job; };
  if (job != nullptr && drop_requirements_if(names_job) > 0) return;
  throw std::invalid_argument(absl::StrCat("asyncjobs: ", label(), " does not require ",
                                           job ? job->label() : "a null job"));
}

// The links kept move down over the dropped ones: their mirrors follow.
size_t AbstractJob::drop_requirements_if(absl::FunctionRef<bool(const AbstractJob*)> drop) {
  size_t kept = 0;
  for (size_t i = 0; i < required_.size(); ++i) {
    const Requirement requirement = required_[i];
    if (drop(requirement.job)) {
      if (requirement.job != nullptr) {
        requirement.job->dependents_[requirement.mirror].job = nullptr;
      }
      continue;
    }
    if (requirement.job != nullptr) {
      requirement.job->dependents_[requirement.mirror].mirror = static_cast<uint32_t>(kept);
    }
    required_.set(kept++, requirement);
  }
  const size_t dropped = required_.size() - kept;
  required_.truncate(kept);
  if (dropped > 0 && scheduler_ != nullptr) internal::note_member_change();
  return dropped;
}

// At death: the jobs it required forget it as a dependent, and those that required it keep
// a "deleted job" in its place (the scheduler refuses to run them, sanitize() drops it).
void AbstractJob::unlink_all() {
  for (const Requirement requirement : required_) {
    if (requirement.job != nullptr) {
      requirement.job->dependents_[requirement.mirror].job = nullptr;
    }
  }
  for (const Link& link : dependents_) {
    if (link.job != nullptr) link.job->required_.set_job(link.mirror, nullptr);
  }
}

void AbstractJob::add_requirements(const Sequence& sequence) {
  if (!sequence.jobs().empty()) add_requirement(sequence.jobs().back().get());
}

void AbstractJob::add_requirements(const std::vector<JobPtr>& jobs) {
  for (const JobPtr& job : jobs) add_requirement(job.get());
}

void AbstractJob::remove_requirements(const Sequence& sequence) {
  if (!sequence.jobs().empty()) remove_requirement(sequence.jobs().back().get());
}

void AbstractJob::remove_requirements(const std::vector<JobPtr>& jobs) {
  for (const JobPtr& job : jobs) remove_requirement(job.get());
}

// A job that is being destroyed has already unlinked itself; weak_from_this also skips a job
// that no shared_ptr owns.
std::vector<JobPtr> AbstractJob::required() const {
  std::vector<JobPtr> jobs;
  jobs.reserve(required_.size());
  for (const Requirement requirement : required_) {
    if (requirement.job == nullptr) continue;
    if (JobPtr job = requirement.job->weak_from_this().lock()) jobs.push_back(std::move(job));
  }
  return jobs;
}

}  // namespace asyncjobs
