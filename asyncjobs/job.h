#ifndef ASYNCJOBS_JOB_H_
#define ASYNCJOBS_JOB_H_

// Jobs: the unit a Scheduler runs, each on a fiber: jobs that return without blocking share
// one (see internal/jobs/batch_runner.h), a job that blocks keeps its own until it returns.
//
// A job is shared (`JobPtr`): schedulers, sequences and user code all hold it. It belongs to
// at most one scheduler. It runs at most once; afterwards its result, exception or
// cancellation stay readable. Not thread-safe: build and run jobs from one thread.

#include <any>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/functional/function_ref.h"
#include "absl/time/time.h"
#include "asyncjobs/errors.h"  // TimeoutError
#include "asyncjobs/internal/base/check.h"
#include "asyncjobs/internal/jobs/inline_callable.h"
#include "asyncjobs/internal/jobs/outcome.h"
#include "asyncjobs/internal/jobs/required_links.h"
#include "asyncjobs/internal/jobs/work_item.h"
#include "asyncjobs/internal/memory/job_pool.h"
#include "asyncjobs/job_event.h"
#include "asyncjobs/journal.h"

namespace asyncjobs {

using Value = std::any;  // what a job returns
class AbstractJob;
using JobPtr = std::shared_ptr<AbstractJob>;
class Sequence;
class Scheduler;
class Reactor;

struct JobOptions {  // (the `{}` keep -Wextra quiet about `{.critical = false}`)
  std::string label{};             // empty: a generated label, unique in the process
  bool critical = true;            // an exception aborts the enclosing scheduler
  bool forever = false;            // not waited for; cancelled once the rest is done
  std::vector<JobPtr> required{};  // same as calling require() with these
  // Once an attempt has run this long it is cancelled and the job raises TimeoutError (its
  // own exception: the critical / non-critical rules apply as for any exception).
  absl::Duration timeout = absl::InfiniteDuration();
  // A job that raises (not one that is cancelled) runs again, up to `retries` more times,
  // `retry_delay` after the failure; result() and raised_exception() are the last attempt's.
  int retries = 0;
  absl::Duration retry_delay = absl::ZeroDuration();
  std::string key{};  // its identity in a journal (SchedulerOptions::journal); empty: label
};

namespace internal {
// Options a constructor reads in place rather than receiving its own copy.
struct BorrowedOptions {
  JobOptions& options;
};
}  // namespace internal

namespace internal {
class BatchRunner;
class JobRunControl;
class JobHooks;
struct Attempts;
struct JobExtras;

// Told when a started job has ended (returned, raised or cancelled), on the job's fiber.
class JobObserver {
 public:
  virtual void on_job_finished(AbstractJob& job) = 0;
  // Told the events of the jobs it runs (see JobEvent: started, retrying, output lines,
  // their end just before on_job_finished), only while events_wanted(): a run that wants
  // none pays one test of that flag per job.
  virtual void on_job_event(const JobEvent& event) {}
  bool events_wanted() const { return events_wanted_; }

 protected:
  ~JobObserver() = default;
  bool events_wanted_ = false;
};

// Reports `line` as a kOutput event of the running job, to the run it belongs to, if that
// run wants events; otherwise (and outside jobs) does nothing. output_wanted() says whether
// it would report anything, so that output need not be split into lines for nothing.
void report_output(std::string_view line);
bool output_wanted();
}  // namespace internal

class AbstractJob : public std::enable_shared_from_this<AbstractJob> {
 public:
  explicit AbstractJob(JobOptions options = {}) : AbstractJob(internal::BorrowedOptions{options}) {}
  // Reads options that stay the caller's (moving the label out): make_job's way, one
  // JobOptions per job instead of one per constructor.
  explicit AbstractJob(internal::BorrowedOptions options);
  virtual ~AbstractJob();
  AbstractJob(const AbstractJob&) = delete;
  AbstractJob& operator=(const AbstractJob&) = delete;

  // The work, run in the job's own fiber. What it returns is result(); what it throws is
  // raised_exception().
  virtual Value co_run() = 0;
  // Releases resources; called once by the scheduler's shutdown, in a fiber.
  virtual void co_shutdown() {}
  virtual std::string details() const { return ""; }  // extra lines for list(true)
  // Shown as <Type `label`>; by default the class name, unqualified.
  virtual std::string type_name() const;
  // The result as list() shows it: "None" when empty, else `operator<<` when the job knows
  // the type supports it, else "<TypeName>".
  virtual std::string format_result() const;
  // Hooks for views: the label in list() and in DOT nodes (default: label()), and extra DOT
  // node attributes such as "shape=box3d" (default: none).
  virtual std::string text_label() const { return label(); }
  virtual std::string graph_label() const { return label(); }
  virtual std::string dot_style() const { return ""; }
  // The type of result() and its ResultCodec (journal.h), for journaling: a subclass
  // returning a T overrides it with `return internal::result_coder_for<T>();`. Null (the
  // default): unknown, the job is never journaled.
  virtual const internal::ResultCoder* result_coder() const { return nullptr; }

