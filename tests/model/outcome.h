#ifndef ASYNCJOBS_TESTS_MODEL_OUTCOME_H_
#define ASYNCJOBS_TESTS_MODEL_OUTCOME_H_

// What a run leaves behind, in a form the model and the real run both produce: each node's
// fate and the top-level run's result, why() and failure flags.

#include <cstdint>
#include <string>
#include <vector>

namespace asyncjobs::model {

enum class Fate {
  kValue,      // done, returned `value` (a Scheduler: 1 for true, 0 for false)
  kRaised,     // done, raised `error`
  kCancelled,  // is_cancelled() and not done
  kNotRun,     // idle, not cancelled
  kStuck,      // anything else (scheduled or running after the run): never expected
};

// Error tags: "Boom:<what>", "int:<n>", "Timeout:job:<label>", "Timeout:scheduler",
// "RunCancelled", "deadlock", "other:<what>", "unknown".
struct NodeOutcome {
  Fate fate = Fate::kNotRun;
  int64_t value = 0;
  std::string error;
  int attempts = 0;
  std::string why;  // a nested scheduler that is done: its why() and flags, else empty
  bool operator==(const NodeOutcome&) const = default;
  auto operator<=>(const NodeOutcome&) const = default;
};

struct RunOutcome {
  std::string result;  // "true", "false", "throws <tag>" or "deadlock"
  std::string why;     // why() [failed_critical failed_time_out]; empty after a deadlock
  bool operator==(const RunOutcome&) const = default;
  auto operator<=>(const RunOutcome&) const = default;
};

struct Outcome {
  RunOutcome run;
  std::vector<NodeOutcome> nodes;  // by node index; node 0 unused
};

std::string to_string(const NodeOutcome& outcome);
std::string to_string(const RunOutcome& outcome);
// why() followed by the two flags, as RunOutcome::why and NodeOutcome::why hold them.
std::string why_text(const std::string& why, bool failed_critical, bool failed_time_out);

}  // namespace asyncjobs::model

#endif  // ASYNCJOBS_TESTS_MODEL_OUTCOME_H_
