// The smallest asyncjobs program: two jobs run side by side on one thread, a third one
// runs once both are done.
//
//   ./bazelw run //examples:hello
#include <iostream>

#include "asyncjobs/asyncjobs.h"

namespace aj = asyncjobs;

int main() {
  aj::Watch watch;
  // A job body is an ordinary function; aj::sleep_for suspends only this job.
  auto hello = aj::make_job([&] {
    aj::sleep_for(absl::Milliseconds(200));
    watch.print_elapsed("hello\n");
  });
  auto world = aj::make_job([&] {
    aj::sleep_for(absl::Milliseconds(200));
    watch.print_elapsed("world\n");
    return 42;
  });
  auto bye = aj::make_job([&] { watch.print_elapsed("bye\n"); }, {.required = {hello, world}});

  aj::Scheduler scheduler{hello, world, bye};
  bool ok = scheduler.run();
  std::cout << "run() returned " << std::boolalpha << ok << "; world returned "
            << world->result<int>() << "\n";
}