  // This job starts only once every required job is done. Accepts JobPtr (any subclass),
  // Sequence (its last job at call time), std::vector<JobPtr>, any number of them.
  // require(self) is a no-op; requiring a job twice keeps one requirement.
  template <class... R>
  AbstractJob& require(const R&... requirements) {
    (add_requirements(requirements), ...);
    return *this;
  }
  // Throws std::invalid_argument if one of them is not required.
  template <class... R>
  AbstractJob& unrequire(const R&... requirements) {
    (remove_requirements(requirements), ...);
    return *this;
  }
  std::vector<JobPtr> required() const;  // insertion order; expired jobs are skipped

  // Without one given, "job<N>" (or "scheduler<N>"), N unique in the process, made when first
  // asked for.
  const std::string& label() const;
  void set_label(std::string label);
  // Its identity in a journal: JobOptions::key, or label() when none was given.
  const std::string& key() const;
  bool critical() const { return critical_; }
  void set_critical(bool critical) { critical_ = critical; }
  bool forever() const { return forever_; }
  void set_forever(bool forever);

  // Lifecycle: idle -> scheduled (requirements done, waiting for a window slot)
  //                 -> running -> done (returned or raised).
  // A job cancelled while scheduled or running is not done; is_cancelled() says so.
  bool is_idle() const { return state_ == State::kIdle; }
  bool is_scheduled() const { return state_ == State::kScheduled; }
  bool is_running() const { return state_ == State::kRunning; }
  bool is_done() const { return state_ == State::kDone; }
  // This run took the job's outcome from the journal (SchedulerOptions::journal): it did not
  // run. A nested scheduler: every job in it was restored.
  bool restored() const { return restored_; }
  // Also true for a job cancel() was called on that has not ended yet: it ends cancelled.
  bool is_cancelled() const { return cancelled_ || cancel_requested_; }

  // From a job of the same reactor, or before the run: a running or scheduled job is
  // cancelled now (its stack unwinds), an idle one will not start. It ends cancelled, jobs
  // that require it never start, and the enclosing run returns false (nothing is thrown for
  // it). On a Scheduler, everything in it is cancelled the same way. No effect once done.
  void cancel();
  // True when cancel() was called on this job (or on a scheduler holding it) before it ended.
  bool cancel_called() const { return cancel_called_; }
  // True when the job swallowed Cancelled for its scheduler's whole shutdown_timeout after
  // the run ended: it was abandoned, its fiber is never resumed (its destructors never run).
  bool is_abandoned() const { return abandoned_; }
  // True for a Scheduler (a nested scheduler is a job of its parent).
  bool is_scheduler() const { return is_scheduler_; }
  // The scheduler that holds this job (a Scheduler), or nullptr.
  const AbstractJob* parent() const { return scheduler_; }
  // How many times co_run() was entered (retries included).
  int attempts() const { return attempts_; }
  absl::Duration timeout() const;  // JobOptions::timeout
  int retries() const;             // JobOptions::retries
  // True when the job has a timeout or retries (then views show its attempts).
  bool has_attempt_policy() const;

  // Throws std::logic_error if not done; rethrows the job's exception if it raised.
  const Value& result() const;
  template <class T>
  T result() const {
    return std::any_cast<T>(result());
  }
  std::exception_ptr raised_exception() const {
    return raised_ ? *std::any_cast<std::exception_ptr>(&result_.get()) : nullptr;
  }
  // Runs this job alone: on a fresh reactor from plain code, on the current one in a job.
  // Returns result() (so rethrows what the job raised).
  Value standalone_run();
  std::string repr() const;  // the one-line form used by list(), without the id

  // When the last run started and ended (InfinitePast() if it did not).
  absl::Time start_time() const;
  absl::Time end_time() const;
  // When each attempt started and ended (one entry per attempt; the last may be unended).
  std::vector<std::pair<absl::Time, absl::Time>> attempt_times() const;

 protected:
  // The value format_result() shows, with no check of the state.
  const Value& stored_result() const {
    return raised_ ? internal::Outcome::kNothing : result_.get();
  }

