// Watching a run: JobEvents to SchedulerOptions::on_event and up to the enclosing run, the
// progress view, and draining on a signal (SchedulerOptions::drain_on_signals).
#include <signal.h>
#include <unistd.h>

#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "absl/time/clock.h"
#include "asyncjobs/internal/jobs/job_output.h"
#include "asyncjobs/internal/jobs/job_run_control.h"
#include "asyncjobs/internal/scheduler/job_graph.h"
#include "asyncjobs/internal/scheduler/run.h"
#include "asyncjobs/internal/scheduler/run_state.h"
#include "asyncjobs/internal/reactor/reactor.h"
#include "asyncjobs/internal/scheduler/progress_view.h"
#include "asyncjobs/internal/scheduler/scheduler_journal.h"
#include "asyncjobs/internal/scheduler/signal_cancel.h"
#include "asyncjobs/scheduler.h"

namespace asyncjobs::internal {

Run::Watching::Watching(Run& run)
    : drain_signals(run.options_.drain_on_signals, &Run::on_drain_signal, &run) {}

Run* Run::of(const AbstractJob& scheduler) {
  return static_cast<const Scheduler&>(scheduler).run_.get();
}

namespace {

// Jobs at all depths, nested schedulers not counted: what the view counts.
size_t count_jobs(const std::vector<JobPtr>& jobs) {
  size_t count = 0;
  for (const JobPtr& job : jobs) {
    count += job->is_scheduler() ? count_jobs(static_cast<const Scheduler&>(*job).jobs()) : 1;
  }
  return count;
}

std::optional<ProgressView::Mode> view_mode(Progress progress) {
  switch (progress) {
    case Progress::kOff:
      return std::nullopt;
    case Progress::kLines:
      return ProgressView::Mode::kLines;
    case Progress::kLive:
      return ProgressView::Mode::kLive;
    case Progress::kAuto:
      break;
  }
  return ProgressView::live_on(STDOUT_FILENO) ? ProgressView::Mode::kLive
                                              : ProgressView::Mode::kLines;
}

}  // namespace

void Run::start_watching() {
  const AbstractJob* parent_scheduler = scheduler_.parent();
  Run* parent = parent_scheduler != nullptr ? of(*parent_scheduler) : nullptr;
  const bool nested = parent != nullptr && parent->in_progress();
  parent_events_ = nested && parent->events_wanted_ ? parent : nullptr;
  // One view per terminal: the outermost run's, unless another run's is drawn already.
  const auto mode =
      nested || live_block() != nullptr ? std::nullopt : view_mode(options_.progress);
  if (!options_.on_event && !mode && options_.drain_on_signals.empty() && !parent_events_) {
    return;
  }
  auto watching = std::make_unique<Watching>(*this);
  if (mode) {
    size_t total = 0;
    for (const JobPtr& job : graph_.jobs()) {
      total += job->is_scheduler() ? count_jobs(static_cast<Scheduler&>(*job).jobs()) : 1;
    }
    watching->view = std::make_unique<ProgressView>(*mode, std::cout, STDOUT_FILENO, total,
                                                    start_, *reactor_);
  }
  events_wanted_ = options_.on_event || watching->view || parent_events_ != nullptr;
  watching_ = std::move(watching);
}

void Run::stop_watching() {
  events_wanted_ = false;
  parent_events_ = nullptr;
  if (watching_ == nullptr) return;
  if (watching_->view) watching_->view->finish(absl::Now());
  watching_.reset();
}

// Innermost first: this scheduler's own callback and view, then the enclosing run's.
void Run::on_job_event(const JobEvent& event) {
  if (options_.on_event) options_.on_event(event);
  if (watching_ != nullptr && watching_->view) watching_->view->on_event(event);
  if (parent_events_ != nullptr) parent_events_->on_job_event(event);
}

// On the loop, after request_cancel() or a signal poked it, and every redraw period while a
// live view is drawn.
void Run::on_watched_interrupt() {
  if (watching_->view) watching_->view->tick();
  if (scheduler_.drain_signals_.load() > 0 && !state_.draining && !state_.aborting) drain();
}

void Run::on_drain_signal(void* self) {
  Scheduler& scheduler = static_cast<Run*>(self)->scheduler_;
  if (scheduler.drain_signals_.fetch_add(1) > 0) {
    scheduler.request_cancel();  // the second one
    return;
  }
  scheduler.interrupt_run();
}

// Nothing new starts, here and in nested schedulers: jobs waiting for a slot, and started
// ones whose body has not begun (queued for a fiber), are left out; forever jobs are
// cancelled; the rest run to their end, and then the run ends as cancelled (run_jobs).
void Run::drain() {
  RunState& run = state_;
  if (run.draining || !in_progress()) return;
  run.draining = true;
  run.until_idle = true;
  for (AbstractJob* job : run.waiting_for_slot()) JobRunControl::count_out(*job);
  run.waiting_for_slot().clear();
  for (const JobPtr& job : graph_.jobs()) {
    if (!job->is_running()) continue;
    if (!JobRunControl::has_fiber(*job)) {
      JobRunControl::skip_body(*job);  // it ends cancelled
    } else if (job->forever()) {
      JobRunControl::request_cancel(*job, *reactor_);
    } else if (job->is_scheduler()) {
      if (Run* nested = of(*job)) nested->drain();
    }
  }
  if (watching_ != nullptr && watching_->view) watching_->view->set_draining();
  if (run.finished()) run.wakeup.notify_all();
}

}  // namespace asyncjobs::internal
