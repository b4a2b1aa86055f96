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
  while (!set_) {
    if (!waiters_.wait(deadline, "Event::wait with no timeout")) return set_;
  }
  return true;
}

}  // namespace asyncjobs
