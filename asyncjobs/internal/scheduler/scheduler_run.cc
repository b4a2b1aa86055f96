// A Scheduler's run: orchestration on a fiber, starting jobs as their requirements end,
// the jobs window, the run's deadline, and the verdict (why()).
#include "asyncjobs/scheduler.h"

#include <algorithm>
#include <exception>
#include <stdexcept>
#include <thread>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "asyncjobs/cancelled.h"
#include "asyncjobs/fiber_calls.h"
#include "asyncjobs/internal/jobs/batch_runner.h"
#include "asyncjobs/internal/scheduler/scheduler_journal.h"
#include "asyncjobs/internal/scheduler/signal_cancel.h"
#include "asyncjobs/internal/reactor/reactor.h"

namespace asyncjobs {

// Runs `body` on a root fiber of a fresh reactor on this thread; rethrows what it threw.
void Scheduler::run_on_new_reactor(AbstractJob* owner, absl::FunctionRef<void()> body) {
  struct Root {
    absl::FunctionRef<void()> body;
    std::exception_ptr error;
    Task task{&Root::main, this};
    static void main(void* self) {
      auto* root = static_cast<Root*>(self);
      try {
        root->body();
      } catch (...) {
        root->error = std::current_exception();
      }
    }
  } root{body, nullptr};
  root.task.set_owner(owner);
  root.task.set_start_failure_handler(
      [](void* self, std::exception_ptr error) { static_cast<Root*>(self)->error = error; },
      &root);
  Reactor reactor;
  reactor.spawn(&root.task);
  reactor.run();
  if (reactor.stalled()) {
    throw std::runtime_error(absl::StrCat(
        "asyncjobs: deadlock in ", owner->label(),
        ": every job waited for something no job could provide; all were cancelled"));
  }
  if (root.error) std::rethrow_exception(root.error);
}

bool Scheduler::run() {
  prepare_run(/*recursive=*/true);
  if (in_job()) return finish_run(orchestrate());
  bool ok = false;
  state_ = State::kRunning;
  run_on_new_reactor(this, [&] { ok = orchestrate(); });
  state_ = State::kDone;
  result_.set(ok);
  return finish_run(ok);
}

std::string Scheduler::format_result() const {
  const bool* ok = std::any_cast<bool>(&stored_result());
  if (ok == nullptr) return AbstractJob::format_result();
  return *ok ? "true" : "false";
}

Value Scheduler::co_run() {
  if (!prepared_) prepare_run(/*recursive=*/true);  // a parent's run() prepared it already
  const bool ok = orchestrate();
  if (draining_ && outcome_ == RunOutcome::kCancelled) throw Cancelled();  // drained
  return finish_run(ok);
}

bool Scheduler::finish_run(bool ok) const {
  if (ok || !options_.critical) return ok;
  switch (outcome_) {
    case RunOutcome::kCancelled: throw RunCancelled("run cancelled");
    case RunOutcome::kTimedOut: throw TimeoutError("critical scheduler took too long");
    case RunOutcome::kCriticalRaised:
      ASYNCJOBS_DCHECK(failed_job_ != nullptr, "a critical failure names its job");
      std::rethrow_exception(failed_job_->raised_exception());
    default: return ok;  // abandoned jobs: nothing to throw
  }
}

bool Scheduler::orchestrate() {
  ran_ = true;
  absl::Cleanup close_journal = [this] {
    if (scheduler_ == nullptr) detach_journal();
  };
  reactor_ = Reactor::current();
  internal::BatchRunner runner(*reactor_, AbstractJob::batch_hooks(this));
  runner_ = &runner;
  run_start_ = absl::Now();
  // request_cancel() reaches this run through the reactor until the run ends.
  struct RemoteCancel {
    Scheduler& scheduler;
    internal::SignalCallback signals;
    RemoteCancel(Scheduler& s)
        : scheduler(s),
          signals(s.options_.cancel_on_signals,
                  [](void* self) { static_cast<Scheduler*>(self)->request_cancel(); }, &s) {
      scheduler.reactor_->add_interrupt_handler(&scheduler);
      scheduler.remote_reactor_.store(scheduler.reactor_);
    }
    ~RemoteCancel() {
      scheduler.remote_reactor_.store(nullptr);
      // A request_cancel() from another thread is poking the reactor: a few instructions,
      // but that thread may be descheduled meanwhile, so give it the CPU.
      while (scheduler.remote_pokes_.load() > 0) std::this_thread::yield();
      Reactor::remove_interrupt_handler(&scheduler);
      scheduler.reactor_ = nullptr;
    }
  } remote_cancel(*this);
  start_watching();
  absl::Cleanup stop_watching = [this] { this->stop_watching(); };
  bool ok = false;
  try {
    ok = run_jobs();
  } catch (...) {  // this scheduler, as a job, is being cancelled
    cancel_everything();
    shutdown();
    throw;
  }
  shutdown();
  return ok;
}

bool Scheduler::run_jobs() {
  if (options_.verbose) say(absl::StrCat("entering run() with ", jobs_.size(), " jobs"));
  if (options_.timeout <= absl::ZeroDuration()) {
    failed_time_out_ = true;
    return conclude(/*started=*/false);
  }
  if (cancel_request_.load()) {  // request_cancel() before run()
    run_cancelled_ = true;
    return conclude(/*started=*/false);
  }
  const absl::Time deadline = run_start_ + options_.timeout;  // infinite: InfiniteFuture()
  // Started jobs only run once this fiber waits, after the count is complete.
  size_t cancelled_before_run = 0;  // cancel() was called on them
  // Restored jobs are counted once every ready job is (they free others, which a scan that
  // follows would count again).
  if (journal_ != nullptr) [[unlikely]] journal_->draining = true;
  if (start_plan_.valid) {
    start_from_plan();
  } else {
    cancelled_before_run = start_by_scan();
  }
  start_plan_ = {};
  until_idle_ = remaining_ == 0;  // before cancelled jobs are counted out: they were not forever
  if (journal_ != nullptr) [[unlikely]] count_restored();
  if (cancelled_before_run > 0) abandon_cancelled_before_run();
  wait_for_jobs(deadline);
  if (draining_ && !failed_critical_ && !failed_time_out_) run_cancelled_ = true;
  return conclude(/*started=*/true);
}

RunOutcome Scheduler::decide_outcome() const {
  if (run_cancelled_) return RunOutcome::kCancelled;
  if (failed_time_out_) return RunOutcome::kTimedOut;
  if (failed_critical_) return RunOutcome::kCriticalRaised;
  if (abandoned_ > 0) return RunOutcome::kAbandoned;
  return RunOutcome::kFine;
}

// The one place the run's outcome is decided; why(), finish_run() and the views read it.
// `started`: jobs were started (else the run ended before, on a zero timeout or a cancel).
bool Scheduler::conclude(bool started) {
  outcome_ = decide_outcome();
  switch (outcome_) {
    case RunOutcome::kCancelled:
      say("Scheduler.run: CANCELLED", /*always=*/true);
      if (started) say_unfinished("ABORTING");
      break;
    case RunOutcome::kTimedOut:
      say("Scheduler.run: TIMEOUT occurred", /*always=*/true);
      if (started) say_unfinished("ABORTING");
      break;
    case RunOutcome::kCriticalRaised:
      say_unfinished("ABORTING");
      say("Emergency exit upon exception in critical job", /*always=*/true);
      break;
    default:
      say_unfinished("TIDYING forever");
  }
  if (!started) return false;
  cancel_everything();
  // Ending the run cancels forever jobs (and, on failure, what still runs): none of that
  // may change the verdict.
  ASYNCJOBS_DCHECK(decide_outcome() == outcome_, "the run's outcome changed as it ended");
  return outcome_ == RunOutcome::kFine;
}

size_t Scheduler::start_by_scan() {
  remaining_ = 0;
  size_t cancelled_before_run = 0;
  constexpr size_t kAhead = 16;  // jobs are scattered in memory: fetch their flags early
  for (size_t i = 0; i < jobs_.size(); ++i) {
    if (i + kAhead < jobs_.size()) __builtin_prefetch(jobs_[i + kAhead].get());
    const JobPtr& job = jobs_[i];
    if (!job->forever_) ++remaining_;
    if (job->cancel_requested_) {
      ++cancelled_before_run;
    } else if (job->pending_requirements_ == 0) {
      schedule(job.get());
    }
  }
  return cancelled_before_run;
}

// A chain or a layered graph starts a few jobs: the plan names them, the others stay unread.
void Scheduler::start_from_plan() {
  remaining_ = start_plan_.awaited;
  constexpr size_t kAhead = 16;
  for (const auto& [begin, end] : start_plan_.ready) {
    for (uint32_t i = begin; i < end; ++i) {
      if (i + kAhead < end) __builtin_prefetch(jobs_[i + kAhead].get());
      schedule(jobs_[i].get());
    }
  }
}

bool Scheduler::finished() const {
  if (failed_critical_ || run_cancelled_) return true;
  if (until_idle_) return running_ == 0 && waiting_for_slot_.empty();
  return remaining_ == 0;
}

void Scheduler::wait_for_jobs(absl::Time deadline) {
  while (!finished()) {
    if (!wakeup_.wait(deadline, "Scheduler::run") && !finished()) {
      failed_time_out_ = true;
      return;
    }
  }
}

void Scheduler::schedule(AbstractJob* job) {
  if (journal_ != nullptr && restore(job)) [[unlikely]] return;
  if (waiting_for_slot_.empty() && has_free_slot()) {
    start_job(job);
    return;
  }
  job->state_ = State::kScheduled;
  waiting_for_slot_.push_back(job);
  fill_window();
}

bool Scheduler::has_free_slot() const {
  return options_.jobs_window == 0 || running_ < static_cast<size_t>(options_.jobs_window);
}

void Scheduler::start_job(AbstractJob* job) {
  job->start(*runner_);  // it runs once this fiber waits
  ++running_;
  say_job("STARTING", *job);
}

void Scheduler::fill_window() {
  while (!waiting_for_slot_.empty() && has_free_slot()) {
    AbstractJob* job = waiting_for_slot_.front();
    waiting_for_slot_.pop_front();
    start_job(job);
  }
}

void Scheduler::on_job_finished(AbstractJob& job) {
  --running_;
  if (aborting_) {
    if (running_ == 0) wakeup_.notify_all();
    return;
  }
  if (job.cancelled_) {  // it ended cancelled on its own: what needs it can never run
    abandon(job);
    fill_window();
    if (finished()) wakeup_.notify_all();
    return;
  }
  if (job.raised_) {
    say_job("RAISED EXC.", job);
    if (job.critical_) {
      failed_critical_ = true;
      failed_job_ = &job;
      wakeup_.notify_all();
      return;
    }
  } else {
    say_job("DONE", job);
    if (journal_ != nullptr) [[unlikely]] record(job);
  }
  if (!job.forever_) --remaining_;
  if (!starts_new_jobs()) {  // the run is ending or draining
    wakeup_.notify_all();
    return;
  }
  start_successors(job);
  fill_window();
  if (finished()) wakeup_.notify_all();
}

// The dependents this run linked (scheduler_prepare.cc) that now have all they require,
// in insertion order. By index: a job that starts may require more, and the list grow.
void Scheduler::start_successors(AbstractJob& job) {
  std::vector<AbstractJob*> ready;
  for (size_t i = 0; i < job.dependents_.size(); ++i) {
    AbstractJob* successor = linked_dependent(job.dependents_[i]);
    if (successor == nullptr) continue;
    if (--successor->pending_requirements_ != 0 || successor->cancelled_) continue;
    if (job.dependents_unordered_) {
      ready.push_back(successor);
    } else {
      schedule(successor);
    }
  }
  std::sort(ready.begin(), ready.end(), [](const AbstractJob* a, const AbstractJob* b) {
    return a->graph_index_ < b->graph_index_;
  });
  for (AbstractJob* successor : ready) schedule(successor);
}

std::string Scheduler::why() const {
  switch (outcome_) {
    case RunOutcome::kNotRun:
    case RunOutcome::kFine: return "FINE";
    case RunOutcome::kCancelled: return "CANCELLED";
    case RunOutcome::kTimedOut:
      return absl::StrCat("TIMED OUT after ",
                          absl::StrFormat("%g", absl::ToDoubleSeconds(options_.timeout)), "s");
    case RunOutcome::kCriticalRaised: return "a CRITICAL job has raised an exception";
    case RunOutcome::kAbandoned:
      return absl::StrCat(abandoned_, " job(s) could not complete: cancelled");
  }
  return "FINE";
}

}  // namespace asyncjobs
