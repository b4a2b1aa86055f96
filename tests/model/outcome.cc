// Text forms of outcomes, for failure messages.
#include "tests/model/outcome.h"

namespace asyncjobs::model {

std::string to_string(const NodeOutcome& outcome) {
  std::string text;
  switch (outcome.fate) {
    case Fate::kValue: text = "value " + std::to_string(outcome.value); break;
    case Fate::kRaised: text = "raised " + outcome.error; break;
    case Fate::kCancelled: text = "cancelled"; break;
    case Fate::kNotRun: text = "not run"; break;
    case Fate::kStuck: text = "STUCK (neither done, cancelled nor idle)"; break;
  }
  text += ", " + std::to_string(outcome.attempts) + " attempt(s)";
  if (!outcome.why.empty()) text += ", why " + outcome.why;
  return text;
}

std::string to_string(const RunOutcome& outcome) {
  return outcome.result + (outcome.why.empty() ? "" : ", why " + outcome.why);
}

std::string why_text(const std::string& why, bool failed_critical, bool failed_time_out) {
  return "\"" + why + "\"" + (failed_critical ? " failed_critical" : "") +
         (failed_time_out ? " failed_time_out" : "");
}

}  // namespace asyncjobs::model
