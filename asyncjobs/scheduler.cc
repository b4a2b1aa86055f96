// Scheduler construction, membership and the run itself. Graph queries and edits live in
// scheduler_graph.cc; text, DOT and trace views in listing.cc, dot.cc and trace.cc.
#include "asyncjobs/scheduler.h"

#include <atomic>
#include <stdexcept>
#include <typeinfo>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/types/span.h"
#include "absl/time/clock.h"
#include "asyncjobs/cancelled.h"
#include "asyncjobs/fiber_calls.h"
#include "asyncjobs/internal/clock.h"
#include "asyncjobs/internal/graph.h"
#include "asyncjobs/internal/job_text.h"
#include "asyncjobs/internal/prefetch.h"
#include "asyncjobs/internal/signal_cancel.h"

namespace asyncjobs {
namespace {

JobOptions job_options(const SchedulerOptions& options) {
  return JobOptions{options.label, options.critical, options.forever, options.required};
}

// Runs `body` on a root fiber of a fresh reactor on this thread; rethrows what it threw.
void run_on_new_reactor(AbstractJob* owner, absl::FunctionRef<void()> body) {
  struct Root {
    absl::FunctionRef<void()> body;
    std::exception_ptr error;
    Task task{&Root::main, this};
    static void main(void* self) {
      auto* root = static_cast<Root*>(self);
      try {
        root->body();
      } catch (...) {
        root->error = std::current_exception();
      }
    }
  } root{body, nullptr};
  root.task.set_owner(owner);
  root.task.set_start_failure_handler(
      [](void* self, std::exception_ptr error) { static_cast<Root*>(self)->error = error; },
      &root);
  Reactor reactor;
  reactor.spawn(&root.task);
  reactor.run();
  if (reactor.stalled()) {
    throw std::runtime_error(absl::StrCat(
        "asyncjobs: deadlock in ", owner->label(),
        ": every job waited for something no job could provide; all were cancelled"));
  }
  if (root.error) std::rethrow_exception(root.error);
}

// A plain Job's co_shutdown() is AbstractJob's, which does nothing: no need to call it.
bool may_shut_down(const AbstractJob& job) { return typeid(job) != typeid(Job); }

}  // namespace

Scheduler::Scheduler(SchedulerOptions options)
    : AbstractJob(job_options(options)), options_(std::move(options)) {
  if (options_.jobs_window < 0) {
    throw std::invalid_argument("asyncjobs: jobs_window must be >= 0 (0: no limit)");
  }
  if (options_.timeout < absl::ZeroDuration() ||
      options_.shutdown_timeout < absl::ZeroDuration()) {
    throw std::invalid_argument("asyncjobs: a scheduler's timeouts must be >= 0");
  }
  is_scheduler_ = true;
}

Scheduler::Scheduler(std::initializer_list<Schedulable> jobs, SchedulerOptions options)
    : Scheduler(std::move(options)) {
  update(jobs);
}

// Last job first: jobs usually come after those they require, whose memory stays allocated
// while a requirement (a weak_ptr) on them lives. In this order each job's memory is freed
// as it dies, and the pool's LIFO free list hands it out again in address order; in
// insertion order it was freed in the scattered order of its successors' deaths, and every
// later graph was built on scattered memory.
Scheduler::~Scheduler() {
  constexpr size_t kAhead = 16;
  for (size_t i = jobs_.size(); i-- > 0;) {  // one pass: a job often dies here too
    if (i >= kAhead) prefetch_job(jobs_[i - kAhead].get(), 0);
    JobPtr& job = jobs_[i];
    if (job->scheduler_ == this) job->scheduler_ = nullptr;
    job.reset();
  }
}

std::shared_ptr<Scheduler> make_scheduler(std::initializer_list<Schedulable> jobs,
                                          SchedulerOptions options) {
  return std::allocate_shared<Scheduler>(internal::PoolAllocator<Scheduler>(), jobs,
                                         std::move(options));
}

std::shared_ptr<Scheduler> make_scheduler(SchedulerOptions options) {
  return std::allocate_shared<Scheduler>(internal::PoolAllocator<Scheduler>(),
                                         std::move(options));
}

// --- Membership

JobPtr Scheduler::add(Schedulable schedulable) {
  check_not_started("add");
  const absl::Span<JobPtr> jobs = schedulable.mutable_jobs();
  for (const JobPtr& job : jobs) check_can_add(job);
  for (size_t i = 0; i < jobs.size(); ++i) {
    if (jobs[i]->scheduler_ == this) continue;
    jobs[i]->scheduler_ = this;
    // Moved, but for the last job, which is also returned.
    jobs_.push_back(i + 1 < jobs.size() ? std::move(jobs[i]) : jobs[i]);
  }
  return jobs.empty() ? nullptr : std::move(jobs.back());
}

void Scheduler::check_can_add(const JobPtr& job) const {
  if (!job) throw std::invalid_argument("asyncjobs: cannot add a null job");
  if (job->scheduler_ != nullptr && job->scheduler_ != this) {
    throw GraphError(absl::StrCat("asyncjobs: job `", job->label(),
                                  "` already belongs to scheduler `", job->scheduler_->label(),
                                  "`; cannot add it to `", label(), "`"));
  }
  for (const AbstractJob* outer = this; outer != nullptr; outer = outer->scheduler_) {
    if (outer == job.get()) {
      throw GraphError(absl::StrCat("asyncjobs: scheduler `", job->label(),
                                    "` cannot contain itself (adding it to `", label(), "`)"));
    }
  }
}

Scheduler& Scheduler::update(std::initializer_list<Schedulable> jobs) {
  for (const Schedulable& schedulable : jobs) {
    for (const JobPtr& job : schedulable.jobs()) check_can_add(job);
  }
  for (const Schedulable& schedulable : jobs) add(schedulable);
  return *this;
}

Scheduler& Scheduler::remove(const JobPtr& job) {
  check_not_started("remove");
  check_member(job, "remove");
  job->scheduler_ = nullptr;
  std::erase(jobs_, job);
  return *this;
}

// The graph must not change while the run is in progress (a job added then would never run).
void Scheduler::check_not_started(const char* what) const {
  if (reactor_ == nullptr) return;
  throw GraphError(absl::StrCat("asyncjobs: ", what, "() on scheduler `", label(),
                                "` while it runs: the graph cannot change during a run"));
}

void Scheduler::set_jobs_window(int window) {
  if (window < 0) throw std::invalid_argument("asyncjobs: jobs_window must be >= 0 (0: no limit)");
  if (ran_) throw std::logic_error("asyncjobs: set_jobs_window() after run()");
  options_.jobs_window = window;
}

void Scheduler::set_timeout(absl::Duration timeout) {
  if (timeout < absl::ZeroDuration()) {
    throw std::invalid_argument("asyncjobs: a scheduler's timeout must be >= 0");
  }
  if (ran_) throw std::logic_error("asyncjobs: set_timeout() after run()");
  options_.timeout = timeout;
}

void Scheduler::check_member(const JobPtr& job, const char* what) const {
  if (!job || !member(job.get())) {
    throw std::invalid_argument(absl::StrCat("asyncjobs: ", what, ": job `",
                                             job ? job->label() : "null",
                                             "` is not in scheduler `", label(), "`"));
  }
}

std::vector<JobPtr> Scheduler::iterate_jobs(bool scan_schedulers) const {
  std::vector<JobPtr> all;
  if (scan_schedulers) {
    JobPtr self = std::const_pointer_cast<AbstractJob>(weak_from_this().lock());
    // A scheduler on the stack is not owned by a shared_ptr: a non-owning one stands for it.
    if (!self) self = JobPtr(JobPtr(), const_cast<Scheduler*>(this));
    all.push_back(std::move(self));
  }
  for (const JobPtr& job : jobs_) {
    if (job->is_scheduler_) {
      std::vector<JobPtr> nested = static_cast<Scheduler&>(*job).iterate_jobs(scan_schedulers);
      all.insert(all.end(), nested.begin(), nested.end());
    } else {
      all.push_back(job);
    }
  }
  return all;
}

// --- Running

bool Scheduler::run() {
  prepare_run(/*recursive=*/true);
  if (in_job()) return finish_run(orchestrate());
  bool ok = false;
  state_ = State::kRunning;
  run_on_new_reactor(this, [&] { ok = orchestrate(); });
  state_ = State::kDone;
  result_ = ok;
  return finish_run(ok);
}

std::string Scheduler::format_result() const {
  const bool* ok = std::any_cast<bool>(&stored_result());
  if (ok == nullptr) return AbstractJob::format_result();
  return *ok ? "true" : "false";
}

Value Scheduler::co_run() {
  if (!prepared_) prepare_run(/*recursive=*/true);  // a parent's run() prepared it already
  return finish_run(orchestrate());
}

bool Scheduler::finish_run(bool ok) const {
  if (ok || !options_.critical) return ok;
  if (run_cancelled_) throw RunCancelled("run cancelled");
  if (failed_time_out_) throw TimeoutError("critical scheduler took too long");
  if (failed_job_ != nullptr) std::rethrow_exception(failed_job_->exception_);
  return ok;
}

void Scheduler::prepare_run(bool recursive) {
  if (ran_) {
    throw GraphError(absl::StrCat("asyncjobs: scheduler `", label(), "` has already run"));
  }
  // Usually every job comes after the jobs it requires: one pass links them, and proves the
  // graph acyclic. Otherwise a second pass and Kahn's algorithm.
  if (!link_jobs(/*single_pass=*/true)) {
    link_jobs(/*single_pass=*/false);
    check_acyclic();
  }
  if (recursive) {
    for (const JobPtr& job : jobs_) {
      if (job->is_scheduler_) static_cast<Scheduler&>(*job).prepare_run(true);
    }
  }
  prepared_ = true;
}

// Builds successor lists and requirement counts, and counts the jobs whose co_shutdown()
// may do something. With `single_pass`, stops and returns false at the first requirement
// on a job that comes later in insertion order.
bool Scheduler::link_jobs(bool single_pass) {
  static std::atomic<uint32_t> last_visit{0};
  const uint32_t visit = last_visit.fetch_add(1, std::memory_order_relaxed) + 1;
  custom_shutdowns_ = 0;
  auto reset = [&](AbstractJob& job, uint32_t index) {
    job.graph_index_ = index;
    job.visit_ = visit;
    job.successors_.clear();
    job.pending_requirements_ = 0;
    if (may_shut_down(job)) ++custom_shutdowns_;
  };
  if (!single_pass) {
    for (uint32_t i = 0; i < jobs_.size(); ++i) reset(*jobs_[i], i);
  }
  // Requirements are scattered: fetch each job's requirement list 16 jobs ahead, and the
  // required jobs 8 jobs ahead.
  constexpr uint32_t kNear = 8, kFar = 16;
  for (uint32_t i = 0; i < jobs_.size(); ++i) {
    if (i + kFar < jobs_.size()) prefetch_job(jobs_[i + kFar].get(), 0);
    if (i + kNear < jobs_.size()) {
      for (const Requirement& ahead : jobs_[i + kNear]->required_) {
        // From its shared_ptr control block (expired()) to the fields linking writes.
        const char* block = control_block(ahead.job);
        const auto* end = reinterpret_cast<const char*>(&ahead.job->successors_ + 1);
        internal::prefetch_lines(block, end - block);
      }
    }
    AbstractJob& job = *jobs_[i];
    if (single_pass) reset(job, i);
    for (const Requirement& requirement : job.required_) {
      check_requirement(job, requirement);
      if (single_pass && requirement.job->visit_ != visit) return false;
      requirement.job->successors_.push_back(&job);
      ++job.pending_requirements_;
    }
  }
  return true;
}

void Scheduler::check_requirement(const AbstractJob& job, const Requirement& requirement) const {
  if (!requirement.alive.expired() && member(requirement.job)) return;
  throw GraphError(absl::StrCat(
      "asyncjobs: job `", job.label(), "` requires `",
      requirement.alive.expired() ? "a deleted job" : requirement.job->label(),
      "`, which is not in scheduler `", label(), "`; sanitize() drops such requirements"));
}

// Kahn's algorithm on the successor lists that prepare_run just built.
void Scheduler::check_acyclic() const {
  std::vector<uint32_t> pending(jobs_.size());
  std::vector<AbstractJob*> free;
  for (const JobPtr& job : jobs_) {
    pending[job->graph_index_] = job->pending_requirements_;
    if (job->pending_requirements_ == 0) free.push_back(job.get());
  }
  size_t visited = 0;
  while (!free.empty()) {
    AbstractJob* job = free.back();
    free.pop_back();
    ++visited;
    for (AbstractJob* successor : job->successors_) {
      if (--pending[successor->graph_index_] == 0) free.push_back(successor);
    }
  }
  if (visited == jobs_.size()) return;
  internal::Edges edges(jobs_.size());
  for (const JobPtr& job : jobs_) {
    for (const Requirement& requirement : job->required_) {
      edges[job->graph_index_].push_back(requirement.job->graph_index_);
    }
  }
  std::string names;
  for (uint32_t index : internal::find_cycle(edges)) {
    absl::StrAppend(&names, "`", jobs_[index]->label(), "` requires ");
  }
  absl::StrAppend(&names, "`", jobs_[internal::find_cycle(edges).front()]->label(), "`");
  throw GraphError(absl::StrCat("asyncjobs: cycle in scheduler `", label(), "`: ", names));
}

bool Scheduler::orchestrate() {
  ran_ = true;
  reactor_ = Reactor::current();
  internal::BatchRunner runner(*reactor_, &AbstractJob::fail_start, &AbstractJob::prefetch_job);
  runner_ = &runner;
  run_start_ = absl::Now();
  // request_cancel() reaches this run through the reactor until the run ends.
  struct RemoteCancel {
    Scheduler& scheduler;
    internal::SignalCallback signals;
    RemoteCancel(Scheduler& s)
        : scheduler(s),
          signals(s.options_.cancel_on_signals,
                  [](void* self) { static_cast<Scheduler*>(self)->request_cancel(); }, &s) {
      scheduler.reactor_->add_interrupt_handler(&scheduler);
      scheduler.remote_reactor_.store(scheduler.reactor_);
    }
    ~RemoteCancel() {
      scheduler.remote_reactor_.store(nullptr);
      while (scheduler.remote_pokes_.load() > 0) {  // a request_cancel() from another thread
      }
      Reactor::remove_interrupt_handler(&scheduler);
      scheduler.reactor_ = nullptr;
    }
  } remote_cancel(*this);
  bool ok = false;
  try {
    ok = run_jobs();
  } catch (...) {  // this scheduler, as a job, is being cancelled
    cancel_everything();
    shutdown();
    throw;
  }
  shutdown();
  return ok;
}

bool Scheduler::run_jobs() {
  if (options_.verbose) say(absl::StrCat("entering run() with ", jobs_.size(), " jobs"));
  if (options_.timeout <= absl::ZeroDuration()) {
    failed_time_out_ = true;
    say("Scheduler.run: TIMEOUT occurred", /*always=*/true);
    return false;
  }
  if (cancel_request_.load()) {  // request_cancel() before run()
    run_cancelled_ = true;
    say("Scheduler.run: CANCELLED", /*always=*/true);
    return false;
  }
  const absl::Time deadline = options_.timeout == absl::InfiniteDuration()
                                  ? absl::InfiniteFuture()
                                  : run_start_ + options_.timeout;
  // One pass: started jobs only run once this fiber waits, after the count is complete.
  remaining_ = 0;
  size_t cancelled_before_run = 0;  // cancel() was called on them
  for (const JobPtr& job : jobs_) {
    if (!job->forever_) ++remaining_;
    if (job->cancel_requested_) {
      ++cancelled_before_run;
    } else if (job->pending_requirements_ == 0) {
      schedule(job.get());
    }
  }
  if (cancelled_before_run > 0) abandon_cancelled_before_run();
  only_forever_ = remaining_ == 0;
  wait_for_jobs(deadline);
  if (run_cancelled_) {
    say("Scheduler.run: CANCELLED", /*always=*/true);
    say_unfinished("ABORTING");
  } else if (failed_time_out_) {
    say("Scheduler.run: TIMEOUT occurred", /*always=*/true);
    say_unfinished("ABORTING");
  } else if (failed_critical_) {
    say_unfinished("ABORTING");
    say("Emergency exit upon exception in critical job", /*always=*/true);
  } else {
    say_unfinished("TIDYING forever");
  }
  cancel_everything();
  return !failed_critical_ && !failed_time_out_ && !run_cancelled_ && abandoned_ == 0;
}

bool Scheduler::finished() const {
  if (failed_critical_ || run_cancelled_) return true;
  if (only_forever_) return running_ == 0 && waiting_for_slot_.empty();
  return remaining_ == 0;
}

void Scheduler::wait_for_jobs(absl::Time deadline) {
  while (!finished()) {
    if (!wakeup_.wait(deadline, "Scheduler::run") && !finished()) {
      failed_time_out_ = true;
      return;
    }
  }
}

void Scheduler::schedule(AbstractJob* job) {
  if (waiting_for_slot_.empty() && has_free_slot()) {
    start_job(job);
    return;
  }
  job->state_ = State::kScheduled;
  waiting_for_slot_.push_back(job);
  fill_window();
}

bool Scheduler::has_free_slot() const {
  return options_.jobs_window == 0 || running_ < static_cast<size_t>(options_.jobs_window);
}

void Scheduler::start_job(AbstractJob* job) {
  ++running_;
  say_job("STARTING", *job);
  job->start(*runner_, this);
}

void Scheduler::fill_window() {
  while (!waiting_for_slot_.empty() && has_free_slot()) {
    AbstractJob* job = waiting_for_slot_.front();
    waiting_for_slot_.pop_front();
    start_job(job);
  }
}

void Scheduler::on_job_finished(AbstractJob& job) {
  --running_;
  if (aborting_) {
    if (running_ == 0) wakeup_.notify_all();
    return;
  }
  if (job.cancelled_) {  // it ended cancelled on its own: what needs it can never run
    abandon(job);
    fill_window();
    if (finished()) wakeup_.notify_all();
    return;
  }
  if (job.exception_ != nullptr) {
    say_job("RAISED EXC.", job);
    if (job.critical_) {
      failed_critical_ = true;
      failed_job_ = &job;
      wakeup_.notify_all();
      return;
    }
  } else {
    say_job("DONE", job);
  }
  if (!job.forever_) --remaining_;
  for (AbstractJob* successor : job.successors_) {
    if (--successor->pending_requirements_ == 0 && !successor->cancelled_) schedule(successor);
  }
  fill_window();
  if (finished()) wakeup_.notify_all();
}

// Counts `job` (which ended cancelled) and every job downstream of it as cancelled: they
// will never start, and the run must not wait for them.
void Scheduler::abandon(AbstractJob& job) {
  std::vector<AbstractJob*> stack{&job};
  while (!stack.empty()) {
    AbstractJob* abandoned = stack.back();
    stack.pop_back();
    abandoned->cancelled_ = true;
    if (!abandoned->forever_) {
      --remaining_;
      ++abandoned_;
    }
    for (AbstractJob* successor : abandoned->successors_) {
      if (!successor->cancelled_ && successor->state_ == State::kIdle) {
        successor->cancelled_ = true;
        stack.push_back(successor);
      }
    }
  }
}

void Scheduler::abandon_cancelled_before_run() {
  for (const JobPtr& job : jobs_) {
    if (job->cancel_requested_ && !job->cancelled_ && job->state_ == State::kIdle) abandon(*job);
  }
}

// cancel() on a member that has not started: while the run is in progress it is counted
// out at once with what requires it; before the run, when the run starts.
void Scheduler::on_member_cancelled(AbstractJob& job) {
  if (!run_in_progress()) return;
  if (job.state_ == State::kScheduled) std::erase(waiting_for_slot_, &job);
  abandon(job);
  if (finished()) wakeup_.notify_all();
}

void Scheduler::cancel_members() {
  for (const JobPtr& job : jobs_) job->cancel();
}

void Scheduler::request_cancel() {
  cancel_request_.store(true);
  remote_pokes_.fetch_add(1);
  if (Reactor* reactor = remote_reactor_.load()) reactor->interrupt();
  remote_pokes_.fetch_sub(1);
}

void Scheduler::on_interrupt() {
  if (!cancel_request_.load() || run_cancelled_ || aborting_) return;
  run_cancelled_ = true;
  wakeup_.notify_all();
}

// Cancels what is still scheduled or running and waits until every started job has ended.
void Scheduler::cancel_everything() {
  aborting_ = true;
  if (running_ == 0 && waiting_for_slot_.empty()) return;
  for (AbstractJob* job : waiting_for_slot_) job->cancelled_ = true;
  waiting_for_slot_.clear();
  for (const JobPtr& job : jobs_) {
    if (job->state_ == State::kRunning) job->request_cancel(*reactor_);
  }
  CancelShield shield;
  const absl::Time deadline = absl::Now() + options_.shutdown_timeout;
  while (running_ > 0) {
    if (!wakeup_.wait(deadline, "Scheduler::run") && absl::Now() >= deadline) {
      abandon_refusing_jobs();
    }
  }
}

// Jobs still running `shutdown_timeout` after being cancelled swallow Cancelled: they are
// abandoned so that the run ends (nested schedulers get the same time for their own jobs).
void Scheduler::abandon_refusing_jobs() {
  for (const JobPtr& job : jobs_) {
    if (!job->is_unfinished() || job->is_scheduler_) continue;
    std::cerr << "asyncjobs: job `" << job->label() << "` of scheduler `" << label()
              << "` ignored cancellation for " << options_.shutdown_timeout
              << ": abandoned (its fiber will never resume)" << std::endl;
    runner_->abandon(&job->work_);
    job->abandoned_ = true;
    job->cancelled_ = true;
    --running_;
  }
}

std::string Scheduler::why() const {
  if (run_cancelled_) return "CANCELLED";
  if (failed_time_out_) {
    return absl::StrCat("TIMED OUT after ",
                        absl::StrFormat("%g", absl::ToDoubleSeconds(options_.timeout)), "s");
  }
  if (failed_critical_) return "a CRITICAL job has raised an exception";
  if (abandoned_ > 0) return absl::StrCat(abandoned_, " job(s) could not complete: cancelled");
  return "FINE";
}

// Progress messages in the original's shapes, stamped with the watch's elapsed time or
// the wall clock: "SCHEDULER(label): message" and "(label) STATE: <Job `x`>".
void Scheduler::say(std::string_view message, bool always) const {
  if (!options_.verbose && !always) return;
  std::cout << stamp() << "SCHEDULER(" << label() << "): " << message << std::endl;
}

void Scheduler::say_job(std::string_view state, const AbstractJob& job) const {
  if (!options_.verbose) return;
  std::cout << stamp() << "(" << label() << ") " << state << ": " << internal::job_main(job) << std::endl;
}

void Scheduler::say_unfinished(std::string_view state) const {
  if (!options_.verbose) return;
  for (const AbstractJob* job : waiting_for_slot_) say_job(state, *job);
  for (const JobPtr& job : jobs_) {
    if (job->is_unfinished()) say_job(state, *job);
  }
}

std::string Scheduler::stamp() const {
  if (options_.watch != nullptr) return absl::StrCat(options_.watch->elapsed(), "  ");
  return absl::StrCat(Watch::wall_clock(), " ");
}

// --- Shutdown

void Scheduler::co_shutdown() { shutdown(); }

bool Scheduler::shutdown() {
  if (shut_down_) return shutdown_result_;
  shut_down_ = true;
  if (in_job()) {
    shutdown_result_ = shutdown_in_job();
  } else {
    run_on_new_reactor(this, [&] { shutdown_result_ = shutdown_in_job(); });
  }
  return shutdown_result_;
}

namespace internal {

// Calls co_shutdown() of every job concurrently, on a BatchRunner (as few fibers as that
// takes), and cancels the calls still running at the deadline.
class ShutdownRunner : public JobObserver {
 public:
  ShutdownRunner(absl::Span<const JobPtr> jobs, Reactor& reactor)
      : jobs_(jobs), reactor_(reactor), runner_(reactor, &ShutdownRunner::fail) {}

