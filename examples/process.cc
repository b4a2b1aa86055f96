// Commands as jobs: two shell loops run side by side, their lines printed as they arrive,
// then a third job reads what the first one captured.
//
//   ./bazelw run //examples:process
#include <iostream>
#include <string>
#include <string_view>

#include "asyncjobs/asyncjobs.h"

namespace aj = asyncjobs;

// A job running `sh -c script` that prints each line of its output, stamped and tagged.
std::shared_ptr<aj::ProcessJob> loud_shell(const aj::Watch& watch, std::string tag,
                                           std::string script) {
  aj::ProcessOptions process;
  process.argv = {"sh", "-c", std::move(script)};
  process.on_stdout = [&watch, tag](std::string_view line) {
    watch.print_elapsed();
    std::cout << tag << " | " << line << "\n";
  };
  process.on_stderr = [&watch, tag](std::string_view line) {
    watch.print_elapsed();
    std::cout << tag << " ! " << line << "\n";
  };
  aj::JobOptions options;
  options.label = tag;
  return std::make_shared<aj::ProcessJob>(std::move(process), std::move(options));
}

int main() {
  aj::Watch watch;
  auto ticks = loud_shell(watch, "ticks", "for i in 1 2 3; do echo tick $i; sleep 0.2; done");
  auto tocks =
      loud_shell(watch, "tocks", "for i in 1 2; do sleep 0.3; echo tock $i; done; echo done >&2");
  auto report = aj::make_job([&] {
    const auto& result = ticks->result<aj::ProcessResult>();
    std::cout << "ticks exited with " << result.exit_code << " after printing " << result.out.size()
              << " bytes\n";
  });
  report->require(ticks, tocks);

  aj::Scheduler scheduler{ticks, tocks, report};
  return scheduler.run() ? 0 : 1;
}
