// Progress messages of a run (SchedulerOptions::verbose), in the original's shapes.
#include <iostream>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "asyncjobs/internal/jobs/job_output.h"
#include "asyncjobs/internal/jobs/job_run_control.h"
#include "asyncjobs/internal/scheduler/job_graph.h"
#include "asyncjobs/internal/scheduler/run_state.h"
#include "asyncjobs/internal/jobs/job_text.h"
#include "asyncjobs/scheduler.h"

namespace asyncjobs {

// Progress messages in the original's shapes, stamped with the watch's elapsed time or
// the wall clock: "SCHEDULER(label): message" and "(label) STATE: <Job `x`>".
void Scheduler::say(std::string_view message, bool always) const {
  if (!options_.verbose && !always) return;
  internal::print_line(std::cout,
                       absl::StrCat(stamp(), "SCHEDULER(", label(), "): ", std::string(message)));
}

void Scheduler::print_job_line(std::string_view state, const AbstractJob& job) const {
  internal::print_line(std::cout, absl::StrCat(stamp(), "(", label(), ") ", std::string(state),
                                               ": ", internal::job_main(job)));
}

void Scheduler::say_unfinished(std::string_view state) const {
  if (!options_.verbose) return;
  for (const AbstractJob* job : run_->waiting_for_slot()) say_job(state, *job);
  for (const JobPtr& job : graph_->jobs()) {
    if (internal::JobRunControl::is_unfinished(*job)) say_job(state, *job);
  }
}

std::string Scheduler::stamp() const {
  if (options_.watch != nullptr) return absl::StrCat(options_.watch->elapsed(), "  ");
  return absl::StrCat(Watch::wall_clock(), " ");
}

}  // namespace asyncjobs
