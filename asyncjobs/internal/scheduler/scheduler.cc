// Scheduler construction, options, and the graph API, which JobGraph holds (job_graph.cc,
// linking in job_graph_link.cc). Elsewhere: the run, which internal::Run orchestrates
// (run.h; scheduler_run.cc, its counters and outcome in run_state.h), cancellation
// (scheduler_cancel.cc), shutdown (internal::Shutdown, scheduler_shutdown.cc), progress
// messages (scheduler_progress.cc), and the views (listing.cc, dot.cc, trace.cc).
#include "asyncjobs/scheduler.h"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "asyncjobs/internal/jobs/job_run_control.h"
#include "asyncjobs/internal/scheduler/job_graph.h"
#include "asyncjobs/internal/scheduler/run.h"
#include "asyncjobs/internal/scheduler/run_state.h"
#include "asyncjobs/internal/scheduler/scheduler_journal.h"
#include "asyncjobs/internal/scheduler/shutdown.h"

namespace asyncjobs {
namespace {

JobOptions job_options(const SchedulerOptions& options) {
  return JobOptions{options.label, options.critical, options.forever, options.required};
}

}  // namespace

Scheduler::Scheduler(SchedulerOptions options)
    : AbstractJob(job_options(options)),
      options_(std::move(options)),
      graph_(std::make_unique<internal::JobGraph>(*this)) {
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
  internal::JobRunControl::mark_scheduler(*this);
}

Scheduler::Scheduler(std::initializer_list<Schedulable> jobs, SchedulerOptions options)
    : Scheduler(std::move(options)) {
  update(jobs);
}

Scheduler::~Scheduler() = default;  // the graph releases the jobs

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
  return graph_->add(schedulable.mutable_jobs());
}

Scheduler& Scheduler::update(std::initializer_list<Schedulable> jobs) {
  for (const Schedulable& schedulable : jobs) {
    for (const JobPtr& job : schedulable.jobs()) graph_->check_can_add(job);
  }
  for (const Schedulable& schedulable : jobs) add(schedulable);
  return *this;
}

Scheduler& Scheduler::remove(const JobPtr& job) {
  check_not_started("remove");
  graph_->remove(job);
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

std::vector<JobPtr> Scheduler::iterate_jobs(bool scan_schedulers) const {
  std::vector<JobPtr> all;
  if (scan_schedulers) {
    JobPtr self = std::const_pointer_cast<AbstractJob>(weak_from_this().lock());
    // A scheduler on the stack is not owned by a shared_ptr: a non-owning one stands for it.
    if (!self) self = JobPtr(JobPtr(), const_cast<Scheduler*>(this));
    all.push_back(std::move(self));
  }
  for (const JobPtr& job : graph_->jobs()) {
    if (job->is_scheduler()) {
      std::vector<JobPtr> nested = static_cast<Scheduler&>(*job).iterate_jobs(scan_schedulers);
      all.insert(all.end(), nested.begin(), nested.end());
    } else {
      all.push_back(job);
    }
  }
  return all;
}

size_t Scheduler::size() const { return graph_->jobs().size(); }

std::vector<JobPtr> Scheduler::jobs() const {
  return {graph_->jobs().begin(), graph_->jobs().end()};
}

bool Scheduler::failed_critical() const { return run_ != nullptr && run_->state().failed_critical; }
bool Scheduler::failed_time_out() const { return run_ != nullptr && run_->state().failed_time_out; }
RunOutcome Scheduler::outcome() const {
  return run_ != nullptr ? run_->state().outcome() : RunOutcome::kNotRun;
}
absl::Time Scheduler::run_start() const {
  return run_ != nullptr ? run_->start_time() : absl::InfinitePast();
}

// AbstractJob's hooks for events of a member's body: the run in progress hears them.
internal::JobObserver* Scheduler::member_events() {
  return run_ != nullptr ? run_->member_events() : nullptr;
}

// --- Graph (JobGraph)

bool Scheduler::check_cycles() const { return graph_->check_cycles(); }
bool Scheduler::sanitize(bool verbose) { return graph_->sanitize(verbose); }
std::vector<JobPtr> Scheduler::topological_order() const { return graph_->topological_order(); }
std::vector<JobPtr> Scheduler::entry_jobs() const { return graph_->entry_jobs(); }

std::vector<JobPtr> Scheduler::exit_jobs(bool discard_forever) const {
  return graph_->exit_jobs(discard_forever);
}

std::vector<JobPtr> Scheduler::predecessors(const JobPtr& job) const {
  return graph_->predecessors(job);
}

std::vector<JobPtr> Scheduler::successors(const JobPtr& job) const {
  return graph_->successors(job);
}

std::vector<JobPtr> Scheduler::predecessors_upstream(const JobPtr& job) const {
  return graph_->neighbours({job}, "predecessors_upstream", false, true);
}

std::vector<JobPtr> Scheduler::successors_downstream(const JobPtr& job) const {
  return graph_->neighbours({job}, "successors_downstream", true, true);
}

std::vector<JobPtr> Scheduler::predecessors(const std::vector<JobPtr>& jobs) const {
  return graph_->neighbours(jobs, "predecessors", false, false);
}

std::vector<JobPtr> Scheduler::successors(const std::vector<JobPtr>& jobs) const {
  return graph_->neighbours(jobs, "successors", true, false);
}

std::vector<JobPtr> Scheduler::predecessors_upstream(const std::vector<JobPtr>& jobs) const {
  return graph_->neighbours(jobs, "predecessors_upstream", false, true);
}

std::vector<JobPtr> Scheduler::successors_downstream(const std::vector<JobPtr>& jobs) const {
  return graph_->neighbours(jobs, "successors_downstream", true, true);
}

void Scheduler::bypass_and_remove(const JobPtr& job) {
  check_not_started("remove");
  graph_->bypass_and_remove(job);
}

void Scheduler::keep_only(const std::vector<JobPtr>& jobs) { graph_->keep_only(jobs); }

void Scheduler::keep_only_between(const std::vector<JobPtr>& starts,
                                  const std::vector<JobPtr>& ends, bool keep_starts,
                                  bool keep_ends) {
  graph_->keep_only_between(starts, ends, keep_starts, keep_ends);
}

}  // namespace asyncjobs
