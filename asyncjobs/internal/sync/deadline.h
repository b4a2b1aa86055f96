#ifndef ASYNCJOBS_INTERNAL_SYNC_DEADLINE_H_
#define ASYNCJOBS_INTERNAL_SYNC_DEADLINE_H_

// The deadline of a timed fiber call, from its timeout.

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace asyncjobs::internal {

// `timeout` from now; an infinite timeout never expires (and reads no clock).
inline absl::Time deadline_after(absl::Duration timeout) {
  return timeout == absl::InfiniteDuration() ? absl::InfiniteFuture() : absl::Now() + timeout;
}

}  // namespace asyncjobs::internal

#endif  // ASYNCJOBS_INTERNAL_SYNC_DEADLINE_H_
