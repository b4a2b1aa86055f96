// Nesting: a Scheduler is a job, so it can sit in another scheduler, take one window slot
// there, and run its own jobs with its own window and timeout. Functions can return pieces
// of workflows. A nested scheduler is held by shared_ptr, like every job.
//
//   ./bazelw run //examples:nesting
#include <iostream>
#include <memory>
#include <string>

#include "asyncjobs/asyncjobs.h"

namespace aj = asyncjobs;

namespace {

aj::Watch watch;

// A job that prints its label, then sleeps 100ms.
std::shared_ptr<aj::Job> aprint(const std::string& label, std::vector<aj::JobPtr> required = {}) {
  return aj::make_job(
      [label] {
        watch.print_elapsed(label + "\n");
        aj::sleep_for(absl::Milliseconds(100));
      },
      {.label = label, .required = std::move(required)});
}

// A reusable piece of workflow: a diamond subj1 -> {subj2, subj3} -> subj4.
std::shared_ptr<aj::Scheduler> diamond(const std::string& label) {
  auto sub = aj::make_scheduler(aj::SchedulerOptions{.label = label});
  auto subj1 = aprint("subj1");
  auto subj2 = aprint("subj2", {subj1});
  auto subj3 = aprint("subj3", {subj1});
  sub->update({subj1, subj2, subj3, aprint("subj4", {subj2, subj3})});
  return sub;
}

}  // namespace

int main() {
  auto sub = diamond("critical nested");
  aj::Scheduler main_sched{aj::Sequence{aprint("main-start"), sub, aprint("main-end")}};
  std::cout << "main has " << main_sched.size() << " jobs, "
            << main_sched.iterate_jobs().size() << " at all depths\n";
  bool ok = main_sched.run();
  std::cout << "run() returned " << std::boolalpha << ok << "; the nested scheduler's result: "
            << sub->result<bool>() << "\n";
}
