#ifndef ASYNCJOBS_INTERNAL_JOBS_WORK_ITEM_H_
#define ASYNCJOBS_INTERNAL_JOBS_WORK_ITEM_H_

// WorkItem: how a job sits in a BatchRunner's queue (see batch_runner.h), without the runner.

#include <cstdint>
#include <string>

namespace asyncjobs {
class Task;
}

namespace asyncjobs::internal {

class BatchRunner;

// A piece of work for a BatchRunner, embedded in its owner (a job), so that submitting it
// allocates nothing.
class WorkItem {
 public:
  // Must not throw. `start_ticks` is internal::clock_ticks() as the body starts (the end of
  // the previous item on the same fiber: one clock read per item); returns it at its end.
  using Body = int64_t (*)(WorkItem* item, int64_t start_ticks);

  // `owner` is what Task::current()->owner() gives while the body runs; `name` is shown if
  // the body overflows its stack.
  WorkItem(void* owner, const std::string* name) : owner_(owner), name_(name) {}

  void* owner() const { return owner_; }
  // The task running the body, while it runs (to cancel it); nullptr otherwise.
  Task* task() const { return task_; }

 private:
  friend class BatchRunner;
  Body body_ = nullptr;
  void* owner_;
  const std::string* name_;
  Task* task_ = nullptr;
};

}  // namespace asyncjobs::internal

#endif  // ASYNCJOBS_INTERNAL_JOBS_WORK_ITEM_H_
