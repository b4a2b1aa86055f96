#ifndef ASYNCJOBS_TESTS_MODEL_REAL_RUN_H_
#define ASYNCJOBS_TESTS_MODEL_REAL_RUN_H_

// Builds a scenario with the real asyncjobs Scheduler, runs it and reads what it left, in
// the model's terms.

#include "absl/time/time.h"
#include "tests/model/outcome.h"
#include "tests/model/scenario.h"

namespace asyncjobs::model {

// Runs `scenario`; a run that outlives `watchdog` is cancelled with request_cancel() (its
// outcome then says RunCancelled or "CANCELLED", which no prediction contains).
Outcome run_for_real(const Scenario& scenario, absl::Duration watchdog);

}  // namespace asyncjobs::model

#endif  // ASYNCJOBS_TESTS_MODEL_REAL_RUN_H_
