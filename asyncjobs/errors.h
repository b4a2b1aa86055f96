#ifndef ASYNCJOBS_ERRORS_H_
#define ASYNCJOBS_ERRORS_H_

// The errors asyncjobs throws. Each derives from `Error` and from the standard exception the
// contract names (std::runtime_error, std::logic_error), so a program can catch all of the
// library's errors as one (`catch (const asyncjobs::Error& e)`, e.what() says why) or each
// by its standard base. `Cancelled` (cancelled.h) is not among them: it is how a job is
// stopped, not an error. The errors of the other targets (ProcessError, ssh::ConnectionError,
// ssh::CommandFailedError, slurm::BatchError) derive from `ErrorOf<...>` too.

#include <stdexcept>

namespace asyncjobs {

class Error {
 public:
  virtual ~Error() = default;
  virtual const char* what() const noexcept = 0;
};

// An error that is also the standard exception `Standard`, built from a message.
template <class Standard>
class ErrorOf : public Standard, public Error {
 public:
  using Standard::Standard;
  const char* what() const noexcept override { return Standard::what(); }
};

// Thrown by a job whose attempt outlived JobOptions::timeout, and by a critical scheduler
// whose run timed out ("critical scheduler took too long").
class TimeoutError : public ErrorOf<std::runtime_error> {
 public:
  using ErrorOf::ErrorOf;
};

// Thrown by a critical scheduler whose run was cancelled by request_cancel(): "run cancelled".
class RunCancelled : public ErrorOf<std::runtime_error> {
 public:
  using ErrorOf::ErrorOf;
};

// A malformed graph or misuse of a scheduler (a cycle, a requirement outside the scheduler,
// a job in two schedulers, a second run). The message names the jobs involved.
class GraphError : public ErrorOf<std::logic_error> {
 public:
  using ErrorOf::ErrorOf;
};

}  // namespace asyncjobs

#endif  // ASYNCJOBS_ERRORS_H_
