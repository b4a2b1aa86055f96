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
#include "asyncjobs/internal/scheduler/run.h"
#include "asyncjobs/internal/scheduler/run_state.h"
#include "asyncjobs/internal/reactor/reactor.h"
#include "asyncjobs/scheduler.h"

namespace asyncjobs {

// --- The Scheduler's side: what reaches the run from jobs, other threads and signals.

void Scheduler::on_member_cancelled(AbstractJob& job) {
  if (run_ != nullptr) run_->on_member_cancelled(job);
}

void Scheduler::cancel_members() {
  for (const JobPtr& job : graph_->jobs()) job->cancel();
}

void Scheduler::request_cancel() {
  cancel_request_.store(true);
  interrupt_run();
}

// Async-signal-safe, from any thread: the run, once it is in progress, reads the flags on
// its loop (Run::on_interrupt). It waits for the pokes under way before its reactor goes.
void Scheduler::interrupt_run() {
  remote_pokes_.fetch_add(1);
  if (Reactor* reactor = remote_reactor_.load()) reactor->interrupt();
  remote_pokes_.fetch_sub(1);
}

namespace internal {

// Counts `job` (which ended cancelled) and every job downstream of it as cancelled: they
// will never start, and the run must not wait for them.
void Run::abandon(AbstractJob& job) {
  std::vector<AbstractJob*> stack{&job};
  while (!stack.empty()) {
    AbstractJob* abandoned = stack.back();
    stack.pop_back();
    JobRunControl::count_out(*abandoned);
    if (!abandoned->forever()) state_.awaited_abandoned();
    for (const JobRunControl::Link& link : JobRunControl::dependents(*abandoned)) {
      AbstractJob* successor = graph_.linked_dependent(link);
      if (successor == nullptr) continue;
      if (!JobRunControl::ended_cancelled(*successor) && successor->is_idle()) {
        JobRunControl::count_out(*successor);
        stack.push_back(successor);
      }
    }
  }
}

void Run::abandon_cancelled_before_run() {
  for (const JobPtr& job : graph_.jobs()) {
    if (JobRunControl::cancelled_before_start(*job) && !JobRunControl::ended_cancelled(*job) &&
        job->is_idle()) {
      abandon(*job);
    }
  }
}

// cancel() on a member that has not started: while the run is in progress it is counted
// out at once with what requires it; before the run, when the run starts.
void Run::on_member_cancelled(AbstractJob& job) {
  if (!in_progress()) return;
  if (job.is_scheduled()) std::erase(state_.waiting_for_slot(), &job);
  abandon(job);
  if (state_.finished()) state_.wakeup.notify_all();
}

void Run::on_interrupt() {
  if (watching_ != nullptr) on_watched_interrupt();
  if (!scheduler_.cancel_request_.load() || state_.cancelled || state_.aborting) return;
  state_.cancelled = true;
  state_.wakeup.notify_all();
}

// Cancels what is still scheduled or running and waits until every started job has ended.
void Run::cancel_everything() {
  RunState& run = state_;
  run.aborting = true;
  if (run.running() == 0 && run.waiting_for_slot().empty()) return;
  for (AbstractJob* job : run.waiting_for_slot()) JobRunControl::count_out(*job);
  run.waiting_for_slot().clear();
  for (const JobPtr& job : graph_.jobs()) {
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
void Run::abandon_refusing_jobs() {
  for (const JobPtr& job : graph_.jobs()) {
    if (!JobRunControl::is_unfinished(*job) || job->is_scheduler()) continue;
    if (!JobRunControl::refuses_cancel(*job)) continue;
    std::cerr << "asyncjobs: job `" << job->label() << "` of scheduler `" << scheduler_.label()
              << "` ignored cancellation for " << options_.shutdown_timeout
              << ": abandoned (its fiber will never resume)" << std::endl;
    JobRunControl::abandon(*job, *runner_);
    state_.job_ended();
  }
}

}  // namespace internal
}  // namespace asyncjobs
