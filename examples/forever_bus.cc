// A forever job: a monitor reading a message bus (an aj::Queue) that the other jobs write
// to. The scheduler does not wait for forever jobs; once every other job is done it cancels
// them (the original's example C).
//
//   ./bazelw run //examples:forever_bus
#include <iostream>
#include <string>

#include "absl/strings/str_cat.h"
#include "asyncjobs/asyncjobs.h"

namespace aj = asyncjobs;

int main() {
  aj::Watch watch;
  aj::Queue<std::string> bus;  // unbounded; get() suspends the monitor while it is empty

  // A job body that reports on the bus instead of printing.
  auto in_out_bus = [&](double seconds) {
    return [&, seconds] {
      bus.put(absl::StrCat(watch.elapsed(), " -> in_out(", seconds, ")"));
      aj::sleep_for(absl::Seconds(seconds));
      bus.put(absl::StrCat(watch.elapsed(), " <- in_out(", seconds, ")"));
      return 10 * seconds;
    };
  };
  auto monitor_loop = [&] {
    int seen = 0;
    try {
      for (;;) {
        std::string message = bus.get();
        std::cout << "BUS: " << message << "\n";
        ++seen;
      }
    } catch (const aj::Cancelled&) {  // only to show it; plain unwinding needs no catch
      std::cout << "monitor cancelled after " << seen << " messages\n";
      throw;
    }
  };

  auto c1 = aj::make_job(in_out_bus(0.2), {.label = "c1"});
  auto c2 = aj::make_job(in_out_bus(0.4), {.label = "c2"});
  auto c3 = aj::make_job(in_out_bus(0.3), {.label = "c3", .required = {c1}});
  auto monitor = aj::make_job(monitor_loop, {.label = "monitor", .forever = true});

  aj::Scheduler scheduler{c1, c2, c3, monitor};
  bool ok = scheduler.run();
  std::cout << "run() returned " << std::boolalpha << ok << "\n";
  std::cout << "c3 returned " << c3->result<double>() << "; monitor is_done() "
            << monitor->is_done() << ", is_cancelled() " << monitor->is_cancelled() << "\n";
}
