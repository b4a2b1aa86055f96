// The jobs window: at most `jobs_window` jobs run at once; the others wait, scheduled, for
// a slot. Eight jobs of 0.5s with a window of 4 take about 1s (the original's example).
//
//   ./bazelw run //examples:window
#include <algorithm>
#include <iostream>
#include <string>

#include "absl/strings/str_cat.h"
#include "asyncjobs/asyncjobs.h"

namespace aj = asyncjobs;

int main() {
  aj::Watch watch;
  int running = 0;
  int most = 0;

  aj::Scheduler scheduler{{.jobs_window = 4}};
  for (int i = 1; i <= 8; ++i) {
    scheduler.add(aj::make_job(
        [&, i] {
          most = std::max(most, ++running);
          watch.print_elapsed(absl::StrCat(i, "-th job\n"));
          aj::sleep_for(absl::Milliseconds(500));
          --running;
        },
        {.label = absl::StrCat("job ", i)}));
  }
  scheduler.run();
  std::cout << "total duration = " << watch.elapsed() << "s, at most " << most
            << " jobs at once\n";
}
