// Clock ticks (the time-stamp counter) and their conversion to absl::Time.
#include "asyncjobs/internal/base/clock.h"

#include <time.h>

#include <cstdint>
#include <mutex>

#include "absl/time/clock.h"

#if defined(__x86_64__) || defined(__i386__)
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
// taken when the program starts; the second at a conversion, at least 10 ms later (the
// first conversion of a very young process waits for that) and again every second.
struct Calibration {
  int64_t ticks;
  absl::Time time;
};

// A (ticks, wall time) pair read close together: of a few tries, the one whose clock read
// was not preempted (the least ticks around it), so that a busy machine does not skew it.
Calibration read_pair() {
  Calibration best{0, absl::InfinitePast()};
  int64_t best_gap = INT64_MAX;
  for (int i = 0; i < 8; ++i) {
    const int64_t before = clock_ticks();
    const absl::Time time = absl::Now();
    const int64_t gap = clock_ticks() - before;
    if (gap < best_gap) {
      best_gap = gap;
      best = {before + gap / 2, time};
    }
  }
  return best;
}

const Calibration program_start = read_pair();

const Calibration& origin() { return program_start; }

}  // namespace

#if !ASYNCJOBS_HAS_TSC
int64_t clock_ticks() { return monotonic_nanos(); }
#endif

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
      const Calibration latest = read_pair();
      now = latest.time;
      nanos_per_tick = absl::ToDoubleNanoseconds(now - first.time) /
                       static_cast<double>(latest.ticks - first.ticks);
      calibrated_at = now;
    }
  }
  return first.time + absl::Nanoseconds(static_cast<double>(ticks - first.ticks) * nanos_per_tick);
#else
  return first.time + absl::Nanoseconds(ticks - first.ticks);
#endif
}

}  // namespace asyncjobs::internal
