// A timeout for the whole run. When it expires every running job is cancelled: `Cancelled`
// is thrown at its suspension point and its stack unwinds, so destructors run. A critical
// scheduler throws TimeoutError; a non-critical one returns false.
//
//   ./bazelw run //examples:timeout
#include <iostream>

#include "asyncjobs/asyncjobs.h"

namespace aj = asyncjobs;

namespace {

aj::Watch watch;

// Prints when it goes away, whether the job returned or was cancelled.
struct Cleanup {
  ~Cleanup() { watch.print_elapsed("cleanup: the ticker's destructors ran\n"); }
};

void ticker() {
  Cleanup cleanup;
  for (int i = 0;; ++i) {
    watch.print_elapsed("tick " + std::to_string(i) + "\n");
    aj::sleep_for(absl::Milliseconds(100));
  }
}

}  // namespace

int main() {
  std::cout << std::boolalpha;
  // Non-critical scheduler: run() returns false, why() says what happened.
  auto forever = aj::make_job(ticker, {.label = "ticker", .forever = true});
  aj::Scheduler lenient{{forever},
                        {.label = "lenient", .critical = false, .timeout = absl::Milliseconds(250),
                         .watch = &watch}};
  bool ok = lenient.run();
  std::cout << "run() returned " << ok << ", why(): " << lenient.why()
            << ", ticker cancelled: " << forever->is_cancelled() << "\n";

  // Critical scheduler (the default): run() throws aj::TimeoutError.
  watch.reset();
  auto slow = aj::make_job([] { aj::sleep_for(absl::Seconds(10)); }, {.label = "slow"});
  aj::Scheduler strict{{slow},
                       {.label = "strict", .timeout = absl::Milliseconds(150), .watch = &watch}};
  try {
    strict.run();
  } catch (const aj::TimeoutError& e) {
    std::cout << "TimeoutError: " << e.what() << " (" << strict.why() << ")\n";
  }
}
