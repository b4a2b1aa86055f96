#ifndef ASYNCJOBS_INTERNAL_JOBS_JOB_EXTRAS_H_
#define ASYNCJOBS_INTERNAL_JOBS_JOB_EXTRAS_H_

// What few jobs have, kept out of AbstractJob: a label, a timeout and retries, a journal key.

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"

namespace asyncjobs::internal {

// A job's timeout and retries, and when each attempt ran: only jobs that have either.
struct Attempts {
  absl::Duration timeout;
  int retries;
  absl::Duration retry_delay;
  std::vector<std::pair<int64_t, int64_t>> ticks;  // start and end of each attempt
};

struct JobExtras {
  std::string label;                    // empty: not given nor generated yet
  std::unique_ptr<Attempts> attempts;  // only with a timeout or retries
  std::string key;                      // JobOptions::key; empty: the label
};

}  // namespace asyncjobs::internal

#endif  // ASYNCJOBS_INTERNAL_JOBS_JOB_EXTRAS_H_
