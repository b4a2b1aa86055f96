#ifndef ASYNCJOBS_INTERNAL_SCHEDULER_SCHEDULER_PROGRESS_H_
#define ASYNCJOBS_INTERNAL_SCHEDULER_SCHEDULER_PROGRESS_H_

// A scheduler's progress messages (SchedulerOptions::verbose), in the original's shapes,
// stamped with the options' watch or the wall clock: "SCHEDULER(label): message" and
// "(label) STATE: <Job `x`>". The run and the shutdown say them.

#include <string_view>

#include "asyncjobs/scheduler.h"

namespace asyncjobs::internal {

// Says `message` when the scheduler is verbose, or `always`.
void say(const Scheduler& scheduler, std::string_view message, bool always = false);
// "(label) STATE: <Job `x`>", whatever the options say (callers test verbose first).
void print_job_line(const Scheduler& scheduler, std::string_view state, const AbstractJob& job);

}  // namespace asyncjobs::internal

#endif  // ASYNCJOBS_INTERNAL_SCHEDULER_SCHEDULER_PROGRESS_H_
