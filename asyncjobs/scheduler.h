#ifndef ASYNCJOBS_SCHEDULER_H_
#define ASYNCJOBS_SCHEDULER_H_

// Scheduler: runs a set of jobs along their requirements, on fibers of one reactor.
//
// A Scheduler is also a job, so schedulers nest: a nested one takes one window slot of its
// parent and runs its own jobs with its own window and timeout. It holds its jobs by
// JobPtr; a job belongs to one scheduler at a time. A scheduler runs once. A top-level
// Scheduler may live on the stack; a nested one must be held by shared_ptr like every job.

#include <atomic>
#include <functional>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "asyncjobs/errors.h"
#include "asyncjobs/internal/base/console.h"
#include "asyncjobs/job.h"
#include "asyncjobs/job_event.h"
#include "asyncjobs/sequence.h"
#include "asyncjobs/watch.h"

namespace asyncjobs {
namespace internal {
class JobGraph;
class Run;
class Shutdown;
}  // namespace internal

enum class Progress { kOff, kLines, kLive, kAuto };  // SchedulerOptions::progress

// How a run ended. When several apply, the first in this order decides: cancelled
// (request_cancel(), a signal, a drain), timed out, a critical job raised, jobs abandoned
// (one ended cancelled, so it and what requires it could not complete); else fine.
// kNotRun until run() has ended.
enum class RunOutcome { kNotRun, kFine, kCancelled, kTimedOut, kCriticalRaised, kAbandoned };

struct SchedulerOptions {  // (the `{}` keep -Wextra quiet about `{.jobs_window = 4}`)
  std::string label{};
  bool critical = true;  // a failed run throws instead of returning false
  bool forever = false;
  std::vector<JobPtr> required{};
  int jobs_window = 0;                                 // most jobs running at once; 0: no limit
  absl::Duration timeout = absl::InfiniteDuration();  // for the whole run
  absl::Duration shutdown_timeout = absl::Seconds(1);
  bool verbose = false;          // progress messages, as in the original
  const Watch* watch = nullptr;  // time stamps for those messages
  // While run() runs, these signals (e.g. SIGINT, SIGTERM) call request_cancel(); the
  // previous handlers are restored when run() returns. Empty: none.
  std::vector<int> cancel_on_signals{};
  // A journal file (SQLite; created if missing) that makes the run resumable: each job whose
  // result type has a ResultCodec (journal.h) is recorded once it returns, and a later run
  // with the same journal restores it instead of running it (restored()), unless a job it
  // requires runs again. Keys: JobOptions::key or the label, under the nested schedulers'
  // labels; two jobs with the same key path throw GraphError before anything starts. A file
  // that is not a journal throws JournalError. Read by the outermost scheduler only; empty
  // (the default): no journal.
  std::string journal{};
  // Watching a run (internal/scheduler/scheduler_events.cc, progress_view.cc).
  // Called on the run's thread for every job at every depth, in the order things happen
  // (see JobEvent). It must not suspend nor throw. A nested scheduler's own on_event is
  // called too, for the jobs inside it, before its parent's. Unset: costs nothing.
  std::function<void(const JobEvent&)> on_event{};
  // kLive: a block redrawn in place (at most 10 times a second) under the run's output:
  // counts (done, running, failed, waiting), elapsed time, an estimate of the time left, and
  // one line per running job (label, time running, its last output line), cut to the
  // terminal's width and height; when the run ends the final counts stay. kLines: one
  // time-stamped line per start and end. kAuto: kLive when stdout is a terminal (and TERM is
  // not "dumb"), else kLines. kOff (the default): nothing. Only the outermost scheduler of
  // a run shows it (a nested one's is ignored). While kLive draws, output the library prints
  // (verbose messages, PrintJob, remote commands) goes above the block; what jobs write to
  // stdout themselves may be overdrawn.
  Progress progress = Progress::kOff;
  // While run() runs, the first of these signals drains the run: nothing new starts (in
  // nested schedulers either), running jobs finish (forever jobs are cancelled), then the run
  // ends as cancelled (why() "CANCELLED", RunCancelled for a critical scheduler; a drained
  // nested scheduler ends cancelled); a second one cancels what still runs, as
  // request_cancel() does. A signal may not be in both lists (std::invalid_argument).
  std::vector<int> drain_on_signals{};
};

class Scheduler : public AbstractJob {
 public:
  // Throw std::invalid_argument on a negative window or timeout.
  explicit Scheduler(SchedulerOptions options = {});
  Scheduler(std::initializer_list<Schedulable> jobs, SchedulerOptions options = {});
  ~Scheduler() override;

