#ifndef ASYNCJOBS_INTERNAL_SCHEDULER_RUN_H_
#define ASYNCJOBS_INTERNAL_SCHEDULER_RUN_H_

// Run: the orchestration of one Scheduler's run, made when the run is prepared and kept
// afterwards for its outcome. It starts jobs as their requirements end, keeps the window and
// the deadline, decides the outcome (in its RunState), cancels, drains, calls the journal's
// hooks and reports events. It is the JobObserver of the run's jobs (their BatchRunner
// tells it directly when each ends) and the InterruptHandler request_cancel() and signals
// reach it through. The Scheduler keeps the graph and the API, and delegates.
//
// Files: the run (scheduler_run.cc), cancellation (scheduler_cancel.cc), watching
// (scheduler_events.cc), the journal's hooks (scheduler_journal.cc).

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "absl/functional/function_ref.h"
#include "absl/time/time.h"
#include "asyncjobs/internal/reactor/interrupt_handler.h"
#include "asyncjobs/internal/scheduler/progress_view.h"
#include "asyncjobs/internal/scheduler/run_state.h"
#include "asyncjobs/internal/scheduler/scheduler_progress.h"
#include "asyncjobs/internal/scheduler/signal_cancel.h"
#include "asyncjobs/job.h"
#include "asyncjobs/scheduler.h"

namespace asyncjobs::internal {

class BatchRunner;
class JobGraph;
class JournalStore;
struct SchedulerJournal;

// Runs `body` on a root fiber of a fresh reactor on this thread; rethrows what it threw.
// A deadlock (every job waits for something no job can provide) throws std::runtime_error.
void run_on_new_reactor(AbstractJob* owner, absl::FunctionRef<void()> body);

class Run final : public JobObserver, public InterruptHandler {
 public:
  Run(Scheduler& scheduler, JobGraph& graph);
  Run(const Run&) = delete;
  Run& operator=(const Run&) = delete;

  // The run itself, on a fiber of the current reactor: starts, waits, ends (cancelling
  // what is left), then shuts the scheduler down. True when it went well; the outcome is in
  // state(). When the calling job is cancelled (a nested scheduler's run), it ends the same
  // way and rethrows.
  bool orchestrate();
  const RunState& state() const { return state_; }
  absl::Time start_time() const { return start_; }
  // Between the start and the end, not yet ending.
  bool in_progress() const { return reactor_ != nullptr && !state_.aborting; }

  // --- AbstractJob's hooks, forwarded by the Scheduler
  void on_member_cancelled(AbstractJob& job);  // cancel() on a member that has not started
  JobObserver* member_events() { return events_wanted_ ? this : nullptr; }

  // --- The journal (scheduler_journal.cc)
  // Before the run, by the outermost scheduler: checks the key paths (GraphError) and opens
  // the file for the whole tree (every nested scheduler's Run gets its part).
  void open_journal();
  // The journal part of the run `job` is a member of, or null.
  static SchedulerJournal* journal_of(const AbstractJob& job);

 private:
  // --- The run (scheduler_run.cc)
  bool run_jobs();              // start, wait, abort; true when it went well
  bool conclude(bool started);  // decides the outcome, says it; true when fine
  // Both start the ready jobs and count the awaited ones: by reading every job (returns how
  // many were cancelled before the run), or from linking's start plan (none were).
  size_t start_by_scan();
  void start_from_plan();
  void wait_for_jobs(absl::Time deadline);
  void schedule(AbstractJob* job);
  [[gnu::noinline]] void schedule_otherwise(AbstractJob* job);  // journal, window
  void start_job(AbstractJob* job);
  void fill_window();
  void start_waiting_jobs();
  void on_job_finished(AbstractJob& job) override;
  void start_successors(AbstractJob& job);
  [[gnu::noinline]] void start_sorted_successors(AbstractJob& job);

  // --- Cancellation (scheduler_cancel.cc)
  void on_interrupt() override;  // request_cancel() or a signal reached the reactor
  void abandon(AbstractJob& job);
  void abandon_cancelled_before_run();
  void cancel_everything();
  void abandon_refusing_jobs();

  // --- Watching: events, the progress view, drains (scheduler_events.cc)
  class Watching;
  void start_watching();  // for the run in progress; stop_watching() when it ends
  void stop_watching();
  void on_job_event(const JobEvent& event) override;
  void on_watched_interrupt();
  static void on_drain_signal(void* self);  // async-signal-safe
  void drain();                              // on the loop, after the first signal

  // --- The journal's hooks (scheduler_journal.cc), called only when the run has one:
  // "restore this ready job instead of starting it?", "record this job that returned",
  // closing it when the run ends.
  void attach_journal(std::shared_ptr<JournalStore> store, std::string prefix);
  void detach_journal();
  void check_journal_keys() const;
  bool restore(AbstractJob* job);
  void count_restored();
  void record(AbstractJob& job);
  bool every_member_restored() const;

  // --- Progress messages (scheduler_progress.cc)
  void say(std::string_view message, bool always = false) const {
    internal::say(scheduler_, message, always);
  }
  void say_job(std::string_view state, const AbstractJob& job) const {
    if (verbose_) [[unlikely]] print_job_line(scheduler_, state, job);  // twice per job: inline
  }
  void say_unfinished(std::string_view state) const;

  static Run* of(const AbstractJob& scheduler);  // a (nested) Scheduler's run, or null

  Scheduler& scheduler_;
  JobGraph& graph_;
  const SchedulerOptions& options_;
  RunState state_;
  // Copied from the options when the run starts (they may change until then).
  int window_ = 0;
  bool verbose_ = false;
  Reactor* reactor_ = nullptr;      // while the run is in progress
  BatchRunner* runner_ = nullptr;   // the jobs' fibers, likewise
  absl::Time start_ = absl::InfinitePast();
  std::unique_ptr<SchedulerJournal> journal_;  // only in a run with a journal
  std::unique_ptr<Watching> watching_;         // only in a run that wants events, a view or drains
  Run* parent_events_ = nullptr;               // the enclosing run, when it wants events too
};

// What a watched run keeps while it lasts: only runs that want events, a view or drains
// have one.
class Run::Watching {
 public:
  explicit Watching(Run& run);

  std::unique_ptr<ProgressView> view;
  SignalCallback drain_signals;
};

}  // namespace asyncjobs::internal

#endif  // ASYNCJOBS_INTERNAL_SCHEDULER_RUN_H_
