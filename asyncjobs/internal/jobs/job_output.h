#ifndef ASYNCJOBS_INTERNAL_JOBS_JOB_OUTPUT_H_
#define ASYNCJOBS_INTERNAL_JOBS_JOB_OUTPUT_H_

// What jobs print, and the live block (the progress view) it must scroll above. Reporting a
// job's output lines as events (report_output) is declared in job.h.

#include <ostream>
#include <string_view>

namespace asyncjobs::internal {

// A block kept under the program's output on a terminal (SchedulerOptions::progress kLive):
// text printed while it is shown must go above it, or the next redraw garbles both.
class LiveBlock {
 public:
  // Writes `text` (whole lines) to `out` above the block: erase it, write, draw it again.
  virtual void print_above(std::ostream& out, std::string_view text) = 0;

 protected:
  ~LiveBlock() = default;
};

// The live block drawn on this thread (one at a time), or nullptr; set by the view while it
// is shown. Returns the previous one.
LiveBlock* set_live_block(LiveBlock* block);
LiveBlock* live_block();

// Writes `line` and a newline to `out` and flushes, above the live block drawn on this
// thread if there is one: the way the library prints a job's output lines and messages.
void print_line(std::ostream& out, std::string_view line);

}  // namespace asyncjobs::internal

#endif  // ASYNCJOBS_INTERNAL_JOBS_JOB_OUTPUT_H_
