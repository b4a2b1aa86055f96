// Sequence: a chain of jobs, each requiring the previous one, without writing require()
// by hand. Sequences nest and can be extended with append().
//
//   ./bazelw run //examples:sequence
#include <iostream>
#include <string>

#include "asyncjobs/asyncjobs.h"

namespace aj = asyncjobs;

namespace {

aj::Watch watch;

// A job that prints its label, then sleeps `ms` milliseconds.
std::shared_ptr<aj::Job> step(const std::string& label, int ms = 100) {
  return aj::make_job(
      [label, ms] {
        watch.print_elapsed(label + "\n");
        aj::sleep_for(absl::Milliseconds(ms));
      },
      {.label = label});
}

}  // namespace

int main() {
  // setup -> {fetch -> unpack} -> build; `lint` runs beside the whole chain.
  aj::Sequence fetch{step("fetch"), step("unpack")};
  aj::Sequence chain{step("setup"), fetch, step("build")};
  chain.append(step("install"));  // requires "build"

  auto lint = step("lint", 250);
  auto report = step("report", 0);
  report->require(chain, lint);  // a Sequence stands for its last job: "install"

  aj::Scheduler scheduler{chain, lint, report};
  for (const aj::JobPtr& job : scheduler.topological_order()) {
    std::cout << job->label() << " requires {";
    for (const aj::JobPtr& r : job->required()) std::cout << " " << r->label();
    std::cout << " }\n";
  }
  watch.reset();
  bool ok = scheduler.run();
  std::cout << "run() returned " << std::boolalpha << ok << "\n";
}
