#ifndef ASYNCJOBS_INTERNAL_BASE_CLOCK_H_
#define ASYNCJOBS_INTERNAL_BASE_CLOCK_H_

// clock_ticks(): the cheap timestamp of job starts and ends, and its conversions.

#include <cstdint>

#include "absl/time/time.h"

namespace asyncjobs::internal {

// A cheap timestamp for every job start and end: the CPU's time-stamp counter where it has
// one (several times cheaper than absl::Now()), converted to absl::Time only when
// read. Elsewhere, CLOCK_MONOTONIC nanoseconds. A conversion in the first 10 ms of a
// process waits for the end of them, to measure the counter's rate.
int64_t clock_ticks();
absl::Time ticks_to_time(int64_t ticks);

#if defined(__x86_64__) || defined(__i386__)
inline int64_t clock_ticks() { return static_cast<int64_t>(__builtin_ia32_rdtsc()); }
#endif

}  // namespace asyncjobs::internal

#endif  // ASYNCJOBS_INTERNAL_BASE_CLOCK_H_
