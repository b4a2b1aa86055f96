#ifndef ASYNCJOBS_INTERNAL_SCHEDULER_RUN_STATE_H_
#define ASYNCJOBS_INTERNAL_SCHEDULER_RUN_STATE_H_

// RunState: what one Scheduler run counts and decides, without the jobs or the reactor:
// jobs running and still awaited, the queue for window slots, what went wrong, and the
// outcome (RunOutcome, decided once). Counters move only through calls that debug builds
// check (ASYNCJOBS_DCHECK: none goes negative, none passes the member count). The
// orchestration that drives it is internal::Run's (run.h, scheduler_run.cc).

#include <cstddef>
#include <deque>

#include "asyncjobs/internal/base/check.h"
#include "asyncjobs/internal/sync/wait_list.h"
#include "asyncjobs/scheduler.h"

namespace asyncjobs::internal {

class RunState {
 public:
  // --- Counters
  size_t running() const { return running_; }
  void job_started() {
    ++running_;
    ASYNCJOBS_DCHECK(running_ <= members_, "more jobs running than the scheduler holds");
  }
  void job_ended() {
    ASYNCJOBS_DCHECK(running_ > 0, "a job ended that was not counted as running");
    --running_;
  }
  // The run starts with `members` direct members.
  void begin(size_t members) { members_ = members; }
  // It awaits `awaited` of them (the non-forever ones), counted as it starts them.
  void await(size_t awaited) {
    ASYNCJOBS_DCHECK(awaited <= members_, "more jobs awaited than the scheduler holds");
    remaining_ = awaited;
  }
  size_t remaining() const { return remaining_; }
  // An awaited job is done (returned, raised while non-critical, or restored).
  void awaited_done() {
    ASYNCJOBS_DCHECK(remaining_ > 0, "a job was done that the run did not await");
    --remaining_;
  }
  // An awaited job will never complete: it ended cancelled, or requires one that did.
  void awaited_abandoned() {
    awaited_done();
    ++abandoned_;
    ASYNCJOBS_DCHECK(abandoned_ <= members_, "more jobs abandoned than the scheduler holds");
  }
  size_t abandoned() const { return abandoned_; }

  // --- Window slots: ready jobs wait here, in order, while the window is full.
  std::deque<AbstractJob*>& waiting_for_slot() { return waiting_for_slot_; }
  const std::deque<AbstractJob*>& waiting_for_slot() const { return waiting_for_slot_; }
  bool has_free_slot(int window) const {
    return window == 0 || running_ < static_cast<size_t>(window);
  }

  // --- What happened. The run ends once nothing runs or waits for a slot (until_idle: it
  // has only forever jobs, or drains), else once every awaited job is done; or at once
  // after a critical failure or a cancel.
  bool failed_critical = false;
  bool failed_time_out = false;
  AbstractJob* failed_job = nullptr;  // the critical job that raised
  bool cancelled = false;             // by request_cancel(), a signal or a drain
  bool draining = false;
  bool until_idle = false;
  bool aborting = false;  // the run is ending: jobs that end now change nothing
  WaitList wakeup;        // the orchestrator waits here

  bool finished() const {
    if (failed_critical || cancelled) return true;
    if (until_idle) return running_ == 0 && waiting_for_slot_.empty();
    return remaining_ == 0;
  }
  bool starts_new_jobs() const { return !failed_critical && !cancelled && !draining; }

  // --- The outcome: when several apply, the first in RunOutcome's order decides.
  RunOutcome decide() const {
    if (cancelled) return RunOutcome::kCancelled;
    if (failed_time_out) return RunOutcome::kTimedOut;
    if (failed_critical) return RunOutcome::kCriticalRaised;
    if (abandoned_ > 0) return RunOutcome::kAbandoned;
    return RunOutcome::kFine;
  }
  // Decides once, when the run ends; later changes must not alter it.
  RunOutcome conclude() {
    ASYNCJOBS_DCHECK(outcome_ == RunOutcome::kNotRun, "a run's outcome decided twice");
    outcome_ = decide();
    return outcome_;
  }
  RunOutcome outcome() const { return outcome_; }

 private:
  size_t members_ = 0;
  size_t running_ = 0;
  size_t remaining_ = 0;  // awaited jobs not yet done
  size_t abandoned_ = 0;
  std::deque<AbstractJob*> waiting_for_slot_;
  RunOutcome outcome_ = RunOutcome::kNotRun;
};

}  // namespace asyncjobs::internal

#endif  // ASYNCJOBS_INTERNAL_SCHEDULER_RUN_STATE_H_
