// The model-based random test: thousands of generated scenarios, each run by the real
// Scheduler and compared, node by node, with what the reference model allows.
//
// MODEL_SEED=<n>       runs that one scenario and prints its listing and both outcomes.
// MODEL_SCENARIOS=<n>  how many scenarios (default 2000), from MODEL_FIRST_SEED (default 1).
// MODEL_WATCHDOG_SECONDS=<n>  a real run taking longer is cancelled (default 20).
// MODEL_STRICT=1       also checks the deadlocks the real reactor reports late (see
//                      prediction.h); each such scenario then waits for its stale timers.

#include <cstdlib>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/model/generator.h"
#include "tests/model/prediction.h"
#include "tests/model/real_run.h"

namespace asyncjobs::model {
namespace {

constexpr int kSamples = 12;         // orders simulated per scenario
constexpr int kWiderSamples = 400;   // more orders before a mismatch is reported

uint64_t env_number(const char* name, uint64_t otherwise) {
  const char* text = std::getenv(name);
  return text == nullptr ? otherwise : std::strtoull(text, nullptr, 10);
}

struct Tally {
  int checked = 0, timed = 0, deadlocks = 0, skipped = 0, failed = 0;
  int fitted_on_slow_clock = 0;  // timed scenarios whose timers were late by a unit or more
  std::map<std::string, int> skipped_because;
  size_t exact = 0, open = 0;  // node predictions with one outcome, with several
};

std::string report(const Scenario& scenario, const std::vector<std::string>& lines) {
  std::string text = "MISMATCH (reproduce with MODEL_SEED=" + std::to_string(scenario.seed) + ")\n";
  for (const std::string& line : lines) text += "  " + line + "\n";
  return text + describe(scenario);
}

// Runs `scenario` for real; returns how it differs from `prediction` (empty when it fits).
std::vector<std::string> run_and_compare(const Scenario& scenario, Prediction& prediction,
                                         bool verbose) {
  // A hang is cancelled by a watchdog (MODEL_WATCHDOG_SECONDS, default 20).
  const Outcome real =
      run_for_real(scenario, absl::Seconds(env_number("MODEL_WATCHDOG_SECONDS", 20)));
  std::vector<std::string> lines = mismatches(prediction, real);
  if (!lines.empty()) {  // perhaps an order the first samples missed
    widen(prediction, scenario, kWiderSamples, 1000);
    lines = mismatches(prediction, real);
  }
  if (verbose) {
    std::cout << "real run (unit " << scenario.unit_ms << " ms): " << to_string(real.run) << "\n";
    for (size_t i = 1; i < real.nodes.size(); ++i) {
      std::cout << "  " << label_of(static_cast<int>(i)) << ": " << to_string(real.nodes[i]) << "\n";
    }
  }
  return lines;
}

// Checks one scenario; returns the mismatches (empty when the real run fits the model). A
// timed scenario that does not fit is run again on the slow clock (scenario.h): a run whose
// timers were late by more than a unit fits there, a wrong outcome does not.
std::vector<std::string> check(Scenario& scenario, Tally& tally, bool verbose) {
  const bool strict = env_number("MODEL_STRICT", 0) != 0;
  Prediction prediction = predict(scenario, kSamples, 2, strict);
  if (verbose) std::cout << describe(scenario) << std::flush;
  if (!prediction.unusable.empty()) {
    ++tally.skipped;
    ++tally.skipped_because[prediction.unusable];
    if (verbose) std::cout << "skipped: " << prediction.unusable << "\n";
    return {};
  }
  std::vector<std::string> lines = run_and_compare(scenario, prediction, verbose);
  if (!lines.empty() && scenario.timed) {
    scenario.unit_ms = kSlowUnitMs;
    prediction = predict(scenario, kSamples, 2, strict);
    lines = run_and_compare(scenario, prediction, verbose);
    if (lines.empty()) ++tally.fitted_on_slow_clock;
  }
  ++tally.checked;
  tally.timed += scenario.timed ? 1 : 0;
  tally.deadlocks += prediction.deadlock ? 1 : 0;
  for (const auto& outcomes : prediction.nodes) {
    if (outcomes.size() == 1) ++tally.exact;
    if (outcomes.size() > 1) ++tally.open;
  }
  return lines;
}

TEST(SchedulerModelTest, RealRunsFitTheModel) {
  Tally tally;
  const absl::Time start = absl::Now();
  if (const char* one = std::getenv("MODEL_SEED")) {
    Scenario scenario = generate_scenario(std::strtoull(one, nullptr, 10));
    const std::vector<std::string> lines = check(scenario, tally, true);
    if (!lines.empty()) ADD_FAILURE() << report(scenario, lines);
    return;
  }
  const uint64_t first = env_number("MODEL_FIRST_SEED", 1);
  const uint64_t count = env_number("MODEL_SCENARIOS", 2000);
  for (uint64_t seed = first; seed < first + count; ++seed) {
    Scenario scenario = generate_scenario(seed);
    const std::vector<std::string> lines = check(scenario, tally, false);
    if (lines.empty()) continue;
    ++tally.failed;
    ADD_FAILURE() << report(scenario, lines);
  }
  std::cout << tally.checked << " scenarios checked (" << tally.timed << " timed, "
            << tally.deadlocks << " deadlocks, " << tally.fitted_on_slow_clock
            << " fitted only on the slow clock), " << tally.skipped << " skipped, "
            << tally.failed << " failed; node predictions: " << tally.exact << " exact, "
            << tally.open << " open races; " << absl::FormatDuration(absl::Now() - start) << "\n";
  for (const auto& [reason, count] : tally.skipped_because) {
    std::cout << "  skipped " << count << ": " << reason << "\n";
  }
}

}  // namespace
}  // namespace asyncjobs::model
