#ifndef ASYNCJOBS_EVENT_H_
#define ASYNCJOBS_EVENT_H_

// Event: a flag jobs of one reactor wait for.

#include "absl/time/time.h"
#include "asyncjobs/internal/sync/wait_list.h"

namespace asyncjobs {

// A flag jobs of one reactor can wait for, like asyncio.Event: `set` wakes every waiter and
// lets later waits return at once until `clear`. Not thread-safe.
class Event {
 public:
  Event() = default;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  void set();
  void clear() { set_ = false; }
  bool is_set() const { return set_; }
  // Suspends the job until the event is set; false when `timeout` passed first. Throws
  // `Cancelled` in a job being cancelled. Outside a job: sleeps the timeout (nothing else on
  // the thread can set it) and returns is_set(); with no timeout, throws std::logic_error.
  bool wait(absl::Duration timeout = absl::InfiniteDuration());

 private:
  bool set_ = false;
  internal::WaitList waiters_;
};

}  // namespace asyncjobs

#endif  // ASYNCJOBS_EVENT_H_