 private:
  // A scheduler reaches a job's run state only through this (internal/jobs/job_run_control.h);
  // a BatchRunner runs jobs through the other (internal/jobs/job_hooks.h).
  friend class internal::JobRunControl;
  friend class internal::JobHooks;
  enum class State : uint8_t { kIdle, kScheduled, kRunning, kDone };
  // Every change of state goes through here: debug builds check it is one of a job's life
  // (docs/design.md, "A job's states").
  void move_to(State next) {
    ASYNCJOBS_DCHECK(legal_move(state_, next), "a job moved to a state it cannot reach");
    state_ = next;
  }
  static constexpr bool legal_move(State from, State to) {
    switch (from) {
      case State::kIdle:  // kRunning: a free slot; kDone: restored from a journal
        return to == State::kScheduled || to == State::kRunning || to == State::kDone;
      case State::kScheduled: return to == State::kRunning;
      case State::kRunning: return to == State::kDone;  // (a failed start is undone, not moved)
      case State::kDone: return false;  // a job runs once
    }
    return false;
  }

  // Told by cancel() on a member job that was not started; a Scheduler overrides both.
  virtual void on_member_cancelled(AbstractJob& job) {}
  virtual void cancel_members() {}
  // Where the events of a member's body go (retries, output lines), or nullptr when this
  // job's run wants none; a Scheduler overrides it.
  virtual internal::JobObserver* member_events() { return nullptr; }
  internal::JobObserver* events_observer() const {
    return scheduler_ != nullptr ? scheduler_->member_events() : nullptr;
  }
  friend void internal::report_output(std::string_view line);
  friend bool internal::output_wanted();

  template <class J>
  void add_requirements(const std::shared_ptr<J>& job) {
    static_assert(std::is_base_of_v<AbstractJob, J>, "asyncjobs: require() takes jobs");
    // No JobPtr copy: two atomic operations per require().
    if constexpr (std::is_base_of_v<AbstractJob, J>) add_requirement(job.get());
  }
  void add_requirements(const Sequence& sequence);
  void add_requirements(const std::vector<JobPtr>& jobs);
  template <class J>
  void remove_requirements(const std::shared_ptr<J>& job) {
    static_assert(std::is_base_of_v<AbstractJob, J>, "asyncjobs: unrequire() takes jobs");
    if constexpr (std::is_base_of_v<AbstractJob, J>) remove_requirement(job.get());
  }
  void remove_requirements(const Sequence& sequence);
  void remove_requirements(const std::vector<JobPtr>& jobs);
  void add_requirement(AbstractJob* job);
  void remove_requirement(AbstractJob* job);

  // Starts the job on a fiber of `runner` (made with JobHooks::running()).
  void start(internal::BatchRunner& runner);
  // Cancels the started job: its body is skipped, or unwound from its next suspension point.
  void request_cancel(Reactor& reactor);
  bool cancel_requested() const;
  int64_t run_body(int64_t start_ticks);  // returns the end ticks
  void run_attempt();
  bool retry_after_failure();  // false: no attempt left, or cancelled while waiting
  internal::JobExtras& extras() const;
  internal::Attempts* attempts_policy() const;  // null: no timeout, no retries
  void set_raised(std::exception_ptr error) {
    result_.set_error(std::move(error));
    raised_ = true;
  }
  void clear_outcome() {
    result_.reset();
    raised_ = false;
  }
  bool is_unfinished() const { return state_ == State::kRunning && work_.task() != nullptr; }

  // A requirement is kept by both jobs, so that either can unlink itself in O(1) when it
  // dies: requirements do not own, so a cycle cannot leak (job_links.cc). The requiring
  // job's end is a RequiredLinks entry, the required job's end a Link in its dependents.
  struct Link {
    AbstractJob* job;  // the requiring job; nullptr once it died or let go
    uint32_t mirror;   // where the other end is, in that job's required_
    uint32_t pass;     // the link pass current when it was made (internal/jobs/link_stamps.h)
  };
  template <size_t kInline>
  using Links = absl::InlinedVector<Link, kInline, internal::PoolAllocator<Link>>;
  using Requirement = internal::RequiredLinks::Entry;
  void unlink_all();
  bool requires_job(const AbstractJob& job) const;
  void add_dependent(AbstractJob& job);
  // Drops the requirements for which `drop(job)` holds (job: nullptr if it died); how many.
  size_t drop_requirements_if(absl::FunctionRef<bool(const AbstractJob*)> drop);

