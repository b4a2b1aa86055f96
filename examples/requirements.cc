// Requirements: a job starts only once every job it requires is done. Here `b1` then `b2`
// run one after the other, while `b3` runs beside them (the original's example B).
//
//   ./bazelw run //examples:requirements
#include <iostream>
#include <string>

#include "asyncjobs/asyncjobs.h"

namespace aj = asyncjobs;

namespace {

aj::Watch watch;

// A job body that prints when it enters and leaves, and returns the milliseconds it slept.
auto in_out(std::string name, int ms) {
  return [name, ms] {
    watch.print_elapsed("-> " + name + "\n");
    aj::sleep_for(absl::Milliseconds(ms));
    watch.print_elapsed("<- " + name + "\n");
    return ms;
  };
}

}  // namespace

int main() {
  auto b1 = aj::make_job(in_out("b1", 100), {.label = "b1"});
  auto b2 = aj::make_job(in_out("b2", 200), {.label = "b2"});
  auto b3 = aj::make_job(in_out("b3", 250), {.label = "b3"});
  b2->require(b1);  // or: aj::make_job(..., {.label = "b2", .required = {b1}})

  aj::Scheduler scheduler{b1, b2, b3};
  std::cout << "entry jobs:";
  for (const aj::JobPtr& job : scheduler.entry_jobs()) std::cout << " " << job->label();
  std::cout << "\n";

  watch.reset();
  bool ok = scheduler.run();
  std::cout << "run() returned " << std::boolalpha << ok << "\n";
  for (const aj::JobPtr& job : scheduler.jobs()) {
    std::cout << job->label() << ": done " << job->is_done() << ", result "
              << job->result<int>() << "\n";
  }
}
