// Parsers of sbatch's, squeue's and scontrol's output.
#include "asyncjobs/slurm/parse.h"

#include <array>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
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

// Names the element "12_3", as Slurm does; a plain job keeps its id.
void name_result(JobRecord& record) {
  record.result.job_id = record.array_index < 0
                             ? record.job_id
                             : absl::StrCat(record.job_id, "_", record.array_index);
}

// "N/A" (a plain job) is -1; false for anything else that is not a single index.
bool parse_array_index(absl::string_view text, int& index) {
  if (text == "N/A") {
    index = -1;
    return true;
  }
  return absl::SimpleAtoi(text, &index) && index >= 0;
}

std::optional<JobRecord> parse_squeue_line(absl::string_view line) {
  // The reason comes last: it may hold spaces ("launch failed requeued held").
  const std::vector<absl::string_view> fields = absl::StrSplit(line, absl::MaxSplits(' ', 4));
  JobRecord record;
  int status = 0;
  if (fields.size() != 5 || !parse_array_index(fields[1], record.array_index) ||
      !absl::SimpleAtoi(fields[3], &status)) {
    return std::nullopt;
  }
  record.job_id = std::string(fields[0]);
  record.reason = std::string(absl::StripAsciiWhitespace(fields[4]));
  record.result.state = std::string(fields[2]);
  record.result.exit_code = (status >> 8) & 0xff;  // a wait status, as waitpid gives it
  record.result.signal = status & 0x7f;
  name_result(record);
  return record;
}

std::optional<JobRecord> parse_scontrol_line(absl::string_view line) {
  JobRecord record;
  std::string job_id, array_job_id;
  bool has_state = false;
  // The ids and JobState come first; a later value (Command=, WorkDir=) may contain spaces.
  for (absl::string_view field : absl::StrSplit(line, ' ')) {
    if (absl::ConsumePrefix(&field, "JobId=") && job_id.empty()) {
      job_id = std::string(field);
    } else if (absl::ConsumePrefix(&field, "ArrayJobId=") && array_job_id.empty()) {
      array_job_id = std::string(field);
    } else if (absl::ConsumePrefix(&field, "ArrayTaskId=")) {
      if (!parse_array_index(field, record.array_index)) return std::nullopt;
    } else if (absl::ConsumePrefix(&field, "JobState=") && !has_state) {
      record.result.state = std::string(field);
      has_state = true;
    } else if (absl::ConsumePrefix(&field, "ExitCode=")) {
      parse_exit_code(field, record.result);
    }
  }
  if (!has_state) return std::nullopt;
  record.job_id = array_job_id.empty() ? job_id : array_job_id;
  name_result(record);
  return record;
}

template <class ParseLine>
std::vector<JobRecord> parse_lines(const std::string& out, ParseLine parse_line) {
  std::vector<JobRecord> records;
  for (absl::string_view line : absl::StrSplit(out, '\n', absl::SkipWhitespace())) {
    if (std::optional<JobRecord> record = parse_line(line)) records.push_back(std::move(*record));
  }
  return records;
}

}  // namespace

std::string parse_submitted_id(const std::string& out) {
  const absl::string_view line = first_line(out);
  const absl::string_view id = absl::StripAsciiWhitespace(line.substr(0, line.find(';')));
  if (id.empty() || !absl::c_all_of(id, absl::ascii_isdigit)) return "";
  return std::string(id);
}

std::vector<JobRecord> parse_squeue(const std::string& out) {
  return parse_lines(out, parse_squeue_line);
}

std::vector<JobRecord> parse_job_records(const std::string& out) {
  return parse_lines(out, parse_scontrol_line);
}

bool is_held_after_failed_launch(const JobRecord& record) {
  return record.result.state == "PENDING" &&
         (record.reason == "launch failed requeued held" ||
          record.reason == "launch_failed_requeued_held");
}

bool is_final_state(const std::string& state) {
  static constexpr std::array<absl::string_view, 9> kFinal = {
      "BOOT_FAIL", "CANCELLED",     "COMPLETED", "DEADLINE", "FAILED",
      "NODE_FAIL", "OUT_OF_MEMORY", "PREEMPTED", "TIMEOUT"};
  return absl::c_linear_search(kFinal, absl::string_view(state));
}

}  // namespace asyncjobs::slurm::internal