  // What a run touches comes first, packed into the object's first cache lines; the flags
  // are bits.
  State state_ = State::kIdle;
  bool critical_ : 1;
  bool forever_ : 1;
  bool started_ : 1 = false;
  bool cancel_requested_ : 1 = false;
  bool cancelled_ : 1 = false;
  bool is_scheduler_ : 1 = false;
  bool cancel_called_ : 1 = false;
  bool abandoned_ : 1 = false;  // it refused to stop once cancelled: its fiber never resumes
  bool dependents_unordered_ : 1 = false;  // not in insertion order (job_graph_link.cc)
  bool raised_ : 1 = false;                // result_ holds what the job raised
  bool restored_ : 1 = false;              // done from the journal (scheduler_journal.cc)
  uint16_t attempts_ = 0;
  // Owned by the scheduler that holds this job (job_graph_link.cc, scheduler_run.cc).
  uint32_t pending_requirements_ = 0;
  uint32_t graph_index_ = 0;  // its place in the scheduler (set when added or linked)
  AbstractJob* scheduler_ = nullptr;
  // The jobs that require this one, in insertion order. Beyond what they hold inline, both
  // lists come from the job pool: malloc and free cost more than the rest of a job's run.
  Links<2> dependents_;
  internal::WorkItem work_;  // how the job runs on a fiber
  int64_t start_ticks_ = 0;  // internal::clock_ticks(); 0: not yet
  int64_t end_ticks_ = 0;
  internal::Outcome result_;  // what co_run() returned, or (raised_) the exception it raised

  internal::RequiredLinks required_;  // in insertion order
  // What few jobs have, made when first needed: a label given or asked for, a timeout or
  // retries.
  mutable std::unique_ptr<internal::JobExtras> extras_;
};

// The running job, or nullptr outside jobs.
AbstractJob* current_job();

namespace internal {
// What a job body returns, or void for a callable that is not a valid body (the static
// assertions of `checked_body` then say why, without a cascade of template errors).
template <class F, bool = std::is_invocable_v<std::decay_t<F>&>>
struct BodyResult {
  using type = void;
};
template <class F>
struct BodyResult<F, true> {
  using type = std::remove_cvref_t<std::invoke_result_t<std::decay_t<F>&>>;
};
template <class F>
constexpr bool kValidBody =
    std::is_invocable_v<std::decay_t<F>&> &&
    (std::is_void_v<typename BodyResult<F>::type> ||
     std::is_copy_constructible_v<typename BodyResult<F>::type>);

template <class F>
InlineCallable checked_body(F&& body) {
  static_assert(std::is_invocable_v<std::decay_t<F>&>,
                "asyncjobs: a job body takes no argument");
  static_assert(!std::is_invocable_v<std::decay_t<F>&> || kValidBody<F>,
                "asyncjobs: a job's result must be copyable (it is kept in std::any): "
                "return a shared_ptr instead");
  if constexpr (kValidBody<F>) {
    return InlineCallable(std::forward<F>(body));
  } else {
    return InlineCallable([] {});
  }
}
}  // namespace internal

// A job from a callable taking no argument and returning void or a copyable value.
class Job : public AbstractJob {
 public:
  template <class F>
  explicit Job(F&& body, JobOptions options = {})
      : Job(internal::BorrowedOptions{options}, std::forward<F>(body)) {}
  template <class F>
  Job(internal::BorrowedOptions options, F&& body)
      : AbstractJob(options), body_(internal::checked_body(std::forward<F>(body))) {}
  Value co_run() override { return body_(); }
  std::string type_name() const override { return "Job"; }
  std::string format_result() const override;
  const internal::ResultCoder* result_coder() const override { return body_.coder(); }

 private:
  internal::InlineCallable body_;
};

namespace internal {
// A Job whose co_shutdown() calls a second callable (make_job(body, shutdown, options)).
template <class S>
class JobWithShutdown : public Job {
 public:
  template <class F, class T>
  JobWithShutdown(F&& body, T&& shutdown, JobOptions options)
      : Job(std::forward<F>(body), std::move(options)), shutdown_(std::forward<T>(shutdown)) {}
  void co_shutdown() override { shutdown_(); }

 private:
  S shutdown_;
};
}  // namespace internal

// Like std::make_shared<Job>, with the job's memory from a pool (see internal/memory/job_pool.h).
template <class F>
std::shared_ptr<Job> make_job(F&& body, JobOptions options = {}) {
  return std::allocate_shared<Job>(internal::PoolAllocator<Job>(),
                                   internal::BorrowedOptions{options}, std::forward<F>(body));
}

// The same with `shutdown` (a callable taking no argument) called by co_shutdown(), as the
// original's `coshutdown=`.
template <class F, class S>
  requires(!std::is_convertible_v<S, JobOptions>)
std::shared_ptr<Job> make_job(F&& body, S&& shutdown, JobOptions options = {}) {
  static_assert(std::is_invocable_v<std::decay_t<S>&>,
                "asyncjobs: a job's shutdown callable takes no argument");
  return std::make_shared<internal::JobWithShutdown<std::decay_t<S>>>(
      std::forward<F>(body), std::forward<S>(shutdown), std::move(options));
}

}  // namespace asyncjobs

#endif  // ASYNCJOBS_JOB_H_
