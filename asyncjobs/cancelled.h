#ifndef ASYNCJOBS_CANCELLED_H_
#define ASYNCJOBS_CANCELLED_H_

// Cancelled, thrown where a cancelled job suspends, and CancelShield, which holds it off.

namespace asyncjobs {

class Task;

// Thrown at a suspension point (sleep_for, yield, wait_readable, Queue and Event waits, ...)
// of a job that is being cancelled, so that its stack unwinds and every destructor runs.
// It does not derive from std::exception: `catch (const std::exception&)` lets it through.
// A job that swallows it with `catch (...)` gets it again at its next suspension point and
// still ends as cancelled.
class Cancelled {
 public:
  const char* what() const noexcept { return "job cancelled"; }
};

// While alive, suspension points of the current job do not throw Cancelled: for cleanup
// that must wait (joining children, shutdown) in a job that is being cancelled. Outside a
// job it does nothing.
class CancelShield {
 public:
  CancelShield();
  ~CancelShield();
  CancelShield(const CancelShield&) = delete;
  CancelShield& operator=(const CancelShield&) = delete;

 private:
  Task* task_;
};

}  // namespace asyncjobs

#endif  // ASYNCJOBS_CANCELLED_H_
