#ifndef ASYNCJOBS_TESTS_MODEL_MODEL_H_
#define ASYNCJOBS_TESTS_MODEL_MODEL_H_

// The reference model: plain C++, no fibers. It plays a scenario as the contract
// (fiber_calls.h, job.h and scheduler.h) describes a run on one cooperative reactor: every
// job body is a list of steps between suspension points; a step runs alone; which ready
// step runs next is left open, and each simulation picks one order (see `simulate`).
// Virtual time advances only when nothing is ready.

#include <cstdint>

#include "tests/model/outcome.h"
#include "tests/model/scenario.h"

namespace asyncjobs::model {

struct Simulation {
  Outcome outcome;
  bool deadlock = false;  // nothing ready and no timer pending before the run ended
  bool too_long = false;  // virtual time passed kMaxVirtualUnits
  int64_t end_ms = 0;     // virtual time when the run ended
};

constexpr int64_t kMaxVirtualUnits = 100;

// One run of `scenario`. `schedule` picks the order of ready steps: 0 first-in first-out
// (as the real reactor), 1 last-in first-out, any other value a random order from that
// seed. Where the contract leaves a choice open (a job cancelled after it was woken but
// before it resumed: does it stop at once or at its next suspension point?), 0 takes the
// latter, 1 the former, others choose at random.
Simulation simulate(const Scenario& scenario, uint64_t schedule);

}  // namespace asyncjobs::model

#endif  // ASYNCJOBS_TESTS_MODEL_MODEL_H_
