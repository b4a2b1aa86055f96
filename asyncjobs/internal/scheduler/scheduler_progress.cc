// Progress messages of a run and a shutdown (SchedulerOptions::verbose), in the original's
// shapes.
#include "asyncjobs/internal/scheduler/scheduler_progress.h"

#include <iostream>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "asyncjobs/internal/jobs/job_output.h"
#include "asyncjobs/internal/jobs/job_run_control.h"
#include "asyncjobs/internal/scheduler/job_graph.h"
#include "asyncjobs/internal/scheduler/run.h"
#include "asyncjobs/internal/jobs/job_text.h"
#include "asyncjobs/scheduler.h"

namespace asyncjobs {
namespace internal {
namespace {

std::string stamp(const Scheduler& scheduler) {
  if (const Watch* watch = scheduler.options().watch) {
    return absl::StrCat(watch->elapsed(), "  ");
  }
  return absl::StrCat(Watch::wall_clock(), " ");
}

}  // namespace

void say(const Scheduler& scheduler, std::string_view message, bool always) {
  if (!scheduler.options().verbose && !always) return;
  print_line(std::cout, absl::StrCat(stamp(scheduler), "SCHEDULER(", scheduler.label(), "): ",
                                     std::string(message)));
}

void print_job_line(const Scheduler& scheduler, std::string_view state, const AbstractJob& job) {
  print_line(std::cout, absl::StrCat(stamp(scheduler), "(", scheduler.label(), ") ",
                                     std::string(state), ": ", job_main(job)));
}

void Run::say_unfinished(std::string_view state) const {
  if (!verbose_) return;
  for (const AbstractJob* job : state_.waiting_for_slot()) say_job(state, *job);
  for (const JobPtr& job : graph_.jobs()) {
    if (JobRunControl::is_unfinished(*job)) say_job(state, *job);
  }
}

}  // namespace internal
}  // namespace asyncjobs
