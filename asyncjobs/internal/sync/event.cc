#include "asyncjobs/event.h"

#include "absl/time/clock.h"
#include "asyncjobs/fiber_calls.h"

namespace asyncjobs {

void Event::set() {
  set_ = true;
  waiters_.notify_all();
}

bool Event::wait(absl::Duration timeout) {
  if (set_) return true;
  if (!in_job() && timeout != absl::InfiniteDuration()) {
    sleep_for(timeout);
    return set_;
  }
  const absl::Time deadline =
      timeout == absl::InfiniteDuration() ? absl::InfiniteFuture() : absl::Now() + timeout;
  // Woken by set(): true even if the event was cleared again before this job ran.
  return waiters_.wait(deadline, "Event::wait with no timeout") || set_;
}

}  // namespace asyncjobs
