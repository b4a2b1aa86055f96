#ifndef ASYNCJOBS_INTERNAL_JOBS_WORK_ITEM_H_
#define ASYNCJOBS_INTERNAL_JOBS_WORK_ITEM_H_

// WorkItem: how a job sits in a BatchRunner's queue (see batch_runner.h), without the runner.

#include <cstdint>
#include <exception>
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

  // `owner` is what Task::current()->owner() gives while the body runs.
  explicit WorkItem(void* owner) : owner_(owner) {}

  void* owner() const { return owner_; }
  // The task running the body, while it runs (to cancel it); nullptr otherwise.
  Task* task() const { return task_; }

 private:
  friend class BatchRunner;
  void* owner_;
  Task* task_ = nullptr;
};

// What a BatchRunner does with every item it runs (the same for all: items do not store it).
struct BatchHooks {
  WorkItem::Body run;
  // Called instead of `run`, on the loop, for an item that could get no fiber.
  void (*fail)(WorkItem* item, std::exception_ptr error);
  // Cache hints for owners still queued (see BatchRunner), or null.
  void (*prefetch)(void* owner, int stage) = nullptr;
  // The owner's name, asked only if the item's body overflows its stack (from the signal
  // handler: it must only read memory); null: none.
  const std::string* (*name)(const void* owner) = nullptr;
};

}  // namespace asyncjobs::internal

#endif  // ASYNCJOBS_INTERNAL_JOBS_WORK_ITEM_H_
