#ifndef ASYNCJOBS_JOB_EVENT_H_
#define ASYNCJOBS_JOB_EVENT_H_

// JobEvent: what happened to a job, as a run reports it to SchedulerOptions::on_event and to
// its progress view.

#include <string_view>

#include "absl/time/time.h"

namespace asyncjobs {

class AbstractJob;

// Every job that starts gets kStarted, then any number of kRetrying and kOutput, then
// exactly one of kDone (returned), kRaised (raised, after its last attempt) or kCancelled
// (ended cancelled). A job that never starts (cancelled or left waiting when the run ends)
// gets no event. A nested scheduler is a job of its parent like any other: it gets its own
// kStarted and end. kRestored (a job whose outcome a journal restored: it does not run) is
// reported by the journal, instead of kStarted and its end.
struct JobEvent {
  enum class Kind { kStarted, kDone, kRaised, kCancelled, kRetrying, kRestored, kOutput };
  Kind kind;
  const AbstractJob* job;
  absl::Time time;
  // kOutput: the line, without its newline (process, SSH and Slurm jobs' output); kRaised,
  // kRetrying: the exception's message; else empty. Valid only during the call.
  std::string_view text;
};

}  // namespace asyncjobs

#endif  // ASYNCJOBS_JOB_EVENT_H_
