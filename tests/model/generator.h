#ifndef ASYNCJOBS_TESTS_MODEL_GENERATOR_H_
#define ASYNCJOBS_TESTS_MODEL_GENERATOR_H_

// Random scenarios for the model-based test, one per seed (same seed, same scenario).

#include <cstdint>

#include "tests/model/scenario.h"

namespace asyncjobs::model {

// Scenarios that use real time (sleeps, timeouts that fire), in percent. The others run
// without any sleep: on one cooperative reactor their ordering is exact and instant.
constexpr int kTimedPercent = 5;

// Up to 300 jobs in random DAGs per scheduler, nested schedulers up to 3 levels below the
// top-level one, critical / non-critical / forever flags, bodies that yield, set and wait
// for events, put and get on queues, cancel other nodes, fail on first attempts, sleep
// (timed scenarios only), windows 0/1/2/8, scheduler and per-job timeouts, retries.
Scenario generate_scenario(uint64_t seed);

}  // namespace asyncjobs::model

#endif  // ASYNCJOBS_TESTS_MODEL_GENERATOR_H_
