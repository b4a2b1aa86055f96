#ifndef ASYNCJOBS_CANCELLED_H_
#define ASYNCJOBS_CANCELLED_H_

// Cancelled, thrown where a cancelled job suspends (a CancelShield, in reactor.h, holds it off).

namespace asyncjobs {

// Thrown at a suspension point (sleep_for, yield, wait_readable, Queue and Event waits, ...)
// of a job that is being cancelled, so that its stack unwinds and every destructor runs.
// It does not derive from std::exception: `catch (const std::exception&)` lets it through.
// A job that swallows it with `catch (...)` gets it again at its next suspension point and
// still ends as cancelled.
class Cancelled {
 public:
  const char* what() const noexcept { return "job cancelled"; }
};

}  // namespace asyncjobs

#endif  // ASYNCJOBS_CANCELLED_H_
