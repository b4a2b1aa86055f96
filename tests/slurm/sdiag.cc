// slurmctld's RPC counters, read with sdiag.
#include "tests/slurm/sdiag.h"

#include <vector>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "asyncjobs/process_job.h"

namespace asyncjobs::slurm::testing {

std::map<std::string, long> rpc_counts() {
  const ProcessResult shown = run_process({.argv = {"sdiag"}});
  std::map<std::string, long> counts;
  bool in_section = false;
  for (absl::string_view line : absl::StrSplit(shown.out, '\n')) {
    if (absl::StartsWith(line, "Remote Procedure Call statistics")) {
      in_section = absl::StrContains(line, "by message type");
      continue;
    }
    const std::vector<absl::string_view> fields = absl::StrSplit(line, ' ', absl::SkipEmpty());
    const auto count = absl::c_find_if(
        fields, [](absl::string_view field) { return absl::StartsWith(field, "count:"); });
    long value = 0;
    if (in_section && !fields.empty() && count != fields.end() &&
        absl::SimpleAtoi(count->substr(6), &value)) {
      counts[std::string(absl::StripAsciiWhitespace(fields[0]))] = value;
    }
  }
  return counts;
}

long job_info_rpcs(const std::map<std::string, long>& counts) {
  long sum = 0;
  for (const auto& [type, count] : counts) {
    if (absl::StartsWith(type, "REQUEST_JOB_INFO")) sum += count;
  }
  return sum;
}

std::string rpc_difference(const std::map<std::string, long>& before,
                           const std::map<std::string, long>& after) {
  std::vector<std::string> parts;
  for (const auto& [type, count] : after) {
    const auto old = before.find(type);
    const long difference = count - (old == before.end() ? 0 : old->second);
    if (difference != 0) parts.push_back(absl::StrCat(type, " ", difference));
  }
  return absl::StrJoin(parts, ", ");
}

}  // namespace asyncjobs::slurm::testing
