// A Scheduler's run: preparing it, Run's orchestration on a fiber (starting jobs as their
// requirements end, the jobs window, the run's deadline, the outcome), and the verdict the
// Scheduler returns, throws and tells (why()).
#include "asyncjobs/internal/scheduler/run.h"

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
#include "asyncjobs/internal/jobs/job_run_control.h"
#include "asyncjobs/internal/scheduler/job_graph.h"
#include "asyncjobs/internal/scheduler/run_state.h"
#include "asyncjobs/internal/scheduler/scheduler_journal.h"
#include "asyncjobs/internal/scheduler/signal_cancel.h"
#include "asyncjobs/internal/reactor/reactor.h"
#include "asyncjobs/scheduler.h"

namespace asyncjobs {

using internal::JobRunControl;
using internal::Run;

namespace internal {

void run_on_new_reactor(AbstractJob* owner, absl::FunctionRef<void()> body) {
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

}  // namespace internal

void Scheduler::prepare_run(bool recursive) {
  if (ran_) {
    throw GraphError(absl::StrCat("asyncjobs: scheduler `", label(), "` has already run"));
  }
  graph_->link();
  if (recursive) {
    for (Scheduler* nested : graph_->nested()) {
      nested->prepare_run(true);
      nested->graph_->take_start_plan();  // other jobs run before it starts
    }
  }
  run_ = std::make_unique<Run>(*this, *graph_);
  if (recursive && parent() == nullptr && !options_.journal.empty()) [[unlikely]] {
    try {
      run_->open_journal();
    } catch (...) {
      run_.reset();  // not prepared
      throw;
    }
  }
}

bool Scheduler::run() {
  prepare_run(/*recursive=*/true);
  if (in_job()) return finish_run(run_->orchestrate());
  bool ok = false;
  JobRunControl::begin_own_run(*this);
  try {
    internal::run_on_new_reactor(this, [&] { ok = run_->orchestrate(); });
  } catch (...) {
    if (!ran_) JobRunControl::undo_own_run(*this);  // it did not start: it may run again
    throw;
  }
  JobRunControl::end_own_run(*this, ok);
  return finish_run(ok);
}

std::string Scheduler::format_result() const {
  const bool* ok = std::any_cast<bool>(&stored_result());
  if (ok == nullptr) return AbstractJob::format_result();
  return *ok ? "true" : "false";
}

Value Scheduler::co_run() {
  if (run_ == nullptr) prepare_run(/*recursive=*/true);  // a parent's run() prepared it already
  const bool ok = run_->orchestrate();
  if (run_->state().draining && run_->state().outcome() == RunOutcome::kCancelled) {
    throw Cancelled();  // drained
  }
  return finish_run(ok);
}

bool Scheduler::finish_run(bool ok) const {
  if (ok || !options_.critical) return ok;
  const internal::RunState& run = run_->state();
  switch (run.outcome()) {
    case RunOutcome::kCancelled: throw RunCancelled("run cancelled");
    case RunOutcome::kTimedOut: throw TimeoutError("critical scheduler took too long");
    case RunOutcome::kCriticalRaised:
      ASYNCJOBS_DCHECK(run.failed_job != nullptr, "a critical failure names its job");
      std::rethrow_exception(run.failed_job->raised_exception());
    default: return ok;  // abandoned jobs: nothing to throw
  }
}

namespace internal {

Run::Run(Scheduler& scheduler, JobGraph& graph)
    : scheduler_(scheduler), graph_(graph), options_(scheduler.options()) {}

bool Run::orchestrate() {
  scheduler_.ran_ = true;
  absl::Cleanup close_journal = [this] {
    if (scheduler_.parent() == nullptr) detach_journal();
  };
  reactor_ = Reactor::current();
  window_ = options_.jobs_window;
  verbose_ = options_.verbose;
  BatchRunner runner(*reactor_, JobRunControl::batch_hooks(this));
  runner_ = &runner;
  start_ = absl::Now();
  // request_cancel() reaches this run through the reactor until the run ends.
  const SignalCallback cancel_signals(
      options_.cancel_on_signals,
      [](void* scheduler) { static_cast<Scheduler*>(scheduler)->request_cancel(); }, &scheduler_);
  reactor_->add_interrupt_handler(this);
  scheduler_.remote_reactor_.store(reactor_);
  const absl::Cleanup end_remote_cancel = [this] {
    scheduler_.remote_reactor_.store(nullptr);
    // A request_cancel() from another thread is poking the reactor: a few instructions,
    // but that thread may be descheduled meanwhile, so give it the CPU.
    while (scheduler_.remote_pokes_.load() > 0) std::this_thread::yield();
    Reactor::remove_interrupt_handler(this);
    reactor_ = nullptr;
  };
  start_watching();
  absl::Cleanup stop_watching = [this] { this->stop_watching(); };
  bool ok = false;
  try {
    ok = run_jobs();
  } catch (...) {  // the scheduler, as a job, is being cancelled
    cancel_everything();
    scheduler_.shutdown();
    throw;
  }
  scheduler_.shutdown();
  return ok;
}

bool Run::run_jobs() {
  RunState& run = state_;
  const size_t members = graph_.jobs().size();
  if (verbose_) say(absl::StrCat("entering run() with ", members, " jobs"));
  run.begin(members);
  if (options_.timeout <= absl::ZeroDuration()) {
    run.failed_time_out = true;
    return conclude(/*started=*/false);
  }
  if (scheduler_.cancel_request_.load()) {  // request_cancel() before run()
    run.cancelled = true;
    return conclude(/*started=*/false);
  }
  const absl::Time deadline = start_ + options_.timeout;  // infinite: InfiniteFuture()
  // Started jobs only run once this fiber waits, after the count is complete.
  size_t cancelled_before_run = 0;  // cancel() was called on them
  // Restored jobs are counted once every ready job is (they free others, which a scan that
  // follows would count again).
  if (journal_ != nullptr) [[unlikely]] journal_->draining = true;
  if (graph_.start_plan_valid()) {
    start_from_plan();
  } else {
    cancelled_before_run = start_by_scan();
  }
  // Before cancelled jobs are counted out: they were not forever.
  run.until_idle = run.remaining() == 0;
  if (journal_ != nullptr) [[unlikely]] count_restored();
  if (cancelled_before_run > 0) abandon_cancelled_before_run();
  wait_for_jobs(deadline);
  if (run.draining && !run.failed_critical && !run.failed_time_out) run.cancelled = true;
  return conclude(/*started=*/true);
}

// The one place the run's outcome is decided; why(), finish_run() and the views read it.
// `started`: jobs were started (else the run ended before, on a zero timeout or a cancel).
bool Run::conclude(bool started) {
  const RunOutcome outcome = state_.conclude();
  switch (outcome) {
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
  ASYNCJOBS_DCHECK(state_.decide() == outcome, "the run's outcome changed as it ended");
  return outcome == RunOutcome::kFine;
}

size_t Run::start_by_scan() {
  graph_.take_start_plan();
  const auto& jobs = graph_.jobs();
  size_t awaited = 0;
  size_t cancelled_before_run = 0;
  constexpr size_t kAhead = 16;  // jobs are scattered in memory: fetch their flags early
  for (size_t i = 0; i < jobs.size(); ++i) {
    if (i + kAhead < jobs.size()) __builtin_prefetch(jobs[i + kAhead].get());
    AbstractJob& job = *jobs[i];
    awaited += !job.forever();
    if (JobRunControl::cancelled_before_start(job)) {
      ++cancelled_before_run;
    } else if (JobRunControl::pending_requirements(job) == 0) {
      schedule(&job);
    }
  }
  state_.await(awaited);
  return cancelled_before_run;
}

// A chain or a layered graph starts a few jobs: the plan names them, the others stay unread.
void Run::start_from_plan() {
  const JobGraph::StartPlan plan = graph_.take_start_plan();
  const auto& jobs = graph_.jobs();
  state_.await(plan.awaited);
  size_t ready = 0;
  for (const auto& [begin, end] : plan.ready) ready += end - begin;
  runner_->reserve(ready);
  constexpr size_t kAhead = 16;
  for (const auto& [begin, end] : plan.ready) {
    for (uint32_t i = begin; i < end; ++i) {
      if (i + kAhead < end) __builtin_prefetch(jobs[i + kAhead].get());
      schedule(jobs[i].get());
    }
  }
}

void Run::wait_for_jobs(absl::Time deadline) {
  RunState& run = state_;
  while (!run.finished()) {
    if (!run.wakeup.wait(deadline, "Scheduler::run") && !run.finished()) {
      run.failed_time_out = true;
      return;
    }
  }
}

void Run::schedule(AbstractJob* job) {
  RunState& run = state_;
  if (journal_ == nullptr && run.waiting_for_slot().empty() && run.has_free_slot(window_))
      [[likely]] {
    start_job(job);
    return;
  }
  schedule_otherwise(job);
}

// Out of line: the common case above is then small enough to be inlined where it is called.
void Run::schedule_otherwise(AbstractJob* job) {
  if (journal_ != nullptr && restore(job)) return;
  RunState& run = state_;
  if (run.waiting_for_slot().empty() && run.has_free_slot(window_)) {
    start_job(job);
    return;
  }
  JobRunControl::schedule(*job);
  run.waiting_for_slot().push_back(job);
  fill_window();
}

void Run::start_job(AbstractJob* job) {
  JobRunControl::start(*job, *runner_);  // it runs once this fiber waits
  state_.job_started();
  say_job("STARTING", *job);
}

// Called at every job's end: the usual case, nothing waiting, keeps no register.
void Run::fill_window() {
  if (!state_.waiting_for_slot().empty()) [[unlikely]] start_waiting_jobs();
}

void Run::start_waiting_jobs() {
  RunState& run = state_;
  while (!run.waiting_for_slot().empty() && run.has_free_slot(window_)) {
    AbstractJob* job = run.waiting_for_slot().front();
    run.waiting_for_slot().pop_front();
    start_job(job);
  }
}

void Run::on_job_finished(AbstractJob& job) {
  RunState& run = state_;
  run.job_ended();
  if (run.aborting) {
    if (run.running() == 0) run.wakeup.notify_all();
    return;
  }
  if (JobRunControl::ended_cancelled(job)) {  // on its own: what needs it can never run
    abandon(job);
    fill_window();
    if (run.finished()) run.wakeup.notify_all();
    return;
  }
  if (JobRunControl::raised(job)) {
    say_job("RAISED EXC.", job);
    if (job.critical()) {
      run.failed_critical = true;
      run.failed_job = &job;
      run.wakeup.notify_all();
      return;
    }
  } else {
    say_job("DONE", job);
    if (journal_ != nullptr) [[unlikely]] record(job);
  }
  if (!job.forever()) run.awaited_done();
  if (!run.starts_new_jobs()) {  // the run is ending or draining
    run.wakeup.notify_all();
    return;
  }
  start_successors(job);
  fill_window();
  if (run.finished()) run.wakeup.notify_all();
}

namespace {

// The dependent at the other end of `link` (if this run linked it), counted down: itself
// when that freed it.
AbstractJob* ready_successor(const JobGraph& graph, const JobRunControl::Link& link) {
  AbstractJob* successor = graph.linked_dependent(link);
  if (successor == nullptr) return nullptr;
  if (--JobRunControl::pending_requirements(*successor) != 0) return nullptr;
  if (JobRunControl::ended_cancelled(*successor)) return nullptr;
  return successor;
}

}  // namespace

// The dependents this run linked (job_graph_link.cc) that now have all they require,
// in insertion order. By index: a job that starts may require more, and the list grow.
void Run::start_successors(AbstractJob& job) {
  if (JobRunControl::dependents_unordered(job)) [[unlikely]] {
    start_sorted_successors(job);
    return;
  }
  const auto& dependents = JobRunControl::dependents(job);
  for (size_t i = 0; i < dependents.size(); ++i) {
    if (AbstractJob* successor = ready_successor(graph_, dependents[i])) schedule(successor);
  }
}

// Out of line: its list and sort would cost every job's call saved registers.
void Run::start_sorted_successors(AbstractJob& job) {
  const auto& dependents = JobRunControl::dependents(job);
  std::vector<AbstractJob*> ready;
  for (size_t i = 0; i < dependents.size(); ++i) {
    if (AbstractJob* successor = ready_successor(graph_, dependents[i])) ready.push_back(successor);
  }
  std::sort(ready.begin(), ready.end(), [](const AbstractJob* a, const AbstractJob* b) {
    return JobRunControl::graph_index(*a) < JobRunControl::graph_index(*b);
  });
  for (AbstractJob* successor : ready) schedule(successor);
}

}  // namespace internal

std::string Scheduler::why() const {
  if (run_ == nullptr) return "FINE";  // not run
  switch (run_->state().outcome()) {
    case RunOutcome::kNotRun:
    case RunOutcome::kFine: return "FINE";
    case RunOutcome::kCancelled: return "CANCELLED";
    case RunOutcome::kTimedOut:
      return absl::StrCat("TIMED OUT after ",
                          absl::StrFormat("%g", absl::ToDoubleSeconds(options_.timeout)), "s");
    case RunOutcome::kCriticalRaised: return "a CRITICAL job has raised an exception";
    case RunOutcome::kAbandoned:
      return absl::StrCat(run_->state().abandoned(), " job(s) could not complete: cancelled");
  }
  return "FINE";
}

}  // namespace asyncjobs
