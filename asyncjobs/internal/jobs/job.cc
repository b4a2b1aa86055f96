// AbstractJob and Job: construction, label, result and times. Their requirements are in
// job_links.cc, their run on a fiber in job_run.cc.
#include "asyncjobs/job.h"

#include <atomic>
#include <new>
#include <stdexcept>

#include "absl/strings/str_cat.h"
#include "asyncjobs/internal/base/clock.h"
#include "asyncjobs/internal/base/type_name.h"
#include "asyncjobs/internal/jobs/job_extras.h"
#include "asyncjobs/internal/jobs/link_stamps.h"

namespace asyncjobs {
namespace {

std::atomic<uint64_t> serial_blocks{0};

// Unique in the process: each thread takes serials from a block of its own, so making a job
// costs no atomic operation.
uint64_t next_serial() {
  constexpr uint64_t kBlock = 1024;
  static thread_local uint64_t next = 0, end = 0;
  if (next == end) {
    next = serial_blocks.fetch_add(1, std::memory_order_relaxed) * kBlock + 1;
    end = next + kBlock;
  }
  return next++;
}

}  // namespace

void AbstractJob::set_forever(bool forever) {
  forever_ = forever;
  if (scheduler_ != nullptr) internal::note_member_change();  // its scheduler counted it
}

AbstractJob::AbstractJob(internal::BorrowedOptions borrowed)
    : critical_(borrowed.options.critical),
      forever_(borrowed.options.forever) {
  JobOptions& options = borrowed.options;
  // Most jobs are given none of what follows.
  if (options.label.empty() && options.key.empty() && options.required.empty() &&
      options.timeout == absl::InfiniteDuration() && options.retries == 0 &&
      options.retry_delay == absl::ZeroDuration()) {
    return;
  }
  // The rest out of line: its message takes a stack buffer (a stack-protector check per job).
  [&]() __attribute__((noinline, cold)) {
    if (options.timeout <= absl::ZeroDuration() || options.retries < 0 ||
        options.retry_delay < absl::ZeroDuration()) {
      throw std::invalid_argument(absl::StrCat("asyncjobs: job ", options.label,
                                               ": timeout must be > 0, retries and "
                                               "retry_delay >= 0"));
    }
    if (!options.label.empty()) extras().label = std::move(options.label);
    if (!options.key.empty()) extras().key = std::move(options.key);
    if (options.timeout != absl::InfiniteDuration() || options.retries > 0) {
      extras().attempts.reset(
          new internal::Attempts{options.timeout, options.retries, options.retry_delay, {}});
    }
    try {
      for (const JobPtr& job : options.required) add_requirement(job.get());
    } catch (...) {  // no destructor will unlink those already made
      unlink_all();
      throw;
    }
  }();
}

AbstractJob::~AbstractJob() { unlink_all(); }

std::string AbstractJob::type_name() const { return internal::unqualified_type_name(typeid(*this)); }

std::string AbstractJob::format_result() const {
  if (!result_.get().has_value() || raised_) return "None";
  return absl::StrCat("<", internal::unqualified_type_name(result_.get().type()), ">");
}

std::string Job::format_result() const {
  if (!stored_result().has_value()) return AbstractJob::format_result();
  std::optional<std::string> text = body_.format(stored_result());
  return text ? *std::move(text) : AbstractJob::format_result();
}

internal::JobExtras& AbstractJob::extras() const {
  if (extras_ == nullptr) extras_ = std::make_unique<internal::JobExtras>();
  return *extras_;
}

internal::Attempts* AbstractJob::attempts_policy() const {
  return extras_ == nullptr ? nullptr : extras_->attempts.get();
}

bool AbstractJob::has_attempt_policy() const { return attempts_policy() != nullptr; }

const std::string& AbstractJob::label() const {
  std::string& label = extras().label;
  if (label.empty()) label = absl::StrCat(is_scheduler_ ? "scheduler" : "job", next_serial());
  return label;
}

void AbstractJob::set_label(std::string label) { extras().label = std::move(label); }

const std::string& AbstractJob::key() const {
  return extras_ != nullptr && !extras_->key.empty() ? extras_->key : label();
}

// --- Running

absl::Time AbstractJob::start_time() const {
  return start_ticks_ == 0 ? absl::InfinitePast() : internal::ticks_to_time(start_ticks_);
}

absl::Time AbstractJob::end_time() const {
  return end_ticks_ == 0 ? absl::InfinitePast() : internal::ticks_to_time(end_ticks_);
}

absl::Duration AbstractJob::timeout() const {
  const internal::Attempts* policy = attempts_policy();
  return policy != nullptr ? policy->timeout : absl::InfiniteDuration();
}

int AbstractJob::retries() const {
  const internal::Attempts* policy = attempts_policy();
  return policy != nullptr ? policy->retries : 0;
}

std::vector<std::pair<absl::Time, absl::Time>> AbstractJob::attempt_times() const {
  auto time = [](int64_t ticks) {
    return ticks == 0 ? absl::InfinitePast() : internal::ticks_to_time(ticks);
  };
  const internal::Attempts* policy = attempts_policy();
  if (policy == nullptr) {
    if (attempts_ == 0) return {};
    return {{start_time(), end_time()}};
  }
  std::vector<std::pair<absl::Time, absl::Time>> times;
  for (const auto& [start, end] : policy->ticks) times.emplace_back(time(start), time(end));
  return times;
}

const Value& AbstractJob::result() const {
  if (state_ != State::kDone) {
    throw std::logic_error(absl::StrCat("asyncjobs: job ", label(), " is not done"));
  }
  if (raised_) std::rethrow_exception(raised_exception());
  return result_.get();
}

}  // namespace asyncjobs
