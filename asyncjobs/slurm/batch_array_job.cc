// BatchArrayJob: one sbatch --array, one wait for every element, an error naming the
// failed ones.
#include <map>
#include <stdexcept>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "asyncjobs/slurm.h"
#include "asyncjobs/slurm/commands.h"
#include "asyncjobs/slurm/steps.h"

namespace asyncjobs::slurm {
namespace {

// Failed elements named in full in a BatchError; the others are counted.
constexpr size_t kNamedFailures = 10;

// "990 COMPLETED, 10 FAILED": elements per state, states in alphabetical order; elements
// not polled yet are left out.
std::string state_counts(const std::vector<BatchResult>& elements) {
  std::map<std::string, int> counts;
  for (const BatchResult& element : elements) {
    if (!element.state.empty()) ++counts[element.state];
  }
  return absl::StrJoin(counts, ", ", [](std::string* out, const auto& count) {
    absl::StrAppend(out, count.second, " ", count.first);
  });
}

// "Slurm array job 12: 2 of 1000 elements failed: 12_3 FAILED with exit code 1, ..."
BatchError failed_elements_error(const std::string& array_id,
                                 const std::vector<BatchResult>& elements) {
  std::vector<const BatchResult*> failed;
  for (const BatchResult& element : elements) {
    if (!internal::succeeded(element)) failed.push_back(&element);
  }
  std::string text = absl::StrCat("Slurm array job ", array_id, ": ", failed.size(), " of ",
                                  elements.size(), " elements failed: ");
  for (size_t i = 0; i < failed.size() && i < kNamedFailures; ++i) {
    const BatchResult& element = *failed[i];
    absl::StrAppend(&text, i == 0 ? "" : ", ", element.job_id, " ", element.state,
                    " with exit code ", element.exit_code);
    if (element.signal != 0) absl::StrAppend(&text, " and signal ", element.signal);
  }
  if (failed.size() > kNamedFailures) {
    absl::StrAppend(&text, " and ", failed.size() - kNamedFailures, " more");
  }
  return BatchError(text, *failed.front());
}

}  // namespace

BatchArrayJob::BatchArrayJob(BatchOptions batch, int count, JobOptions options)
    : AbstractJob(std::move(options)), batch_(std::move(batch)), count_(count) {
  if (count < 1) throw std::invalid_argument("a BatchArrayJob needs a count of at least 1");
}

Value BatchArrayJob::co_run() {
  submit();
  wait_for(slurm_job_id_);
  for (const BatchResult& element : elements_) {
    if (!internal::succeeded(element)) throw failed_elements_error(slurm_job_id_, elements_);
  }
  return elements_;
}

void BatchArrayJob::submit() {
  slurm_job_id_.clear();
  elements_.clear();
  slurm_job_id_ = internal::submit(batch_, count_);
}

void BatchArrayJob::wait_for(const std::string& job_id) {
  internal::wait_for(job_id, count_, batch_.poll_interval, elements_);
}

std::string BatchArrayJob::details() const {
  std::string text = absl::StrJoin(internal::sbatch_command(batch_, count_), " ");
  if (slurm_job_id_.empty()) return text;
  absl::StrAppend(&text, " (Slurm array job ", slurm_job_id_);
  const std::string counts = state_counts(elements_);
  if (!counts.empty()) absl::StrAppend(&text, ": ", counts);
  return text + ")";
}

std::string BatchArrayJob::format_result() const {
  const auto* elements = std::any_cast<std::vector<BatchResult>>(&stored_result());
  if (elements == nullptr) return AbstractJob::format_result();
  return absl::StrCat(state_counts(*elements), " (Slurm array job ", slurm_job_id_, ")");
}

std::shared_ptr<BatchArrayJob> make_batch_array_job(BatchOptions batch, int count,
                                                    JobOptions options) {
  return std::make_shared<BatchArrayJob>(std::move(batch), count, std::move(options));
}

}  // namespace asyncjobs::slurm