  // Adds jobs (a Sequence adds its jobs). Throws GraphError for a job that belongs to another
  // scheduler; adding a job again is a no-op. Returns the (last) job added.
  JobPtr add(Schedulable jobs);
  Scheduler& update(std::initializer_list<Schedulable> jobs);
  Scheduler& remove(const JobPtr& job);  // throws std::invalid_argument if absent
  size_t size() const;  // direct members; a nested scheduler counts 1
  std::vector<JobPtr> jobs() const;
  // Jobs at all depths; with `scan_schedulers`, this scheduler and every nested one too.
  std::vector<JobPtr> iterate_jobs(bool scan_schedulers = false) const;

  // Runs until every non-forever job is done (forever jobs are then cancelled), a critical
  // job raises (everything still running is cancelled), or the timeout expires (likewise).
  // Returns true iff every non-forever job is done in time and no critical job raised; a job
  // that raised while non-critical counts as done. When the run fails and this scheduler is
  // critical, throws instead: TimeoutError, or the critical job's own exception. Shutdown
  // runs at the end. From plain code it makes a reactor on this thread; inside a job it runs
  // on that job's reactor. Throws GraphError, before starting anything, on a cycle, on a
  // requirement outside this scheduler (see sanitize), or when it has already run.
  bool run();
  Value co_run() override;       // run() as a nested job: a bool Value, or throws
  void co_shutdown() override;   // shutdown()
  std::string type_name() const override { return "Scheduler"; }
  std::string format_result() const override;  // run()'s bool as "true" or "false"

  // Cancels the whole run from outside it: safe from any thread and from a signal handler.
  // Everything running is cancelled and unwound, shutdown runs; run() returns false, why()
  // is "CANCELLED", and a critical scheduler throws RunCancelled. Before run(): run()
  // returns at once the same way. After it: no effect. Jobs that all wait on Events or
  // Queues with no timer, fd or thread pending have deadlocked: that run ends at once.
  void request_cancel();
  // Settable until run(): as the options of the same name. A negative window or timeout
  // throws std::invalid_argument; so does a call once the run has started.
  void set_jobs_window(int window);
  void set_timeout(absl::Duration timeout);

  bool failed_critical() const;
  bool failed_time_out() const;
  RunOutcome outcome() const;  // what why() and the exceptions tell
  // "FINE", "TIMED OUT after 0.25s", "a CRITICAL job has raised an exception", or, when a
  // job ended cancelled on its own (its body let Cancelled out) so that it and what requires
  // it could not complete, "N job(s) could not complete: cancelled" (run() then returns
  // false, with nothing to throw even for a critical scheduler).
  std::string why() const;
  // Calls co_shutdown() on every job, nested schedulers included, each at most once, all
  // concurrently, within shutdown_timeout (late ones are cancelled). True when all returned
  // in time. run() calls it when it ends; calling it again does nothing.
  bool shutdown();
  // Each co_shutdown() that raised (by label), in the order they ended; debrief() shows them.
  struct ShutdownError {
    std::string label;
    std::exception_ptr error;
  };
  const std::vector<ShutdownError>& shutdown_errors() const;

  const SchedulerOptions& options() const { return options_; }

