// BatchResult and an array's results in a run's journal.
#include <stdexcept>
#include <string>
#include <vector>

#include "asyncjobs/journal.h"
#include "asyncjobs/slurm.h"

namespace asyncjobs {

using slurm::BatchResult;
using Strings = ResultCodec<std::vector<std::string>>;

std::string ResultCodec<BatchResult>::encode(const BatchResult& result) {
  return Strings::encode({result.job_id, result.state, std::to_string(result.exit_code),
                          std::to_string(result.signal)});
}

BatchResult ResultCodec<BatchResult>::decode(std::string_view text) {
  std::vector<std::string> fields = Strings::decode(text);
  if (fields.size() != 4) throw std::invalid_argument("not a BatchResult");
  return BatchResult{.job_id = std::move(fields[0]),
                     .state = std::move(fields[1]),
                     .exit_code = ResultCodec<int>::decode(fields[2]),
                     .signal = ResultCodec<int>::decode(fields[3])};
}

std::string ResultCodec<std::vector<BatchResult>>::encode(
    const std::vector<BatchResult>& results) {
  std::vector<std::string> elements;
  elements.reserve(results.size());
  for (const BatchResult& result : results) {
    elements.push_back(ResultCodec<BatchResult>::encode(result));
  }
  return Strings::encode(elements);
}

std::vector<BatchResult> ResultCodec<std::vector<BatchResult>>::decode(std::string_view text) {
  std::vector<BatchResult> results;
  for (const std::string& element : Strings::decode(text)) {
    results.push_back(ResultCodec<BatchResult>::decode(element));
  }
  return results;
}

}  // namespace asyncjobs
