#ifndef ASYNCJOBS_TESTS_MODEL_PREDICTION_H_
#define ASYNCJOBS_TESTS_MODEL_PREDICTION_H_

// What the contract allows a scenario to end with: the model's simulations under many
// orders of ready steps, each node's and the run's outcomes gathered into sets. A node (or
// the run) whose set has one element is predicted exactly; a larger set means the contract
// leaves a race open there, and any of its elements is accepted.

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "tests/model/model.h"
#include "tests/model/outcome.h"
#include "tests/model/scenario.h"

namespace asyncjobs::model {

struct Prediction {
  // Empty when the scenario can be checked; else why not (it is then skipped): some orders
  // deadlock and others do not, time would pass in a scenario meant to have none, or a
  // run would take too long.
  std::string unusable;
  bool deadlock = false;  // every order deadlocks: the run must end with the deadlock error
  int samples = 0;
  std::set<RunOutcome> run;
  std::vector<std::set<NodeOutcome>> nodes;
  int64_t longest_ms = 0;  // virtual duration of the longest simulated run
};

// Simulates `samples` orders (0: FIFO, 1: LIFO, then random ones from `first_random`).
// Unless `strict`, a deadlock in a scenario that arms timers (per-job timeouts, nested
// schedulers' shutdown) is left out: the real reactor reports such a deadlock only once
// every timer ever armed has expired (see adversarial_test.cc, DeadlockIsReportedAtOnce*).
Prediction predict(const Scenario& scenario, int samples, uint64_t first_random = 2,
                   bool strict = false);
// Adds `samples` more random orders, from `first_random` on.
void widen(Prediction& prediction, const Scenario& scenario, int samples, uint64_t first_random);

// Differences between a real outcome and a prediction, one line each; empty when it fits.
std::vector<std::string> mismatches(const Prediction& prediction, const Outcome& real);

}  // namespace asyncjobs::model

#endif  // ASYNCJOBS_TESTS_MODEL_PREDICTION_H_
