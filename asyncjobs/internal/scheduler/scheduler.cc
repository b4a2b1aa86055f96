// Scheduler construction and membership. Elsewhere: the run (scheduler_run.cc), linking
// a run (scheduler_prepare.cc), cancellation (scheduler_cancel.cc), shutdown
// (scheduler_shutdown.cc), progress messages (scheduler_progress.cc), graph queries
// (scheduler_graph.cc), and the views (listing.cc, dot.cc, trace.cc).
#include "asyncjobs/scheduler.h"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "asyncjobs/internal/memory/huge_page_growth.h"
#include "asyncjobs/internal/scheduler/scheduler_journal.h"

namespace asyncjobs {
namespace {

JobOptions job_options(const SchedulerOptions& options) {
  return JobOptions{options.label, options.critical, options.forever, options.required};
}

}  // namespace

Scheduler::Scheduler(SchedulerOptions options)
    : AbstractJob(job_options(options)), options_(std::move(options)) {
  if (options_.jobs_window < 0) {
    throw std::invalid_argument("asyncjobs: jobs_window must be >= 0 (0: no limit)");
  }
  if (options_.timeout < absl::ZeroDuration() ||
      options_.shutdown_timeout < absl::ZeroDuration()) {
    throw std::invalid_argument("asyncjobs: a scheduler's timeouts must be >= 0");
  }
  for (int signal : options_.drain_on_signals) {
    if (std::find(options_.cancel_on_signals.begin(), options_.cancel_on_signals.end(),
                  signal) != options_.cancel_on_signals.end()) {
      throw std::invalid_argument(absl::StrCat(
          "asyncjobs: signal ", signal, " is in both cancel_on_signals and drain_on_signals"));
    }
  }
  is_scheduler_ = true;
}

Scheduler::Scheduler(std::initializer_list<Schedulable> jobs, SchedulerOptions options)
    : Scheduler(std::move(options)) {
  update(jobs);
}

// Last job first: the pool's LIFO free list then hands the memory out again in address
// order (jobs are usually made in insertion order), so the next graph is built on
// contiguous memory; and each dying job unlinks itself from the jobs it requires, which are
// still alive, at the end of their dependent lists.
Scheduler::~Scheduler() {
  constexpr size_t kAhead = 16;
  for (size_t i = jobs_.size(); i-- > 0;) {  // one pass: a job often dies here too
    if (i >= kAhead) prefetch_job(jobs_[i - kAhead].get(), 0);
    JobPtr& job = jobs_[i];
    if (job->scheduler_ == this) job->scheduler_ = nullptr;
    job.reset();
  }
}

std::shared_ptr<Scheduler> make_scheduler(std::initializer_list<Schedulable> jobs,
                                          SchedulerOptions options) {
  return std::allocate_shared<Scheduler>(internal::PoolAllocator<Scheduler>(), jobs,
                                         std::move(options));
}

std::shared_ptr<Scheduler> make_scheduler(SchedulerOptions options) {
  return std::allocate_shared<Scheduler>(internal::PoolAllocator<Scheduler>(),
                                         std::move(options));
}

// --- Membership

JobPtr Scheduler::add(Schedulable schedulable) {
  check_not_started("add");
  const absl::Span<JobPtr> jobs = schedulable.mutable_jobs();
  for (const JobPtr& job : jobs) check_can_add(job);
  for (size_t i = 0; i < jobs.size(); ++i) {
    if (jobs[i]->scheduler_ == this) continue;
    if (jobs_.size() == jobs_.capacity()) internal::grow(jobs_);  // may throw: nothing changed
    jobs[i]->scheduler_ = this;
    // Moved, but for the last job, which is also returned.
    jobs_.push_back(i + 1 < jobs.size() ? std::move(jobs[i]) : jobs[i]);
  }
  return jobs.empty() ? nullptr : std::move(jobs.back());
}

void Scheduler::check_can_add(const JobPtr& job) const {
  // The common case in one test: a plain job (it cannot contain a scheduler) of no other.
  if (job && !job->is_scheduler_ && (job->scheduler_ == nullptr || job->scheduler_ == this)) {
    return;
  }
  if (!job) throw std::invalid_argument("asyncjobs: cannot add a null job");
  if (job->scheduler_ != nullptr && job->scheduler_ != this) {
    throw GraphError(absl::StrCat("asyncjobs: job `", job->label(),
                                  "` already belongs to scheduler `", job->scheduler_->label(),
                                  "`; cannot add it to `", label(), "`"));
  }
  for (const AbstractJob* outer = this; outer != nullptr; outer = outer->scheduler_) {
    if (outer == job.get()) {
      throw GraphError(absl::StrCat("asyncjobs: scheduler `", job->label(),
                                    "` cannot contain itself (adding it to `", label(), "`)"));
    }
  }
}

Scheduler& Scheduler::update(std::initializer_list<Schedulable> jobs) {
  for (const Schedulable& schedulable : jobs) {
    for (const JobPtr& job : schedulable.jobs()) check_can_add(job);
  }
  for (const Schedulable& schedulable : jobs) add(schedulable);
  return *this;
}

Scheduler& Scheduler::remove(const JobPtr& job) {
  check_not_started("remove");
  check_member(job, "remove");
  job->scheduler_ = nullptr;
  std::erase(jobs_, job);
  return *this;
}

// The graph must not change while the run is in progress (a job added then would never run).
void Scheduler::refuse_change(const char* what) const {
  throw GraphError(absl::StrCat("asyncjobs: ", what, "() on scheduler `", label(),
                                "` while it runs: the graph cannot change during a run"));
}

void Scheduler::set_jobs_window(int window) {
  if (window < 0) throw std::invalid_argument("asyncjobs: jobs_window must be >= 0 (0: no limit)");
  if (ran_) throw std::logic_error("asyncjobs: set_jobs_window() after run()");
  options_.jobs_window = window;
}

void Scheduler::set_timeout(absl::Duration timeout) {
  if (timeout < absl::ZeroDuration()) {
    throw std::invalid_argument("asyncjobs: a scheduler's timeout must be >= 0");
  }
  if (ran_) throw std::logic_error("asyncjobs: set_timeout() after run()");
  options_.timeout = timeout;
}

void Scheduler::check_member(const JobPtr& job, const char* what) const {
  if (!job || !member(job.get())) {
    throw std::invalid_argument(absl::StrCat("asyncjobs: ", what, ": job `",
                                             job ? job->label() : "null",
                                             "` is not in scheduler `", label(), "`"));
  }
}

std::vector<JobPtr> Scheduler::iterate_jobs(bool scan_schedulers) const {
  std::vector<JobPtr> all;
  if (scan_schedulers) {
    JobPtr self = std::const_pointer_cast<AbstractJob>(weak_from_this().lock());
    // A scheduler on the stack is not owned by a shared_ptr: a non-owning one stands for it.
    if (!self) self = JobPtr(JobPtr(), const_cast<Scheduler*>(this));
    all.push_back(std::move(self));
  }
  for (const JobPtr& job : jobs_) {
    if (job->is_scheduler_) {
      std::vector<JobPtr> nested = static_cast<Scheduler&>(*job).iterate_jobs(scan_schedulers);
      all.insert(all.end(), nested.begin(), nested.end());
    } else {
      all.push_back(job);
    }
  }
  return all;
}

}  // namespace asyncjobs
