// How a BatchRunner runs jobs: a body run and its end told, a failed start, cache hints.
#include "asyncjobs/internal/jobs/job_hooks.h"

#include <stdexcept>
#include <string>

#include "absl/strings/str_cat.h"
#include "asyncjobs/internal/base/clock.h"
#include "asyncjobs/internal/base/prefetch.h"
#include "asyncjobs/internal/jobs/job_extras.h"
#include "asyncjobs/internal/jobs/job_text.h"

namespace asyncjobs::internal {

BatchHooks JobHooks::running(JobObserver* observer) {
  return {.run = &run,
          .fail = &fail,
          .prefetch = &prefetch,
          .name = &name_of,
          .owner_offset = work_offset(),
          .context = observer};
}

int64_t JobHooks::run(WorkItem* item, int64_t start_ticks, void* observer) {
  AbstractJob& job = job_of(item);
  auto* job_observer = static_cast<JobObserver*>(observer);
  if (job_observer->events_wanted()) [[unlikely]] {
    return run_watched(job, *job_observer, start_ticks);
  }
  const int64_t end_ticks = job.run_body(start_ticks);
  job_observer->on_job_finished(job);
  return end_ticks;
}

// run() for an observer that wants events: the start and the end are reported too.
int64_t JobHooks::run_watched(AbstractJob& job, JobObserver& observer, int64_t start_ticks) {
  report_start(job, observer, start_ticks);
  const int64_t end_ticks = job.run_body(start_ticks);
  report_end(job, observer);
  observer.on_job_finished(job);
  return end_ticks;
}

void JobHooks::fail(WorkItem* item, std::exception_ptr error, void* observer) {
  AbstractJob& job = job_of(item);
  auto* job_observer = static_cast<JobObserver*>(observer);
  const std::string what = exception_text(error).what;
  const std::string cause = what.empty() ? "unknown error" : what;
  job.set_raised(std::make_exception_ptr(std::runtime_error(
      absl::StrCat("asyncjobs: job `", job.label(), "` could not start: ", cause))));
  job.start_ticks_ = job.end_ticks_ = clock_ticks();
  job.move_to(AbstractJob::State::kDone);
  if (job_observer->events_wanted()) {
    report_start(job, *job_observer, job.start_ticks_);
    report_end(job, *job_observer);
  }
  job_observer->on_job_finished(job);
}

void JobHooks::report_start(const AbstractJob& job, JobObserver& observer, int64_t start_ticks) {
  if (job.cancel_requested()) return;  // its body is skipped: it does not start
  observer.on_job_event({JobEvent::Kind::kStarted, &job, ticks_to_time(start_ticks), {}});
}

void JobHooks::report_end(const AbstractJob& job, JobObserver& observer) {
  if (job.attempts_ == 0 && !job.raised_) return;  // cancelled before its body ran
  JobEvent::Kind kind = JobEvent::Kind::kDone;
  std::string what;
  if (job.cancelled_) {
    kind = JobEvent::Kind::kCancelled;
  } else if (job.raised_) {
    kind = JobEvent::Kind::kRaised;
    what = exception_text(job.raised_exception()).what;
  }
  observer.on_job_event({kind, &job, job.end_time(), what});
}

void JobHooks::prefetch(void* owner, int stage) {
  const auto* job = static_cast<const AbstractJob*>(owner);
  if (stage == 0) {
    // The whole of a plain Job (its body comes last), from its shared_ptr control block:
    // what linking, running and destroying touch.
    const char* block = shared_control_block(job);
    prefetch_lines<kSharedControlBlockBytes + sizeof(Job)>(block);
    return;
  }
  for (const AbstractJob::Link& link : job->dependents_) {
    if (link.job == nullptr) continue;
    __builtin_prefetch(&link.job->pending_requirements_, 1);
    __builtin_prefetch(&link.job->work_, 1);  // where start() queues it
  }
}

const std::string* JobHooks::name_of(const void* job) {
  const auto* self = static_cast<const AbstractJob*>(job);
  return self->extras_ == nullptr ? nullptr : &self->extras_->label;
}

}  // namespace asyncjobs::internal
