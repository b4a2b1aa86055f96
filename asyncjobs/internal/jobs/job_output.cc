// Output lines of jobs: reported to their run as kOutput events, printed above a live block.
#include "asyncjobs/internal/jobs/job_output.h"

#include <string>

#include "absl/time/clock.h"
#include "asyncjobs/job.h"

namespace asyncjobs::internal {
namespace {

thread_local LiveBlock* drawn_block = nullptr;

}  // namespace

bool output_wanted() {
  const AbstractJob* job = current_job();
  return job != nullptr && job->events_observer() != nullptr;
}

void report_output(std::string_view line) {
  const AbstractJob* job = current_job();
  if (job == nullptr) return;
  if (JobObserver* observer = job->events_observer()) {
    observer->on_job_event({JobEvent::Kind::kOutput, job, absl::Now(), line});
  }
}

LiveBlock* set_live_block(LiveBlock* block) {
  LiveBlock* previous = drawn_block;
  drawn_block = block;
  return previous;
}

LiveBlock* live_block() { return drawn_block; }

void print_line(std::ostream& out, std::string_view line) {
  if (drawn_block == nullptr) {
    out << line << std::endl;
    return;
  }
  std::string text(line);
  text += '\n';
  drawn_block->print_above(out, text);
}

}  // namespace asyncjobs::internal
