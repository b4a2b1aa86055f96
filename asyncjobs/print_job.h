#ifndef ASYNCJOBS_PRINT_JOB_H_
#define ASYNCJOBS_PRINT_JOB_H_

// The original's PrintJob: a job that prints a line, for tutorials, tests and debugging.

#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "asyncjobs/job.h"

namespace asyncjobs {

struct PrintOptions {
  absl::Duration sleep = absl::ZeroDuration();  // slept after printing
  std::string banner{};         // non-empty: printed first on the line, then a space
  std::ostream* out = nullptr;  // nullptr: std::cout
};

// In the original's order: prints the banner and a space (if any), then `messages` joined
// by spaces, prefixed by the elapsed time of its scheduler's watch when it has one
// (SchedulerOptions::watch), and a newline on `print.out`; then, when `print.sleep` is set,
// prints "Sleeping for <seconds>s" and sleeps that long. details(): "[+ sleep <seconds>s] "
// when it sleeps, then "msg= " and the first message, "..." when there are more.
std::shared_ptr<AbstractJob> make_print_job(std::vector<std::string> messages,
                                            PrintOptions print = {}, JobOptions options = {});

}  // namespace asyncjobs

#endif  // ASYNCJOBS_PRINT_JOB_H_
