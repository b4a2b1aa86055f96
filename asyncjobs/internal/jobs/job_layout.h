#ifndef ASYNCJOBS_INTERNAL_JOBS_JOB_LAYOUT_H_
#define ASYNCJOBS_INTERNAL_JOBS_JOB_LAYOUT_H_

// From a job's WorkItem back to the job: what a BatchRunner's hooks need, for the files that
// run jobs (the public job.h only declares it).

#include <cstddef>

#include "asyncjobs/job.h"

namespace asyncjobs {

// work_ sits at the same offset in every job. (offsetof on a class with virtual functions is
// "conditionally supported": GCC and Clang give the member's fixed offset, there being no
// virtual base, and warn.)
inline size_t AbstractJob::work_offset() {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winvalid-offsetof"
  return offsetof(AbstractJob, work_);
#pragma GCC diagnostic pop
}

inline AbstractJob* AbstractJob::job_of(internal::WorkItem* item) {
  return reinterpret_cast<AbstractJob*>(reinterpret_cast<char*>(item) - work_offset());
}

}  // namespace asyncjobs

#endif  // ASYNCJOBS_INTERNAL_JOBS_JOB_LAYOUT_H_
