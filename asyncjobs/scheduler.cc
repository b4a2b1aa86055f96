// Scheduler construction, membership and the run itself. Graph queries and edits live in
// scheduler_graph.cc; text, DOT and trace views in listing.cc, dot.cc and trace.cc.
#include "asyncjobs/scheduler.h"

#include <stdexcept>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "asyncjobs/cancelled.h"
#include "asyncjobs/fiber_calls.h"
#include "asyncjobs/internal/graph.h"

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

std::string describe(const AbstractJob& job) {
  return absl::StrCat("<", job.type_name(), " `", job.label(), "`>");
}

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

Scheduler::~Scheduler() {
  for (const JobPtr& job : jobs_) {
    if (job->scheduler_ == this) job->scheduler_ = nullptr;
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
  for (const JobPtr& job : schedulable.jobs()) check_can_add(job);
  for (const JobPtr& job : schedulable.jobs()) {
    if (job->scheduler_ == this) continue;
    job->scheduler_ = this;
    jobs_.push_back(job);
  }
  return schedulable.jobs().empty() ? nullptr : schedulable.jobs().back();
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
  check_member(job, "remove");
  job->scheduler_ = nullptr;
  std::erase(jobs_, job);
  return *this;
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
    if (JobPtr self = std::const_pointer_cast<AbstractJob>(weak_from_this().lock())) {
      all.push_back(std::move(self));
    }
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

Value Scheduler::co_run() {
  prepare_run(/*recursive=*/true);
  return finish_run(orchestrate());
}

bool Scheduler::finish_run(bool ok) const {
  if (ok || !options_.critical) return ok;
  if (failed_time_out_) throw TimeoutError("critical scheduler took too long");
  if (failed_job_ != nullptr) std::rethrow_exception(failed_job_->exception_);
  return ok;
}

void Scheduler::prepare_run(bool recursive) {
  if (ran_) {
    throw GraphError(absl::StrCat("asyncjobs: scheduler `", label(), "` has already run"));
  }
  for (uint32_t i = 0; i < jobs_.size(); ++i) {
    AbstractJob* job = jobs_[i].get();
    job->graph_index_ = i;
    job->successors_.clear();
    job->pending_requirements_ = 0;
  }
  for (const JobPtr& job : jobs_) {
    for (const Requirement& requirement : job->required_) {
      if (requirement.alive.expired() || !member(requirement.job)) {
        throw GraphError(absl::StrCat(
            "asyncjobs: job `", job->label(), "` requires `",
            requirement.alive.expired() ? "a deleted job" : requirement.job->label(),
            "`, which is not in scheduler `", label(), "`; sanitize() drops such requirements"));
      }
      requirement.job->successors_.push_back(job.get());
      ++job->pending_requirements_;
    }
  }
  check_acyclic();
  if (!recursive) return;
  for (const JobPtr& job : jobs_) {
    if (job->is_scheduler_) static_cast<Scheduler&>(*job).prepare_run(true);
  }
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
  run_start_ = absl::Now();
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
  remaining_ = 0;
  for (const JobPtr& job : jobs_) remaining_ += job->forever_ ? 0 : 1;
  only_forever_ = remaining_ == 0;
  if (options_.timeout <= absl::ZeroDuration()) {
    failed_time_out_ = true;
    say(absl::StrCat(label(), ": TIMEOUT occurred"), /*always=*/true);
    return false;
  }
  const absl::Time deadline = options_.timeout == absl::InfiniteDuration()
                                  ? absl::InfiniteFuture()
                                  : run_start_ + options_.timeout;
  for (const JobPtr& job : jobs_) {
    if (job->pending_requirements_ == 0) schedule(job.get());
  }
  wait_for_jobs(deadline);
  if (failed_critical_) {
    say(absl::StrCat(label(), ": Emergency exit upon exception in critical job ",
                     failed_job_->label()),
        /*always=*/true);
  } else if (failed_time_out_) {
    say(absl::StrCat(label(), ": TIMEOUT occurred"), /*always=*/true);
  } else if (running_ > 0 || !waiting_for_slot_.empty()) {
    say(absl::StrCat(label(), ": TIDYING forever jobs"));
  }
  if (failed_critical_ || failed_time_out_) say(absl::StrCat(label(), ": ABORTING"));
  cancel_everything();
  return !failed_critical_ && !failed_time_out_;
}

bool Scheduler::finished() const {
  if (failed_critical_) return true;
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
  job->state_ = State::kScheduled;
  waiting_for_slot_.push_back(job);
  fill_window();
}

void Scheduler::fill_window() {
  const size_t window = static_cast<size_t>(options_.jobs_window);
  while (!waiting_for_slot_.empty() && (window == 0 || running_ < window)) {
    AbstractJob* job = waiting_for_slot_.front();
    waiting_for_slot_.pop_front();
    ++running_;
    if (options_.verbose) say(absl::StrCat(label(), ": STARTING ", describe(*job)));
    job->start(*reactor_, this);
  }
}

void Scheduler::on_job_finished(AbstractJob& job) {
  --running_;
  if (aborting_) {
    if (running_ == 0) wakeup_.notify_all();
    return;
  }
  if (job.cancelled_) return;  // cancelled from elsewhere (a stall): the abort follows
  if (job.exception_ != nullptr) {
    if (options_.verbose) say(absl::StrCat(label(), ": RAISED EXC. ", describe(job)));
    if (job.critical_) {
      failed_critical_ = true;
      failed_job_ = &job;
      wakeup_.notify_all();
      return;
    }
  } else if (options_.verbose) {
    say(absl::StrCat(label(), ": DONE ", describe(job)));
  }
  if (!job.forever_) --remaining_;
  for (AbstractJob* successor : job.successors_) {
    if (--successor->pending_requirements_ == 0) schedule(successor);
  }
  fill_window();
  if (finished()) wakeup_.notify_all();
}

// Cancels what is still scheduled or running and waits until every started job has ended.
void Scheduler::cancel_everything() {
  aborting_ = true;
  if (running_ == 0 && waiting_for_slot_.empty()) return;
  for (AbstractJob* job : waiting_for_slot_) job->cancelled_ = true;
  waiting_for_slot_.clear();
  for (const JobPtr& job : jobs_) {
    if (job->state_ == State::kRunning) reactor_->cancel(&job->task_);
  }
  CancelShield shield;
  while (running_ > 0) wakeup_.wait(absl::InfiniteFuture(), "Scheduler::run");
}

std::string Scheduler::why() const {
  if (failed_time_out_) {
    return absl::StrCat("TIMED OUT after ",
                        absl::StrFormat("%g", absl::ToDoubleSeconds(options_.timeout)), "s");
  }
  if (failed_critical_) return "a CRITICAL job has raised an exception";
  return "FINE";
}

void Scheduler::say(const std::string& message, bool always) const {
  if (!options_.verbose && !always) return;
  const std::string stamp = options_.watch != nullptr
                                ? options_.watch->elapsed()
                                : absl::FormatTime("%H-%M-%S", absl::Now(), absl::LocalTimeZone());
  std::cout << stamp << " " << message << std::endl;
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

// Calls co_shutdown() of every job, concurrently, with as few fibers as that takes: a runner
// calls them one after the other, and hands the rest to a new runner whenever one blocks.
class ShutdownRunners {
 public:
  ShutdownRunners(const std::vector<JobPtr>& jobs, Reactor& reactor)
      : jobs_(jobs), reactor_(reactor) {}

  // True when every co_shutdown() returned within `timeout`; late ones are cancelled.
  bool run(absl::Duration timeout) {
    if (jobs_.empty()) return true;
    spawn_runner();
    const absl::Time deadline = absl::Now() + timeout;
    while (active_ > 0 && done_.wait(deadline, "Scheduler::shutdown")) {
    }
    const bool in_time = active_ == 0;
    for (Runner& runner : runners_) reactor_.cancel(&runner.task);
    while (active_ > 0) done_.wait(absl::InfiniteFuture(), "Scheduler::shutdown");
    return in_time;
  }

 private:
  struct Runner {
    explicit Runner(ShutdownRunners* group) : group(group) {
      task.set_suspend_hook(&ShutdownRunners::on_suspend, this);
    }
    ShutdownRunners* group;
    bool hands_over = false;  // the first block in the current co_shutdown() spawns a runner
    Task task{&ShutdownRunners::main, this};
  };

  void spawn_runner() {
    Runner& runner = runners_.emplace_back(this);
    ++active_;
    reactor_.spawn(&runner.task);
  }

  static void main(void* argument) {
    auto* runner = static_cast<Runner*>(argument);
    ShutdownRunners& group = *runner->group;
    while (group.next_ < group.jobs_.size() && !runner->task.cancel_requested()) {
      AbstractJob& job = *group.jobs_[group.next_++];
      runner->task.set_owner(&job);
      runner->task.set_name(&job.label_);  // not label(): no label is generated here
      runner->hands_over = true;
      try {
        job.co_shutdown();
      } catch (...) {  // a failed or cancelled shutdown must not stop the others
      }
    }
    if (--group.active_ == 0) group.done_.notify_all();
  }

  static void on_suspend(void* argument) {
    auto* runner = static_cast<Runner*>(argument);
    if (!runner->hands_over) return;
    runner->hands_over = false;
    if (runner->group->next_ < runner->group->jobs_.size()) runner->group->spawn_runner();
  }

  const std::vector<JobPtr>& jobs_;
  Reactor& reactor_;
  size_t next_ = 0;
  size_t active_ = 0;
  std::deque<Runner> runners_;
  internal::WaitList done_;
};

}  // namespace internal

bool Scheduler::shutdown_in_job() {
  CancelShield shield;  // shutdown also runs while this scheduler is being cancelled
  if (options_.verbose) say(absl::StrCat(label(), ": shutting down"));
  return internal::ShutdownRunners(jobs_, *Reactor::current()).run(options_.shutdown_timeout);
}

}  // namespace asyncjobs
