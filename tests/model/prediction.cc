// Gathers simulations into a prediction, and compares a real outcome with it.
#include "tests/model/prediction.h"

#include <algorithm>

namespace asyncjobs::model {
namespace {

void add(Prediction& prediction, const Scenario& scenario, uint64_t schedule) {
  const Simulation simulation = simulate(scenario, schedule);
  ++prediction.samples;
  prediction.longest_ms = std::max(prediction.longest_ms, simulation.end_ms);
  if (simulation.too_long) prediction.unusable = "a run would take too long";
  if (!scenario.timed && simulation.end_ms > 0) prediction.unusable = "time would pass";
  if (simulation.deadlock != prediction.deadlock) {
    if (prediction.samples == 1) {
      prediction.deadlock = true;
    } else {
      prediction.unusable = "only some orders deadlock";
    }
  }
  if (simulation.deadlock) return;
  prediction.run.insert(simulation.outcome.run);
  prediction.nodes.resize(simulation.outcome.nodes.size());
  for (size_t i = 1; i < simulation.outcome.nodes.size(); ++i) {
    prediction.nodes[i].insert(simulation.outcome.nodes[i]);
  }
}

std::string alternatives(const std::set<NodeOutcome>& outcomes) {
  std::string text;
  for (const NodeOutcome& outcome : outcomes) text += (text.empty() ? "" : " | ") + to_string(outcome);
  return text;
}

std::string alternatives(const std::set<RunOutcome>& outcomes) {
  std::string text;
  for (const RunOutcome& outcome : outcomes) text += (text.empty() ? "" : " | ") + to_string(outcome);
  return text;
}

}  // namespace

// Whether the run arms a timer that outlives its use: a per-job timeout (the alarm of an
// attempt that ended) or a nested scheduler (its shutdown waits with shutdown_timeout).
bool arms_stale_timers(const Scenario& scenario) {
  for (size_t i = 1; i < scenario.nodes.size(); ++i) {
    if (scenario.nodes[i].is_scheduler || scenario.nodes[i].timeout != 0) return true;
  }
  return false;
}

Prediction predict(const Scenario& scenario, int samples, uint64_t first_random, bool strict) {
  Prediction prediction;
  add(prediction, scenario, 0);
  if (samples > 1) add(prediction, scenario, 1);
  widen(prediction, scenario, samples - 2, first_random);
  if (!strict && prediction.deadlock && arms_stale_timers(scenario)) {
    prediction.unusable = "known discrepancy: a deadlock is reported only once stale timers expire";
  }
  return prediction;
}

void widen(Prediction& prediction, const Scenario& scenario, int samples, uint64_t first_random) {
  for (int i = 0; i < samples && prediction.unusable.empty(); ++i) {
    add(prediction, scenario, first_random + static_cast<uint64_t>(i));
  }
}

std::vector<std::string> mismatches(const Prediction& prediction, const Outcome& real) {
  std::vector<std::string> lines;
  if (prediction.deadlock) {
    if (real.run.result != "deadlock") {
      lines.push_back("run: expected the deadlock error, got " + to_string(real.run));
    }
    return lines;  // the jobs' states after a deadlock are not specified
  }
  if (!prediction.run.contains(real.run)) {
    lines.push_back("run: expected " + alternatives(prediction.run) + "; got " + to_string(real.run));
  }
  for (size_t i = 1; i < prediction.nodes.size() && i < real.nodes.size(); ++i) {
    if (prediction.nodes[i].contains(real.nodes[i])) continue;
    lines.push_back(label_of(static_cast<int>(i)) + ": expected " +
                    alternatives(prediction.nodes[i]) + "; got " + to_string(real.nodes[i]));
  }
  return lines;
}

}  // namespace asyncjobs::model