  // --- Graph (iteration in insertion order)
  bool check_cycles() const;            // true if acyclic, nested schedulers included
  // Drops requirements on jobs outside this scheduler, recursively; true if none dropped.
  bool sanitize(bool verbose = false);
  std::vector<JobPtr> topological_order() const;  // throws GraphError on a cycle
  std::vector<JobPtr> entry_jobs() const;
  std::vector<JobPtr> exit_jobs(bool discard_forever = true) const;
  std::vector<JobPtr> predecessors(const JobPtr& job) const;  // direct, inside this scheduler
  std::vector<JobPtr> successors(const JobPtr& job) const;
  std::vector<JobPtr> predecessors_upstream(const JobPtr& job) const;  // transitive
  std::vector<JobPtr> successors_downstream(const JobPtr& job) const;
  // The same four from several starts at once: the union, in insertion order, without the
  // starts themselves.
  std::vector<JobPtr> predecessors(const std::vector<JobPtr>& jobs) const;
  std::vector<JobPtr> successors(const std::vector<JobPtr>& jobs) const;
  std::vector<JobPtr> predecessors_upstream(const std::vector<JobPtr>& jobs) const;
  std::vector<JobPtr> successors_downstream(const std::vector<JobPtr>& jobs) const;
  void bypass_and_remove(const JobPtr& job);  // successors inherit its requirements
  void keep_only(const std::vector<JobPtr>& jobs);
  // Keeps the jobs downstream of `starts` and upstream of `ends` (empty: no bound).
  void keep_only_between(const std::vector<JobPtr>& starts, const std::vector<JobPtr>& ends,
                         bool keep_starts = true, bool keep_ends = true);

  // --- Text (listing.cc)
  void list(bool details = false, std::ostream& out = internal::console()) const;
  void list_safe(std::ostream& out = internal::console()) const;  // works on any graph, cycles too
  void debrief(bool details = false, std::ostream& out = internal::console()) const;
  std::string stats() const;  // "2D + 1R + 0I = 3"
  std::string repr() const;   // "Scheduler with 0 done + 0 ongoing + 3 idle = 3 job(s)"

  // --- Graphviz (dot.cc)
  std::string dot_format() const;
  std::string export_as_dotfile(const std::string& path) const;  // "(Over)wrote PATH"
  // Writes STEM.dot and runs `dot -TFORMAT` into STEM.FORMAT; returns that path. Throws
  // std::runtime_error with a clear message if `dot` is missing or fails.
  std::string export_as_graphic(const std::string& stem, const std::string& format) const;
  std::string export_as_pngfile(const std::string& stem) const;  // export_as_graphic(stem, "png")
  std::string export_as_svgfile(const std::string& stem) const;  // ... "svg"

  // --- Chrome trace event JSON of the last run (trace.cc)
  void export_trace(const std::string& path) const;
  // When the last run started (InfinitePast() before any run).
  absl::Time run_start() const;

 private:
  // The graph (internal/scheduler/job_graph.h) and the run, which internal::Run orchestrates
  // (internal/scheduler/run.h): it drives the graph and reads the flags below.
  friend class internal::Run;
  void prepare_run(bool recursive);  // checks (GraphError) and links, nested schedulers too
  bool finish_run(bool ok) const;    // returns `ok`, or throws what a failed run throws
  // The graph must not change while a run is in progress (remote_reactor_ is set); inline:
  // every add() asks.
  void check_not_started(const char* what) const {
    if (remote_reactor_.load(std::memory_order_relaxed) != nullptr) [[unlikely]] {
      refuse_change(what);
    }
  }
  [[noreturn]] void refuse_change(const char* what) const;
  void interrupt_run();  // async-signal-safe: the run in progress, if any, reads the flags
  // AbstractJob's hooks, forwarded to the run.
  void on_member_cancelled(AbstractJob& job) override;
  void cancel_members() override;
  internal::JobObserver* member_events() override;

  SchedulerOptions options_;
  std::unique_ptr<internal::JobGraph> graph_;
  std::unique_ptr<internal::Run> run_;            // from prepare_run() on, kept for the outcome
  std::unique_ptr<internal::Shutdown> shutdown_;  // once shutdown() was called
  bool ran_ = false;                              // the run has started: it cannot run again
  // Set from any thread or a signal handler (async-signal-safe), read by the run.
  std::atomic<bool> cancel_request_{false};
  std::atomic<int> drain_signals_{0};
  std::atomic<Reactor*> remote_reactor_{nullptr};  // where they poke, while the run is in progress
  std::atomic<int> remote_pokes_{0};               // pokes in progress
};

std::shared_ptr<Scheduler> make_scheduler(std::initializer_list<Schedulable> jobs = {},
                                          SchedulerOptions options = {});
std::shared_ptr<Scheduler> make_scheduler(SchedulerOptions options);

}  // namespace asyncjobs

#endif  // ASYNCJOBS_SCHEDULER_H_
