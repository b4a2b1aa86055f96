// Controlling a run: a flaky job retried, a slow one cut by its own timeout, a job cancelled
// by another, and Ctrl-C (SIGINT) or SIGTERM cancelling the whole run cleanly.
//   ./bazelw run //examples:control          (press Ctrl-C during the last 5 seconds)
#include <signal.h>

#include <iostream>

#include "absl/strings/str_cat.h"
#include "asyncjobs/asyncjobs.h"

namespace aj = asyncjobs;

int main() {
  aj::Watch watch;
  int calls = 0;
  // Fails twice, then succeeds: with 3 retries, the third attempt's result is the job's.
  auto flaky = aj::make_job(
      [&] {
        watch.print_elapsed(absl::StrCat("flaky: attempt ", ++calls, "\n"));
        if (calls < 3) throw std::runtime_error("not yet");
        return calls;
      },
      {.label = "flaky", .retries = 3, .retry_delay = absl::Milliseconds(100)});
  // Takes too long: cancelled after 300 ms, it raises TimeoutError; non-critical, so what
  // requires it still runs.
  auto slow = aj::make_job([] { aj::sleep_for(absl::Seconds(10)); },
                           {.label = "slow", .critical = false, .timeout = absl::Milliseconds(300)});
  auto after_slow = aj::make_print_job({"slow is over"}, {}, {.label = "after slow", .required = {slow}});
  // Would sleep for a minute, but `canceller` cancels it; so `unreached` never starts.
  auto doomed = aj::make_job([] { aj::sleep_for(absl::Minutes(1)); }, {.label = "doomed"});
  auto unreached = aj::make_print_job({"never printed"}, {}, {.label = "unreached", .required = {doomed}});
  auto canceller = aj::make_job([&] {
    aj::sleep_for(absl::Milliseconds(500));
    doomed->cancel();
  }, {.label = "canceller"});
  // Press Ctrl-C while it waits: the whole run is cancelled, shutdown runs, run() returns.
  auto patient = aj::make_print_job({"then 5 seconds"}, {.sleep = absl::Seconds(5)},
                                    {.label = "patient", .required = {flaky}});

  aj::Scheduler scheduler({flaky, slow, after_slow, doomed, unreached, canceller, patient},
                          {.label = "control",
                           .critical = false,
                           .watch = &watch,
                           .cancel_on_signals = {SIGINT, SIGTERM}});
  const bool ok = scheduler.run();
  std::cout << "run() returned " << std::boolalpha << ok << ": " << scheduler.why() << "\n";
  std::cout << "flaky returned " << flaky->result<int>() << " after " << flaky->attempts()
            << " attempts\n";
  scheduler.list(/*details=*/true);
}
