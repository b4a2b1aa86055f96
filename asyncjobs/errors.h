#ifndef ASYNCJOBS_ERRORS_H_
#define ASYNCJOBS_ERRORS_H_

// The scheduler's errors: GraphError (a malformed graph or misuse) and RunCancelled.

#include <stdexcept>

#include "asyncjobs/job.h"  // TimeoutError

namespace asyncjobs {

// Thrown by a critical scheduler whose run was cancelled by request_cancel(): "run cancelled".
class RunCancelled : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A malformed graph or misuse of a scheduler (a cycle, a requirement outside the scheduler,
// a job in two schedulers, a second run). The message names the jobs involved.
class GraphError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

}  // namespace asyncjobs

#endif  // ASYNCJOBS_ERRORS_H_