  // Returns how many co_shutdown() calls had not returned within `timeout`.
  size_t run(absl::Duration timeout) {
    pending_ = jobs_.size();
    if (pending_ == 0) return 0;
    for (const JobPtr& job : jobs_) {
      if (!may_shut_down(*job)) {
        --pending_;
        continue;
      }
      job->observer_ = this;
      runner_.submit(&job->work_, &ShutdownRunner::shut_down);
    }
    if (pending_ == 0) return 0;
    const absl::Time deadline = absl::Now() + timeout;
    while (pending_ > 0 && done_.wait(deadline, "Scheduler::shutdown")) {
    }
    const size_t late = pending_;
    late_ = true;  // calls not started yet are skipped
    for (const JobPtr& job : jobs_) {
      if (job->work_.task() != nullptr) reactor_.cancel(job->work_.task());
    }
    // A call that swallows Cancelled for as long again is abandoned (see abandon_refusing_jobs).
    const absl::Time last = absl::Now() + timeout;
    while (pending_ > 0 && done_.wait(last, "Scheduler::shutdown")) {
    }
    for (const JobPtr& job : jobs_) {
      if (job->work_.task() == nullptr) continue;
      std::cerr << "asyncjobs: co_shutdown() of `" << job->label()
                << "` ignored cancellation: abandoned (its fiber will never resume)" << std::endl;
      runner_.abandon(&job->work_);
      --pending_;
    }
    return late;
  }

