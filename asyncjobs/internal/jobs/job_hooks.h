#ifndef ASYNCJOBS_INTERNAL_JOBS_JOB_HOOKS_H_
#define ASYNCJOBS_INTERNAL_JOBS_JOB_HOOKS_H_

// JobHooks: how a BatchRunner runs jobs (BatchHooks): from a job's WorkItem back to the job,
// its body run and its end told to a JobObserver, a start that failed, cache hints, a name
// for the fiber. The job side of running; a scheduler reaches it through JobRunControl.

#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>

#include "asyncjobs/internal/jobs/batch_runner.h"
#include "asyncjobs/internal/jobs/work_item.h"
#include "asyncjobs/job.h"

namespace asyncjobs::internal {

class JobHooks {
 public:
  // Runs each job's body and tells `observer` when it ends (with events, if it wants them).
  static BatchHooks running(JobObserver* observer);
  // Calls `run` on each job instead of its body (a shutdown's co_shutdown()).
  static BatchHooks calling(WorkItem::Body run, decltype(BatchHooks::fail) fail, void* context) {
    return {.run = run, .fail = fail, .name = &name_of, .owner_offset = work_offset(),
            .context = context};
  }

  // work_ sits at the same offset in every job. (offsetof on a class with virtual functions
  // is "conditionally supported": GCC and Clang give the member's fixed offset, there being
  // no virtual base, and warn.)
  static size_t work_offset() {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winvalid-offsetof"
    return offsetof(AbstractJob, work_);
#pragma GCC diagnostic pop
  }
  static AbstractJob& job_of(WorkItem* item) {
    return *reinterpret_cast<AbstractJob*>(reinterpret_cast<char*>(item) - work_offset());
  }
  // Cache hints, a few jobs ahead of use: stage 0 fetches the job itself, stage 1 the
  // successors it will count down when it ends.
  static void prefetch(void* job, int stage);

 private:
  static int64_t run(WorkItem* item, int64_t start_ticks, void* observer);
  static int64_t run_watched(AbstractJob& job, JobObserver& observer, int64_t start_ticks);
  // The job could not get a fiber: it ends having raised that error.
  static void fail(WorkItem* item, std::exception_ptr error, void* observer);
  static void report_start(const AbstractJob& job, JobObserver& observer, int64_t start_ticks);
  static void report_end(const AbstractJob& job, JobObserver& observer);
  static const std::string* name_of(const void* job);  // its label, if it has one yet
};

}  // namespace asyncjobs::internal

#endif  // ASYNCJOBS_INTERNAL_JOBS_JOB_HOOKS_H_
