#include "asyncjobs/internal/clock.h"

#include <time.h>

#include <mutex>

#include "absl/time/clock.h"

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define ASYNCJOBS_HAS_TSC 1
#endif

namespace asyncjobs::internal {
namespace {

#if !ASYNCJOBS_HAS_TSC
int64_t monotonic_nanos() {
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec;
}
#endif

// Two readings of (ticks, wall time) far enough apart give the tick rate. The first is
// taken at the first use; the second at each conversion, once 10 ms have passed.
struct Calibration {
  int64_t ticks;
  absl::Time time;
};

int64_t raw_ticks() {
#if ASYNCJOBS_HAS_TSC
  return static_cast<int64_t>(__rdtsc());
#else
  return monotonic_nanos();
#endif
}

const Calibration& origin() {
  static const Calibration first{raw_ticks(), absl::Now()};
  return first;
}

}  // namespace

int64_t clock_ticks() {
  static const bool initialized = (origin(), true);
  (void)initialized;
  return raw_ticks();
}

absl::Time ticks_to_time(int64_t ticks) {
  const Calibration& first = origin();
#if ASYNCJOBS_HAS_TSC
  static std::mutex mutex;
  static double nanos_per_tick = 0;
  static absl::Time calibrated_at = absl::InfinitePast();
  {
    std::lock_guard<std::mutex> lock(mutex);
    absl::Time now = absl::Now();
    if (now - calibrated_at > absl::Seconds(1) || nanos_per_tick == 0) {
      if (now - first.time < absl::Milliseconds(10)) {
        absl::SleepFor(absl::Milliseconds(10) - (now - first.time));
      }
      const int64_t ticks_now = raw_ticks();
      now = absl::Now();
      nanos_per_tick = absl::ToDoubleNanoseconds(now - first.time) /
                       static_cast<double>(ticks_now - first.ticks);
      calibrated_at = now;
    }
  }
  return first.time + absl::Nanoseconds(static_cast<double>(ticks - first.ticks) * nanos_per_tick);
#else
  return first.time + absl::Nanoseconds(ticks - first.ticks);
#endif
}

}  // namespace asyncjobs::internal