  // What co_shutdown() calls raised (not counting cancellations of late ones).
  const std::vector<std::pair<const AbstractJob*, std::exception_ptr>>& errors() const {
    return errors_;
  }

 private:
  static int64_t shut_down(WorkItem* item, int64_t) {
    auto& job = *static_cast<AbstractJob*>(item->owner());
    auto& self = static_cast<ShutdownRunner&>(*job.observer_);
    if (!self.late_) {
      try {  // a failed or cancelled shutdown must not stop the others
        job.co_shutdown();
      } catch (const Cancelled&) {
      } catch (...) {
        self.errors_.emplace_back(&job, std::current_exception());
      }
    }
    self.on_job_finished(job);
    return internal::clock_ticks();
  }

  static void fail(WorkItem* item, std::exception_ptr error) {
    auto& job = *static_cast<AbstractJob*>(item->owner());
    auto& self = static_cast<ShutdownRunner&>(*job.observer_);
    self.errors_.emplace_back(&job, error);
    self.on_job_finished(job);
  }

  void on_job_finished(AbstractJob&) override {
    if (--pending_ == 0) done_.notify_all();
  }

  absl::Span<const JobPtr> jobs_;
  Reactor& reactor_;
  BatchRunner runner_;
  size_t pending_ = 0;
  bool late_ = false;
  WaitList done_;
  std::vector<std::pair<const AbstractJob*, std::exception_ptr>> errors_;
};

}  // namespace internal

bool Scheduler::shutdown_in_job() {
  CancelShield shield;  // shutdown also runs while this scheduler is being cancelled
  say("scheduler is shutting down...");
  if (custom_shutdowns_ == 0) return true;  // only plain Jobs, whose co_shutdown() is empty
  internal::ShutdownRunner runner(jobs_, *Reactor::current());
  const size_t late = runner.run(options_.shutdown_timeout);
  if (late > 0) {
    say(absl::StrCat("WARNING: ", late, "/", jobs_.size(),
                     " co_shutdown() methods have not returned within timeout"),
        /*always=*/true);
  }
  for (const auto& [job, error] : runner.errors()) {
    shutdown_errors_.push_back({job->label(), error});
    say(absl::StrCat("WARNING: co_shutdown() of `", job->label(), "` raised an exception"),
        /*always=*/true);
  }
  return late == 0 && runner.errors().empty();
}

}  // namespace asyncjobs
