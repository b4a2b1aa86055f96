// A job's run on a fiber: started on a BatchRunner, its attempts (timeout, retries),
// cancellation, and standalone_run.
#include <exception>
#include <stdexcept>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "asyncjobs/cancelled.h"
#include "asyncjobs/fiber_calls.h"
#include "asyncjobs/internal/base/clock.h"
#include "asyncjobs/internal/jobs/batch_runner.h"
#include "asyncjobs/internal/jobs/job_extras.h"
#include "asyncjobs/internal/jobs/job_hooks.h"
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

bool AbstractJob::cancel_requested() const {
  return cancel_requested_ || (work_.task() != nullptr && work_.task()->cancel_requested());
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
    internal::BatchRunner runner(*Reactor::current(), internal::JobHooks::running(&observer));
    start(runner);
    CancelShield shield;  // the job must end before this frame goes away
    observer.wait();
  } else {
    Reactor reactor;
    internal::BatchRunner runner(reactor, internal::JobHooks::running(&observer));
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
