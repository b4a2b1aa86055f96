// Watching a run: 200 commands of random length, some failing, sixteen at a time, under the
// live progress view (counts, time left, each running job's last line). Ctrl-C drains the
// run (what runs finishes, nothing new starts); a second Ctrl-C cancels it.
//
//   ./bazelw run //examples:progress            (on a terminal: the live view)
//   ./bazelw run //examples:progress | cat      (not a terminal: time-stamped lines)
#include <signal.h>

#include <iostream>
#include <random>
#include <string>

#include "absl/strings/str_format.h"
#include "asyncjobs/asyncjobs.h"

namespace aj = asyncjobs;

// `sh -c` printing "step i of n" every few tenths of a second; one in ten gives up.
std::shared_ptr<aj::ProcessJob> random_task(int index, std::mt19937& random) {
  const int steps = 1 + static_cast<int>(random() % 6);
  std::string script =
      absl::StrFormat("for i in $(seq %d); do echo \"step $i of %d\"; sleep 0.%d; done", steps,
                      steps, 1 + static_cast<int>(random() % 4));
  if (random() % 10 == 0) script += "; echo 'giving up' >&2; exit 1";
  aj::ProcessOptions process;
  process.argv = {"sh", "-c", script};
  aj::JobOptions options;
  options.label = absl::StrFormat("task-%03d", index);
  options.critical = false;  // a failure does not stop the others
  return std::make_shared<aj::ProcessJob>(std::move(process), std::move(options));
}

int main() {
  std::mt19937 random(2026);
  aj::Scheduler scheduler({.label = "progress",
                           .critical = false,
                           .jobs_window = 16,
                           .progress = aj::Progress::kAuto,
                           .drain_on_signals = {SIGINT}});
  for (int i = 0; i < 200; ++i) scheduler.add(random_task(i, random));
  const bool ok = scheduler.run();
  std::cout << "run: " << scheduler.why() << "\n";
  return ok ? 0 : 1;
}
