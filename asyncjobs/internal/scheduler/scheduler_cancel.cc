// Cancellation in a run: jobs counted out with what requires them, cancel() on members,
// request_cancel() from other threads and signals, the end-of-run cancel, abandoned jobs.
#include <algorithm>
#include <iostream>
#include <vector>

#include "absl/time/clock.h"
#include "asyncjobs/cancelled.h"
#include "asyncjobs/internal/jobs/batch_runner.h"
#include "asyncjobs/scheduler.h"

namespace asyncjobs {

// Counts `job` (which ended cancelled) and every job downstream of it as cancelled: they
// will never start, and the run must not wait for them.
void Scheduler::abandon(AbstractJob& job) {
  std::vector<AbstractJob*> stack{&job};
  while (!stack.empty()) {
    AbstractJob* abandoned = stack.back();
    stack.pop_back();
    abandoned->cancelled_ = true;
    if (!abandoned->forever_) {
      --remaining_;
      ++abandoned_;
    }
    for (const Link& link : abandoned->dependents_) {
      AbstractJob* successor = linked_dependent(link);
      if (successor == nullptr) continue;
      if (!successor->cancelled_ && successor->state_ == State::kIdle) {
        successor->cancelled_ = true;
        stack.push_back(successor);
      }
    }
  }
}

void Scheduler::abandon_cancelled_before_run() {
  for (const JobPtr& job : jobs_) {
    if (job->cancel_requested_ && !job->cancelled_ && job->state_ == State::kIdle) abandon(*job);
  }
}

// cancel() on a member that has not started: while the run is in progress it is counted
// out at once with what requires it; before the run, when the run starts.
void Scheduler::on_member_cancelled(AbstractJob& job) {
  if (!run_in_progress()) return;
  if (job.state_ == State::kScheduled) std::erase(waiting_for_slot_, &job);
  abandon(job);
  if (finished()) wakeup_.notify_all();
}

void Scheduler::cancel_members() {
  for (const JobPtr& job : jobs_) job->cancel();
}

void Scheduler::request_cancel() {
  cancel_request_.store(true);
  remote_pokes_.fetch_add(1);
  if (Reactor* reactor = remote_reactor_.load()) reactor->interrupt();
  remote_pokes_.fetch_sub(1);
}

void Scheduler::on_interrupt() {
  if (watching_ != nullptr) on_watched_interrupt();
  if (!cancel_request_.load() || run_cancelled_ || aborting_) return;
  run_cancelled_ = true;
  wakeup_.notify_all();
}

// Cancels what is still scheduled or running and waits until every started job has ended.
void Scheduler::cancel_everything() {
  aborting_ = true;
  if (running_ == 0 && waiting_for_slot_.empty()) return;
  for (AbstractJob* job : waiting_for_slot_) job->cancelled_ = true;
  waiting_for_slot_.clear();
  for (const JobPtr& job : jobs_) {
    if (job->state_ == State::kRunning) job->request_cancel(*reactor_);
  }
  CancelShield shield;
  absl::Time deadline = absl::Now() + options_.shutdown_timeout;
  while (running_ > 0) {
    if (!wakeup_.wait(deadline, "Scheduler::run") && absl::Now() >= deadline) {
      abandon_refusing_jobs();
      deadline = absl::Now() + options_.shutdown_timeout;  // look again later, not in a loop
    }
  }
}

// Jobs still running `shutdown_timeout` after being cancelled, having swallowed Cancelled,
// are abandoned so that the run ends. Cleanup under a CancelShield is waited for, and so are
// nested schedulers (they give their own jobs the same time).
void Scheduler::abandon_refusing_jobs() {
  for (const JobPtr& job : jobs_) {
    if (!job->is_unfinished() || job->is_scheduler_) continue;
    if (!job->work_.task()->refuses_cancel()) continue;
    std::cerr << "asyncjobs: job `" << job->label() << "` of scheduler `" << label()
              << "` ignored cancellation for " << options_.shutdown_timeout
              << ": abandoned (its fiber will never resume)" << std::endl;
    runner_->abandon(&job->work_);
    job->abandoned_ = true;
    job->cancelled_ = true;
    --running_;
  }
}

}  // namespace asyncjobs
