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
  absl::Duration sleep = absl::ZeroDuration();  // waited before printing
  std::string banner{};        // non-empty: the line is framed by two lines of '='
  std::ostream* out = nullptr;  // nullptr: std::cout
};

// Sleeps `print.sleep` (if any), then prints `messages` joined by spaces and a newline on
// `print.out`, prefixed by the elapsed time of its scheduler's watch when it has one
// (SchedulerOptions::watch). With a banner, the line is framed by two lines of '=', the
// first of which holds the banner (a banner made only of '=' is the frame itself).
std::shared_ptr<AbstractJob> make_print_job(std::vector<std::string> messages,
                                            PrintOptions print = {}, JobOptions options = {});

}  // namespace asyncjobs

#endif  // ASYNCJOBS_PRINT_JOB_H_
