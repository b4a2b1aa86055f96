// AbstractJob and Job: requirements, state, attempts, cancel, and a run on a fiber.
#include "asyncjobs/job.h"

#include <algorithm>
#include <atomic>
#include <stdexcept>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "asyncjobs/internal/base/type_name.h"
#include "asyncjobs/cancelled.h"
#include "asyncjobs/fiber_calls.h"
#include "asyncjobs/internal/base/clock.h"
#include "asyncjobs/internal/jobs/batch_runner.h"
#include "asyncjobs/internal/jobs/job_text.h"
#include "asyncjobs/internal/base/prefetch.h"
#include "asyncjobs/internal/sync/wait_list.h"
#include "asyncjobs/reactor.h"
#include "asyncjobs/sequence.h"

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

namespace internal {
// A job's timeout and retries, and when each attempt ran: only jobs that have either.
struct Attempts {
  absl::Duration timeout;
  int retries;
  absl::Duration retry_delay;
  std::vector<std::pair<int64_t, int64_t>> ticks;  // start and end of each attempt
};

struct JobExtras {
  std::string label;                    // empty: not given nor generated yet
  std::unique_ptr<Attempts> attempts;  // only with a timeout or retries
};
}  // namespace internal

AbstractJob::AbstractJob(JobOptions options)
    : critical_(options.critical),
      forever_(options.forever),
      work_(this) {
  if (options.timeout <= absl::ZeroDuration() || options.retries < 0 ||
      options.retry_delay < absl::ZeroDuration()) {
    throw std::invalid_argument(absl::StrCat(
        "asyncjobs: job ", options.label, ": timeout must be > 0, retries and retry_delay >= 0"));
  }
  if (!options.label.empty()) extras().label = std::move(options.label);
  if (options.timeout != absl::InfiniteDuration() || options.retries > 0) {
    extras().attempts.reset(
        new internal::Attempts{options.timeout, options.retries, options.retry_delay, {}});
  }
  for (const JobPtr& job : options.required) add_requirement(job);
}

AbstractJob::~AbstractJob() = default;

std::string AbstractJob::type_name() const { return internal::unqualified_type_name(typeid(*this)); }

