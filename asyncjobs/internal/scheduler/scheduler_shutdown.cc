// Shutdown: every job's co_shutdown(), concurrently, within shutdown_timeout
// (internal::Shutdown), and Scheduler::shutdown, which makes it once.
#include "asyncjobs/internal/scheduler/shutdown.h"

#include <iostream>
#include <typeinfo>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "absl/time/clock.h"
#include "asyncjobs/cancelled.h"
#include "asyncjobs/fiber_calls.h"
#include "asyncjobs/internal/jobs/batch_runner.h"
#include "asyncjobs/internal/jobs/job_run_control.h"
#include "asyncjobs/internal/scheduler/job_graph.h"
#include "asyncjobs/internal/scheduler/run.h"
#include "asyncjobs/internal/scheduler/scheduler_progress.h"
#include "asyncjobs/internal/base/clock.h"
#include "asyncjobs/internal/sync/wait_list.h"
#include "asyncjobs/scheduler.h"

namespace asyncjobs {

void Scheduler::co_shutdown() { shutdown(); }

bool Scheduler::shutdown() {
  if (shutdown_ != nullptr) return shutdown_->ok();  // done, or in progress
  shutdown_ = std::make_unique<internal::Shutdown>(*this, *graph_);
  if (in_job()) {
    shutdown_->run();
  } else {
    internal::run_on_new_reactor(this, [&] { shutdown_->run(); });
  }
  return shutdown_->ok();
}

const std::vector<Scheduler::ShutdownError>& Scheduler::shutdown_errors() const {
  static const std::vector<ShutdownError> kNone;
  return shutdown_ != nullptr ? shutdown_->errors() : kNone;
}

namespace internal {

// Calls co_shutdown() of every job concurrently, on a BatchRunner (as few fibers as that
// takes), and cancels the calls still running at the deadline.
class ShutdownRunner : public JobObserver {
 public:
  ShutdownRunner(absl::Span<const JobPtr> jobs, Reactor& reactor)
      : jobs_(jobs),
        reactor_(reactor),
        runner_(reactor, JobRunControl::hooks_for(&ShutdownRunner::shut_down,
                                                  &ShutdownRunner::fail, this)) {}

  // Returns how many co_shutdown() calls had not returned within `timeout`.
  size_t run(absl::Duration timeout) {
    pending_ = jobs_.size();
    if (pending_ == 0) return 0;
    for (const JobPtr& job : jobs_) {
      if (!may_shut_down(*job)) {
        --pending_;
        continue;
      }
      runner_.submit(JobRunControl::work(*job));
    }
    if (pending_ == 0) return 0;
    const absl::Time deadline = absl::Now() + timeout;
    while (pending_ > 0 && done_.wait(deadline, "Scheduler::shutdown")) {
    }
    const size_t late = pending_;
    late_ = true;  // calls not started yet are skipped
    for (const JobPtr& job : jobs_) {
      if (Task* task = JobRunControl::work(*job)->task()) reactor_.cancel(task);
    }
    // A call that swallows Cancelled for as long again is abandoned (see abandon_refusing_jobs).
    const absl::Time last = absl::Now() + timeout;
    while (pending_ > 0 && done_.wait(last, "Scheduler::shutdown")) {
    }
    for (const JobPtr& job : jobs_) {
      if (!JobRunControl::has_fiber(*job)) continue;
      std::cerr << "asyncjobs: co_shutdown() of `" << job->label()
                << "` ignored cancellation: abandoned (its fiber will never resume)" << std::endl;
      runner_.abandon(JobRunControl::work(*job));
      --pending_;
    }
    return late;
  }

  // What co_shutdown() calls raised (not counting cancellations of late ones).
  const std::vector<std::pair<const AbstractJob*, std::exception_ptr>>& errors() const {
    return errors_;
  }

 private:
  static int64_t shut_down(WorkItem* item, int64_t, void* context) {
    AbstractJob& job = JobRunControl::job_of(item);
    auto& self = *static_cast<ShutdownRunner*>(context);
    if (!self.late_) {
      try {  // a failed or cancelled shutdown must not stop the others
        job.co_shutdown();
      } catch (const Cancelled&) {
      } catch (...) {
        self.errors_.emplace_back(&job, std::current_exception());
      }
    }
    self.on_job_finished(job);
    return internal::clock_ticks();
  }

  static void fail(WorkItem* item, std::exception_ptr error, void* context) {
    AbstractJob& job = JobRunControl::job_of(item);
    auto& self = *static_cast<ShutdownRunner*>(context);
    self.errors_.emplace_back(&job, error);
    self.on_job_finished(job);
  }

  void on_job_finished(AbstractJob&) override {
    if (--pending_ == 0) done_.notify_all();
  }

  absl::Span<const JobPtr> jobs_;
  Reactor& reactor_;
  BatchRunner runner_;
  size_t pending_ = 0;
  bool late_ = false;
  WaitList done_;
  std::vector<std::pair<const AbstractJob*, std::exception_ptr>> errors_;
};

bool Shutdown::run() {
  CancelShield shield;  // shutdown also runs while its scheduler is being cancelled
  say(scheduler_, "scheduler is shutting down...");
  // Only plain Jobs, whose co_shutdown() is empty.
  if (graph_.custom_shutdowns() == 0) return ok_;
  const auto& jobs = graph_.jobs();
  ShutdownRunner runner(jobs, *Reactor::current());
  const size_t late = runner.run(scheduler_.options().shutdown_timeout);
  if (late > 0) {
    say(scheduler_,
        absl::StrCat("WARNING: ", late, "/", jobs.size(),
                     " co_shutdown() methods have not returned within timeout"),
        /*always=*/true);
  }
  for (const auto& [job, error] : runner.errors()) {
    errors_.push_back({job->label(), error});
    say(scheduler_,
        absl::StrCat("WARNING: co_shutdown() of `", job->label(), "` raised an exception"),
        /*always=*/true);
  }
  ok_ = late == 0 && runner.errors().empty();
  return ok_;
}

}  // namespace internal
}  // namespace asyncjobs
