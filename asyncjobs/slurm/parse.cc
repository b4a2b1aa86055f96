// Parsers of sbatch's and scontrol's output.
#include "asyncjobs/slurm/parse.h"

#include <array>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

namespace asyncjobs::slurm::internal {
namespace {

absl::string_view first_line(absl::string_view text) { return text.substr(0, text.find('\n')); }

// "3:0" (Slurm's ExitCode=code:signal) into the result's exit code and signal.
void parse_exit_code(absl::string_view value, BatchResult& result) {
  const std::pair<absl::string_view, absl::string_view> parts = absl::StrSplit(value, ':');
  if (!absl::SimpleAtoi(parts.first, &result.exit_code)) result.exit_code = -1;
  if (!absl::SimpleAtoi(parts.second, &result.signal)) result.signal = 0;
}

}  // namespace

std::string parse_submitted_id(const std::string& out) {
  const absl::string_view line = first_line(out);
  const absl::string_view id = absl::StripAsciiWhitespace(line.substr(0, line.find(';')));
  if (id.empty() || !absl::c_all_of(id, absl::ascii_isdigit)) return "";
  return std::string(id);
}

std::optional<BatchResult> parse_job_record(const std::string& out) {
  BatchResult result;
  bool has_state = false;
  // JobId and JobState come first; a later value (Command=, WorkDir=) may contain spaces.
  for (absl::string_view field : absl::StrSplit(first_line(out), ' ')) {
    if (absl::ConsumePrefix(&field, "JobId=") && result.job_id.empty()) {
      result.job_id = std::string(field);
    } else if (absl::ConsumePrefix(&field, "JobState=") && !has_state) {
      result.state = std::string(field);
      has_state = true;
    } else if (absl::ConsumePrefix(&field, "ExitCode=")) {
      parse_exit_code(field, result);
    }
  }
  if (!has_state) return std::nullopt;
  return result;
}

bool is_final_state(const std::string& state) {
  static constexpr std::array<absl::string_view, 9> kFinal = {
      "BOOT_FAIL", "CANCELLED",     "COMPLETED", "DEADLINE", "FAILED",
      "NODE_FAIL", "OUT_OF_MEMORY", "PREEMPTED", "TIMEOUT"};
  return absl::c_linear_search(kFinal, absl::string_view(state));
}

}  // namespace asyncjobs::slurm::internal
