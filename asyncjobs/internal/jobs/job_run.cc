// A job's run on a fiber: started on a BatchRunner, its attempts (timeout, retries),
// cancellation, and standalone_run.
#include <exception>
#include <stdexcept>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "asyncjobs/cancelled.h"
#include "asyncjobs/fiber_calls.h"
#include "asyncjobs/internal/base/clock.h"
#include "asyncjobs/internal/base/prefetch.h"
#include "asyncjobs/internal/jobs/batch_runner.h"
#include "asyncjobs/internal/jobs/job_extras.h"
#include "asyncjobs/internal/jobs/job_layout.h"
#include "asyncjobs/internal/jobs/job_text.h"
#include "asyncjobs/internal/jobs/link_stamps.h"
#include "asyncjobs/internal/sync/wait_list.h"
#include "asyncjobs/job.h"
#include "asyncjobs/internal/reactor/reactor.h"

namespace asyncjobs {
namespace {

// The messages of rare ends, out of line: building them takes a stack buffer, and with it
// a stack-protector check and saved registers in every call of the functions they leave.
[[noreturn, gnu::cold, gnu::noinline]] void throw_already_run(const AbstractJob& job) {
  throw std::logic_error(absl::StrCat("asyncjobs: job ", job.label(), " has already run"));
}

[[gnu::cold, gnu::noinline]] std::exception_ptr timeout_error(const AbstractJob& job,
                                                              absl::Duration timeout) {
  return std::make_exception_ptr(TimeoutError(absl::StrCat(
      "job `", job.label(), "` timed out after ", absl::FormatDuration(timeout))));
}

}  // namespace

void AbstractJob::start(internal::BatchRunner& runner) {
  if (started_) throw_already_run(*this);
  const State before = state_;
  started_ = true;
  move_to(State::kRunning);
  try {
    runner.submit(&work_);
  } catch (...) {  // no memory for a runner: it did not start
    started_ = false;
    state_ = before;  // undone: not a move of the job's life
    throw;
  }
}

void AbstractJob::request_cancel(Reactor& reactor) {
  cancel_requested_ = true;
  if (work_.task() != nullptr) reactor.cancel(work_.task());
}

void AbstractJob::cancel() {
  if (state_ == State::kDone || cancelled_ || cancel_requested_) return;
  cancel_called_ = true;
  cancel_members();
  if (is_unfinished()) {
    request_cancel(*work_.task()->reactor());
  } else if (state_ != State::kRunning) {
    // Not started: it never will. Its scheduler, while running, counts it out at once.
    cancel_requested_ = true;
    if (scheduler_ != nullptr) {
      internal::note_member_change();  // before its run: the graph counted it as startable
      scheduler_->on_member_cancelled(*this);
    }
  } else {
    cancel_requested_ = true;  // started, not yet on a fiber: its body is skipped
  }
}

int64_t AbstractJob::run_item(internal::WorkItem* item, int64_t start_ticks, void* observer) {
  AbstractJob* job = job_of(item);
  auto* job_observer = static_cast<internal::JobObserver*>(observer);
  if (job_observer->events_wanted()) [[unlikely]] {
    return job->run_watched(*job_observer, start_ticks);
  }
  const int64_t end_ticks = job->run_body(start_ticks);
  job_observer->on_job_finished(*job);
  return end_ticks;
}

// run_item for an observer that wants events: the start and the end are reported too.
int64_t AbstractJob::run_watched(internal::JobObserver& observer, int64_t start_ticks) {
  report_start(observer, start_ticks);
  const int64_t end_ticks = run_body(start_ticks);
  report_end(observer);
  observer.on_job_finished(*this);
  return end_ticks;
}

void AbstractJob::fail_start(internal::WorkItem* item, std::exception_ptr error,
                             void* observer) {
  AbstractJob* job = job_of(item);
  auto* job_observer = static_cast<internal::JobObserver*>(observer);
  const std::string what = internal::exception_text(error).what;
  const std::string cause = what.empty() ? "unknown error" : what;
  job->set_raised(std::make_exception_ptr(std::runtime_error(
      absl::StrCat("asyncjobs: job `", job->label(), "` could not start: ", cause))));
  job->start_ticks_ = job->end_ticks_ = internal::clock_ticks();
  job->move_to(State::kDone);
  if (job_observer->events_wanted()) {
    job->report_start(*job_observer, job->start_ticks_);
    job->report_end(*job_observer);
  }
  job_observer->on_job_finished(*job);
}

void AbstractJob::report_start(internal::JobObserver& observer, int64_t start_ticks) const {
  if (cancel_requested()) return;  // its body is skipped: it does not start
  observer.on_job_event(
      {JobEvent::Kind::kStarted, this, internal::ticks_to_time(start_ticks), {}});
}

void AbstractJob::report_end(internal::JobObserver& observer) const {
  if (attempts_ == 0 && !raised_) return;  // cancelled before its body ran: no start either
  JobEvent::Kind kind = JobEvent::Kind::kDone;
  std::string what;
  if (cancelled_) {
    kind = JobEvent::Kind::kCancelled;
  } else if (raised_) {
    kind = JobEvent::Kind::kRaised;
    what = internal::exception_text(raised_exception()).what;
  }
  observer.on_job_event({kind, this, end_time(), what});
}

bool AbstractJob::cancel_requested() const {
  return cancel_requested_ || (work_.task() != nullptr && work_.task()->cancel_requested());
}

// Cache hints, a few jobs ahead of use: stage 0 fetches the job itself (all of a plain Job,
// from its shared_ptr control block: what linking, running and destroying touch), stage 1
// the successors it will count down when it ends.
void AbstractJob::prefetch_job(void* owner, int stage) {
  const auto* job = static_cast<const AbstractJob*>(owner);
  if (stage == 0) {
    // The whole of a plain Job (its body comes last), from its shared_ptr control block.
    const char* block = internal::shared_control_block(job);
    internal::prefetch_lines<internal::kSharedControlBlockBytes + sizeof(Job)>(block);
    return;
  }
  for (const Link& link : job->dependents_) {
    if (link.job == nullptr) continue;
    __builtin_prefetch(&link.job->pending_requirements_, 1);
    __builtin_prefetch(&link.job->work_, 1);  // where start() queues it
  }
}

int64_t AbstractJob::run_body(int64_t start_ticks) {
  start_ticks_ = start_ticks;
  if (!cancel_requested()) {
    run_attempt();
    while (raised_ && retry_after_failure()) run_attempt();
  }
  end_ticks_ = internal::clock_ticks();
  if (cancel_requested() || cancelled_) {
    // However the body ended, a cancelled job ends as cancelled, not done.
    cancelled_ = true;
    clear_outcome();
    return end_ticks_;
  }
  move_to(State::kDone);
  return end_ticks_;
}

// One call of co_run(), under the job's timeout if it has one: an attempt cancelled by its
// alarm raises TimeoutError, unless the job itself was cancelled meanwhile.
void AbstractJob::run_attempt() {
  ++attempts_;
  clear_outcome();
  // Most jobs have no policy: no alarm, no attempt times.
  internal::Attempts* policy = extras_ != nullptr ? extras_->attempts.get() : nullptr;
  Task* task = nullptr;
  bool timed = false;
  if (policy != nullptr) [[unlikely]] {
    task = Task::current();
    timed = policy->timeout != absl::InfiniteDuration();
    policy->ticks.emplace_back(attempts_ == 1 ? start_ticks_ : internal::clock_ticks(), 0);
    if (timed) task->reactor()->set_alarm(task, absl::Now() + policy->timeout);
  }
  try {
    result_.set(co_run());
  } catch (const Cancelled&) {
    cancelled_ = true;
  } catch (...) {
    set_raised(std::current_exception());
  }
  if (policy == nullptr) [[likely]] return;
  if (timed) {
    const bool timed_out = task->alarm_fired();
    task->reactor()->clear_alarm(task);
    if (timed_out && !cancel_requested_) {
      task->clear_cancel_request();
      cancelled_ = false;
      set_raised(timeout_error(*this, policy->timeout));
    }
  }
  policy->ticks.back().second = internal::clock_ticks();
}

bool AbstractJob::retry_after_failure() {
  const internal::Attempts* policy = attempts_policy();
  if (policy == nullptr || attempts_ > policy->retries || cancel_requested()) return false;
  if (internal::JobObserver* observer = events_observer()) {
    const std::string what = internal::exception_text(raised_exception()).what;
    observer->on_job_event({JobEvent::Kind::kRetrying, this, absl::Now(), what});
  }
  try {
    if (policy->retry_delay > absl::ZeroDuration()) {
      sleep_for(policy->retry_delay);
    }
  } catch (const Cancelled&) {
    cancelled_ = true;
    return false;
  }
  return true;
}

namespace {

// Wakes the caller of standalone_run when its job ends.
class StandaloneObserver : public internal::JobObserver {
 public:
  void on_job_finished(AbstractJob&) override {
    finished_ = true;
    waiters_.notify_all();
  }
  void wait() {
    while (!finished_) waiters_.wait(absl::InfiniteFuture(), "standalone_run");
  }

 private:
  bool finished_ = false;
  internal::WaitList waiters_;
};

}  // namespace

Value AbstractJob::standalone_run() {
  StandaloneObserver observer;
  if (in_job()) {
    internal::BatchRunner runner(*Reactor::current(), batch_hooks(&observer));
    start(runner);
    CancelShield shield;  // the job must end before this frame goes away
    observer.wait();
  } else {
    Reactor reactor;
    internal::BatchRunner runner(reactor, batch_hooks(&observer));
    start(runner);
    reactor.run();
    if (reactor.stalled()) {
      throw std::runtime_error(absl::StrCat("asyncjobs: deadlock: job ", label(),
                                            " waited for something nothing could provide"));
    }
  }
  if (cancelled_) throw Cancelled();
  return result();
}

AbstractJob* current_job() {
  Task* task = Task::current();
  return task != nullptr ? static_cast<AbstractJob*>(task->owner()) : nullptr;
}

}  // namespace asyncjobs
