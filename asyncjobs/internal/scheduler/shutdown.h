#ifndef ASYNCJOBS_INTERNAL_SCHEDULER_SHUTDOWN_H_
#define ASYNCJOBS_INTERNAL_SCHEDULER_SHUTDOWN_H_

// Shutdown: a Scheduler's shutdown (Scheduler::shutdown), made once: every member's
// co_shutdown(), concurrently, within shutdown_timeout, and what came of it.

#include <vector>

#include "asyncjobs/internal/scheduler/job_graph.h"
#include "asyncjobs/scheduler.h"

namespace asyncjobs::internal {

class Shutdown {
 public:
  Shutdown(const Scheduler& scheduler, const JobGraph& graph)
      : scheduler_(scheduler), graph_(graph) {}

  // In a job of the reactor it calls them on: calls co_shutdown() of every member, nested
  // schedulers included (theirs shut down their own), cancels those still running at the
  // deadline; returns ok(). Not interrupted by a cancel of the calling job.
  bool run();
  // True until a call was late or raised.
  bool ok() const { return ok_; }
  const std::vector<Scheduler::ShutdownError>& errors() const { return errors_; }

 private:
  const Scheduler& scheduler_;
  const JobGraph& graph_;
  bool ok_ = true;
  std::vector<Scheduler::ShutdownError> errors_;
};

}  // namespace asyncjobs::internal

#endif  // ASYNCJOBS_INTERNAL_SCHEDULER_SHUTDOWN_H_
