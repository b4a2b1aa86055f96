#ifndef ASYNCJOBS_INTERNAL_JOBS_JOB_RUN_CONTROL_H_
#define ASYNCJOBS_INTERNAL_JOBS_JOB_RUN_CONTROL_H_

// JobRunControl: the one door through which a scheduler reaches a job's run state. A job
// reaches its scheduler through JobObserver and two virtual hooks (job.h); the scheduler
// reaches the job through the operations below and nothing else: AbstractJob befriends this
// class only. Each operation is named after what the scheduler does, and state changes go
// through AbstractJob::move_to, which debug builds check (docs/design.md, "A job's states").
// Everything is inline: the run calls these once or twice per job.

#include <cstddef>
#include <cstdint>

#include "absl/functional/function_ref.h"
#include "asyncjobs/internal/jobs/batch_runner.h"
#include "asyncjobs/internal/jobs/job_hooks.h"
#include "asyncjobs/internal/jobs/work_item.h"
#include "asyncjobs/job.h"

namespace asyncjobs::internal {

class JobRunControl {
 public:
  using Link = AbstractJob::Link;                // a dependent's end of a requirement
  using Requirement = AbstractJob::Requirement;  // a requiring job's end
  using State = AbstractJob::State;

  // --- Membership: the scheduler that holds a job (public: AbstractJob::parent()).
  static void set_parent(AbstractJob& job, AbstractJob* scheduler) { job.scheduler_ = scheduler; }
  static void mark_scheduler(AbstractJob& job) { job.is_scheduler_ = true; }

  // --- Linking a run: the requirement lists and the counts the run keeps in each job.
  static const RequiredLinks& required(const AbstractJob& job) { return job.required_; }
  static auto& dependents(AbstractJob& job) { return job.dependents_; }
  static const auto& dependents(const AbstractJob& job) { return job.dependents_; }
  static void reset_links(AbstractJob& job, uint32_t index, uint32_t pending = 0) {
    job.graph_index_ = index;
    job.pending_requirements_ = pending;
    job.dependents_unordered_ = false;
  }
  static uint32_t graph_index(const AbstractJob& job) { return job.graph_index_; }
  static uint32_t& pending_requirements(AbstractJob& job) { return job.pending_requirements_; }
  // Its dependents are not in insertion order: a job that ends sorts those it frees.
  static void set_dependents_unordered(AbstractJob& job) { job.dependents_unordered_ = true; }
  static bool dependents_unordered(const AbstractJob& job) { return job.dependents_unordered_; }
  // The address range linking reads and writes in `job`, up to the inline end of its
  // dependents (for cache hints).
  static const char* link_fields_begin(const AbstractJob& job) {
    return reinterpret_cast<const char*>(&job.graph_index_);
  }
  static const char* link_fields_end(const AbstractJob& job) {
    return reinterpret_cast<const char*>(&job.dependents_ + 1);
  }
  static size_t drop_requirements_if(AbstractJob& job,
                                     absl::FunctionRef<bool(const AbstractJob*)> drop) {
    return job.drop_requirements_if(drop);
  }

  // --- State: idle -> scheduled -> running -> done, each move checked in debug builds.
  static void schedule(AbstractJob& job) { job.move_to(State::kScheduled); }
  static void start(AbstractJob& job, BatchRunner& runner) { job.start(runner); }
  // A top-level Scheduler runs itself, not on a runner: it is running, then done with `ok`.
  static void begin_own_run(AbstractJob& scheduler) { scheduler.move_to(State::kRunning); }
  // It could not start (no reactor): idle again, as AbstractJob::start undoes a failed start.
  static void undo_own_run(AbstractJob& scheduler) { scheduler.state_ = State::kIdle; }
  static void end_own_run(AbstractJob& scheduler, bool ok) {
    scheduler.move_to(State::kDone);
    scheduler.result_.set(ok);
  }
  // Done without running, with `value` from the journal, at `ticks` (clock_ticks()).
  static void restore(AbstractJob& job, Value value, int64_t ticks) {
    job.result_.set(std::move(value));
    job.started_ = true;
    job.restored_ = true;
    job.move_to(State::kDone);
    job.start_ticks_ = job.end_ticks_ = ticks;
  }
  static void set_restored(AbstractJob& job, bool restored) { job.restored_ = restored; }
  // What it returned (none if it raised): what the journal records.
  static const Value& returned(const AbstractJob& job) { return job.stored_result(); }
  static bool raised(const AbstractJob& job) { return job.raised_; }
  // Started and on a fiber, not yet ended.
  static bool is_unfinished(const AbstractJob& job) { return job.is_unfinished(); }
  static bool has_fiber(const AbstractJob& job) { return job.work_.task() != nullptr; }

  // --- Cancellation
  // cancel() was called before it started: it never will.
  static bool cancelled_before_start(const AbstractJob& job) { return job.cancel_requested_; }
  // It ended cancelled, or is counted out as such (it will never start).
  static bool ended_cancelled(const AbstractJob& job) { return job.cancelled_; }
  static void count_out(AbstractJob& job) { job.cancelled_ = true; }
  // Started, not yet on a fiber: its body is skipped and it ends cancelled.
  static void skip_body(AbstractJob& job) { job.cancel_requested_ = true; }
  static void request_cancel(AbstractJob& job, Reactor& reactor) { job.request_cancel(reactor); }
  // Its fiber swallows Cancelled: taken off `runner` and never resumed.
  static bool refuses_cancel(const AbstractJob& job) {
    return job.work_.task()->refuses_cancel();
  }
  static void abandon(AbstractJob& job, BatchRunner& runner) {
    runner.abandon(&job.work_);
    job.abandoned_ = true;
    job.cancelled_ = true;
  }

  // --- Running on a BatchRunner
  // How a BatchRunner runs jobs for `observer`; or calls `run` on each instead (a shutdown).
  static BatchHooks batch_hooks(JobObserver* observer) { return JobHooks::running(observer); }
  static BatchHooks hooks_for(WorkItem::Body run, decltype(BatchHooks::fail) fail, void* context) {
    return JobHooks::calling(run, fail, context);
  }
  static WorkItem* work(AbstractJob& job) { return &job.work_; }
  static AbstractJob& job_of(WorkItem* item) { return JobHooks::job_of(item); }
  static void prefetch_job(const AbstractJob* job, int stage) {
    JobHooks::prefetch(const_cast<AbstractJob*>(job), stage);
  }
};

}  // namespace asyncjobs::internal

#endif  // ASYNCJOBS_INTERNAL_JOBS_JOB_RUN_CONTROL_H_
