// Failures: a non-critical job that raises counts as done, so its successors still run; a
// critical job that raises aborts the scheduler: everything still running is cancelled and
// jobs not yet started stay idle. A critical scheduler (the default) then rethrows that
// exception from run(); a non-critical one returns false.
//
//   ./bazelw run //examples:failures
#include <iostream>
#include <stdexcept>

#include "asyncjobs/asyncjobs.h"

namespace aj = asyncjobs;

namespace {

aj::Watch watch;

void boom() {
  aj::sleep_for(absl::Milliseconds(100));
  throw std::runtime_error("boom after 0.1s");
}

// begin -> boom -> end, with `boom` critical or not.
aj::Sequence scenario(bool critical) {
  return aj::Sequence{
      aj::make_job([] { aj::sleep_for(absl::Milliseconds(100)); }, {.label = "begin"}),
      aj::make_job(boom, {.label = "boom", .critical = critical}),
      aj::make_job([] { watch.print_elapsed("end runs\n"); }, {.label = "end"})};
}

void report(const aj::Scheduler& scheduler) {
  for (const aj::JobPtr& job : scheduler.jobs()) {
    std::cout << "  " << job->label() << (job->is_done() ? " done" : " not done")
              << (job->raised_exception() ? " (raised)" : "") << "\n";
  }
}

}  // namespace

int main() {
  std::cout << std::boolalpha;

  std::cout << "--- non-critical boom\n";
  aj::Scheduler lenient{{scenario(false)}, {.critical = false}};
  bool ok = lenient.run();
  std::cout << "run() returned " << ok << ": " << lenient.why() << "\n";
  report(lenient);

  std::cout << "--- critical boom, non-critical scheduler\n";
  watch.reset();
  aj::Scheduler bails_out{{scenario(true)}, {.critical = false, .watch = &watch}};
  ok = bails_out.run();
  std::cout << "run() returned " << ok << ": " << bails_out.why() << "\n";
  report(bails_out);

  std::cout << "--- critical boom, critical scheduler (the default)\n";
  watch.reset();
  aj::Sequence jobs = scenario(true);
  aj::Scheduler strict{{jobs}, {.watch = &watch}};
  try {
    strict.run();
  } catch (const std::runtime_error& e) {
    std::cout << "run() threw the job's exception: " << e.what() << "\n";
  }
  try {
    jobs.jobs()[1]->result();  // result() rethrows what the job raised
  } catch (const std::exception& e) {
    std::cout << "boom->result() rethrows: " << e.what() << "\n";
  }
}
