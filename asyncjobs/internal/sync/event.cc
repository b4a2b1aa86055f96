// Event: set() wakes every waiter; wait() with a timeout, in a job or on a plain thread.
#include "asyncjobs/event.h"

#include "asyncjobs/fiber_calls.h"
#include "asyncjobs/internal/reactor/reactor.h"
#include "asyncjobs/internal/sync/deadline.h"

namespace asyncjobs {

void Event::set() {
  set_ = true;
  waiters_.notify_all();
}

bool Event::wait(absl::Duration timeout) {
  if (set_) return true;
  if (Task::current() == nullptr && timeout != absl::InfiniteDuration()) {
    sleep_for(timeout);
    return set_;
  }
  // Woken by set(): true even if the event was cleared again before this job ran.
  return waiters_.wait(internal::deadline_after(timeout), "Event::wait with no timeout") || set_;
}

}  // namespace asyncjobs