std::string AbstractJob::format_result() const {
  if (!result_.has_value()) return "None";
  return absl::StrCat("<", internal::unqualified_type_name(result_.type()), ">");
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

const std::string* AbstractJob::name_of(void* job) {
  const auto* self = static_cast<const AbstractJob*>(job);
  return self->extras_ == nullptr ? nullptr : &self->extras_->label;
}

internal::BatchHooks AbstractJob::batch_hooks() {
  return {.run = &AbstractJob::run_item,
          .fail = &AbstractJob::fail_start,
          .prefetch = &AbstractJob::prefetch_job,
          .name = &AbstractJob::name_of};
}

// --- Requirements

void AbstractJob::add_requirement(const JobPtr& job) {
  if (!job) throw std::invalid_argument("asyncjobs: require() got a null job");
  if (job.get() == this) return;
  for (const Requirement& existing : required_) {
    if (existing.job == job.get() && !existing.alive.expired()) return;
  }
  required_.push_back({job.get(), job});
}

void AbstractJob::remove_requirement(const JobPtr& job) {
  auto it = std::find_if(required_.begin(), required_.end(), [&](const Requirement& r) {
    return r.job == job.get() && !r.alive.expired();
  });
  if (it == required_.end()) {
    throw std::invalid_argument(absl::StrCat("asyncjobs: ", label(), " does not require ",
                                             job ? job->label() : "a null job"));
  }
  required_.erase(it);
}

void AbstractJob::add_requirements(const Sequence& sequence) {
  if (!sequence.jobs().empty()) add_requirement(sequence.jobs().back());
}

void AbstractJob::add_requirements(const std::vector<JobPtr>& jobs) {
  for (const JobPtr& job : jobs) add_requirement(job);
}

void AbstractJob::remove_requirements(const Sequence& sequence) {
  if (!sequence.jobs().empty()) remove_requirement(sequence.jobs().back());
}

void AbstractJob::remove_requirements(const std::vector<JobPtr>& jobs) {
  for (const JobPtr& job : jobs) remove_requirement(job);
}

std::vector<JobPtr> AbstractJob::required() const {
  std::vector<JobPtr> jobs;
  jobs.reserve(required_.size());
  for (const Requirement& requirement : required_) {
    if (JobPtr job = requirement.alive.lock()) jobs.push_back(std::move(job));
  }
  return jobs;
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
  if (exception_) std::rethrow_exception(exception_);
  return result_;
}

void AbstractJob::start(internal::BatchRunner& runner, internal::JobObserver* observer) {
  if (started_) {
    throw std::logic_error(absl::StrCat("asyncjobs: job ", label(), " has already run"));
  }
  started_ = true;
  observer_ = observer;
  state_ = State::kRunning;
  runner.submit(&work_);
}

void AbstractJob::request_cancel(Reactor& reactor) {
  cancel_requested_ = true;
  if (work_.task() != nullptr) reactor.cancel(work_.task());
}

void AbstractJob::cancel() {
  if (state_ == State::kDone || cancelled_ || cancel_requested_) return;
  cancel_called_ = true;
  cancel_members();
  if (is_unfinished()) {
    request_cancel(*work_.task()->reactor());
  } else if (state_ != State::kRunning) {
    // Not started: it never will. Its scheduler, while running, counts it out at once.
    cancel_requested_ = true;
    if (scheduler_ != nullptr) scheduler_->on_member_cancelled(*this);
  } else {
    cancel_requested_ = true;  // started, not yet on a fiber: its body is skipped
  }
}

int64_t AbstractJob::run_item(internal::WorkItem* item, int64_t start_ticks) {
  auto* job = static_cast<AbstractJob*>(item->owner());
  const int64_t end_ticks = job->run_body(start_ticks);
  job->observer_->on_job_finished(*job);
  return end_ticks;
}

void AbstractJob::fail_start(internal::WorkItem* item, std::exception_ptr error) {
  auto* job = static_cast<AbstractJob*>(item->owner());
  const std::string what = internal::exception_text(error).what;
  const std::string cause = what.empty() ? "unknown error" : what;
  job->exception_ = std::make_exception_ptr(std::runtime_error(
      absl::StrCat("asyncjobs: job `", job->label(), "` could not start: ", cause)));
  job->start_ticks_ = job->end_ticks_ = internal::clock_ticks();
  job->state_ = State::kDone;
  job->observer_->on_job_finished(*job);
}

bool AbstractJob::cancel_requested() const {
  return cancel_requested_ || (work_.task() != nullptr && work_.task()->cancel_requested());
}

void AbstractJob::prefetch_job(void* owner, int stage) {
  const auto* job = static_cast<const AbstractJob*>(owner);
  if (stage == 0) {
    // The whole of a plain Job (its body comes last), from its shared_ptr control block.
    const char* block = internal::shared_control_block(job);
    internal::prefetch_lines(block, reinterpret_cast<const char*>(job) + sizeof(Job) - block);
    return;
  }
  for (const AbstractJob* successor : job->successors_) {
    __builtin_prefetch(&successor->pending_requirements_, 1);
    __builtin_prefetch(&successor->work_, 1);  // where start() queues it
  }
}

int64_t AbstractJob::run_body(int64_t start_ticks) {
  start_ticks_ = start_ticks;
  if (!cancel_requested()) {
    run_attempt();
    while (exception_ != nullptr && retry_after_failure()) run_attempt();
  }
  end_ticks_ = internal::clock_ticks();
  if (cancel_requested() || cancelled_) {
    // However the body ended, a cancelled job ends as cancelled, not done.
    cancelled_ = true;
    exception_ = nullptr;
    result_.reset();
    return end_ticks_;
  }
  state_ = State::kDone;
  return end_ticks_;
}

// One call of co_run(), under the job's timeout if it has one: an attempt cancelled by its
// alarm raises TimeoutError, unless the job itself was cancelled meanwhile.
void AbstractJob::run_attempt() {
  ++attempts_;
  exception_ = nullptr;
  result_.reset();
  Task* task = Task::current();
  internal::Attempts* policy = attempts_policy();
  const bool timed = policy != nullptr && policy->timeout != absl::InfiniteDuration();
  if (policy != nullptr) {
    policy->ticks.emplace_back(attempts_ == 1 ? start_ticks_ : internal::clock_ticks(), 0);
  }
  if (timed) task->reactor()->set_alarm(task, absl::Now() + policy->timeout);
  try {
    result_ = co_run();
  } catch (const Cancelled&) {
    cancelled_ = true;
  } catch (...) {
    exception_ = std::current_exception();
  }
  if (timed) {
    const bool timed_out = task->alarm_fired();
    task->reactor()->clear_alarm(task);
    if (timed_out && !cancel_requested_) {
      task->clear_cancel_request();
      cancelled_ = false;
      result_.reset();
      exception_ = std::make_exception_ptr(TimeoutError(absl::StrCat(
          "job `", label(), "` timed out after ",
          absl::FormatDuration(policy->timeout))));
    }
  }
  if (policy != nullptr) policy->ticks.back().second = internal::clock_ticks();
}

bool AbstractJob::retry_after_failure() {
  const internal::Attempts* policy = attempts_policy();
  if (policy == nullptr || attempts_ > policy->retries || cancel_requested()) return false;
  try {
    if (policy->retry_delay > absl::ZeroDuration()) {
      sleep_for(policy->retry_delay);
    }
  } catch (const Cancelled&) {
    cancelled_ = true;
    return false;
  }
  return true;
}

namespace {

// Wakes the caller of standalone_run when its job ends.
class StandaloneObserver : public internal::JobObserver {
 public:
  void on_job_finished(AbstractJob&) override {
    finished_ = true;
    waiters_.notify_all();
  }
  void wait() {
    while (!finished_) waiters_.wait(absl::InfiniteFuture(), "standalone_run");
  }

 private:
  bool finished_ = false;
  internal::WaitList waiters_;
};

}  // namespace

Value AbstractJob::standalone_run() {
  StandaloneObserver observer;
  if (in_job()) {
    internal::BatchRunner runner(*Reactor::current(), batch_hooks());
    start(runner, &observer);
    CancelShield shield;  // the job must end before this frame goes away
    observer.wait();
  } else {
    Reactor reactor;
    internal::BatchRunner runner(reactor, batch_hooks());
    start(runner, &observer);
    reactor.run();
    if (reactor.stalled()) {
      throw std::runtime_error(absl::StrCat("asyncjobs: deadlock: job ", label(),
                                            " waited for something nothing could provide"));
    }
  }
  if (cancelled_) throw Cancelled();
  return result();
}

AbstractJob* current_job() {
  Task* task = Task::current();
  return task != nullptr ? static_cast<AbstractJob*>(task->owner()) : nullptr;
}

}  // namespace asyncjobs
