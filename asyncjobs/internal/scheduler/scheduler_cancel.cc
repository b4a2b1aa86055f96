// Cancellation in a run: jobs counted out with what requires them, cancel() on members,
// request_cancel() from other threads and signals, the end-of-run cancel, abandoned jobs.
#include <algorithm>
#include <iostream>
#include <vector>

#include "absl/time/clock.h"
#include "asyncjobs/cancelled.h"
#include "asyncjobs/internal/jobs/batch_runner.h"
#include "asyncjobs/internal/jobs/job_run_control.h"
#include "asyncjobs/internal/scheduler/job_graph.h"
#include "asyncjobs/internal/scheduler/run_state.h"
#include "asyncjobs/scheduler.h"

namespace asyncjobs {

using internal::JobRunControl;

// Counts `job` (which ended cancelled) and every job downstream of it as cancelled: they
// will never start, and the run must not wait for them.
void Scheduler::abandon(AbstractJob& job) {
  std::vector<AbstractJob*> stack{&job};
  while (!stack.empty()) {
    AbstractJob* abandoned = stack.back();
    stack.pop_back();
    JobRunControl::count_out(*abandoned);
    if (!abandoned->forever()) run_->awaited_abandoned();
    for (const JobRunControl::Link& link : JobRunControl::dependents(*abandoned)) {
      AbstractJob* successor = graph_->linked_dependent(link);
      if (successor == nullptr) continue;
      if (!JobRunControl::ended_cancelled(*successor) && successor->is_idle()) {
        JobRunControl::count_out(*successor);
        stack.push_back(successor);
      }
    }
  }
}

void Scheduler::abandon_cancelled_before_run() {
  for (const JobPtr& job : graph_->jobs()) {
    if (JobRunControl::cancelled_before_start(*job) && !JobRunControl::ended_cancelled(*job) &&
        job->is_idle()) {
      abandon(*job);
    }
  }
}

// cancel() on a member that has not started: while the run is in progress it is counted
// out at once with what requires it; before the run, when the run starts.
void Scheduler::on_member_cancelled(AbstractJob& job) {
  if (!run_in_progress()) return;
  if (job.is_scheduled()) std::erase(run_->waiting_for_slot(), &job);
  abandon(job);
  if (run_->finished()) run_->wakeup.notify_all();
}

void Scheduler::cancel_members() {
  for (const JobPtr& job : graph_->jobs()) job->cancel();
}

void Scheduler::request_cancel() {
  cancel_request_.store(true);
  remote_pokes_.fetch_add(1);
  if (Reactor* reactor = remote_reactor_.load()) reactor->interrupt();
  remote_pokes_.fetch_sub(1);
}

void Scheduler::on_interrupt() {
  if (watching_ != nullptr) on_watched_interrupt();
  if (!cancel_request_.load() || run_->cancelled || run_->aborting) return;
  run_->cancelled = true;
  run_->wakeup.notify_all();
}

// Cancels what is still scheduled or running and waits until every started job has ended.
void Scheduler::cancel_everything() {
  internal::RunState& run = *run_;
  run.aborting = true;
  if (run.running() == 0 && run.waiting_for_slot().empty()) return;
  for (AbstractJob* job : run.waiting_for_slot()) JobRunControl::count_out(*job);
  run.waiting_for_slot().clear();
  for (const JobPtr& job : graph_->jobs()) {
    if (job->is_running()) JobRunControl::request_cancel(*job, *reactor_);
  }
  CancelShield shield;
  absl::Time deadline = absl::Now() + options_.shutdown_timeout;
  while (run.running() > 0) {
    if (!run.wakeup.wait(deadline, "Scheduler::run") && absl::Now() >= deadline) {
      abandon_refusing_jobs();
      deadline = absl::Now() + options_.shutdown_timeout;  // look again later, not in a loop
    }
  }
}

// Jobs still running `shutdown_timeout` after being cancelled, having swallowed Cancelled,
// are abandoned so that the run ends. Cleanup under a CancelShield is waited for, and so are
// nested schedulers (they give their own jobs the same time).
void Scheduler::abandon_refusing_jobs() {
  for (const JobPtr& job : graph_->jobs()) {
    if (!JobRunControl::is_unfinished(*job) || job->is_scheduler()) continue;
    if (!JobRunControl::refuses_cancel(*job)) continue;
    std::cerr << "asyncjobs: job `" << job->label() << "` of scheduler `" << label()
              << "` ignored cancellation for " << options_.shutdown_timeout
              << ": abandoned (its fiber will never resume)" << std::endl;
    JobRunControl::abandon(*job, *runner_);
    run_->job_ended();
  }
}

}  // namespace asyncjobs
