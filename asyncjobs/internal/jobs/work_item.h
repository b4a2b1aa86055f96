#ifndef ASYNCJOBS_INTERNAL_JOBS_WORK_ITEM_H_
#define ASYNCJOBS_INTERNAL_JOBS_WORK_ITEM_H_

// WorkItem: how a job sits in a BatchRunner's queue (see batch_runner.h), without the runner.

#include <cstddef>
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
  // `context` is the runner's BatchHooks::context.
  using Body = int64_t (*)(WorkItem* item, int64_t start_ticks, void* context);

  // The task running the body, while it runs (to cancel it); nullptr otherwise.
  Task* task() const { return task_; }

 private:
  friend class BatchRunner;
  Task* task_ = nullptr;
};

// What a BatchRunner does with every item it runs (the same for all: items do not store it).
struct BatchHooks {
  WorkItem::Body run;
  // Called instead of `run`, on the loop, for an item that could get no fiber.
  void (*fail)(WorkItem* item, std::exception_ptr error, void* context);
  // Cache hints for owners still queued (see BatchRunner), or null.
  void (*prefetch)(void* owner, int stage) = nullptr;
  // The owner's name, asked only if the item's body overflows its stack (from the signal
  // handler: it must only read memory); null: none.
  const std::string* (*name)(const void* owner) = nullptr;
  // Items sit in their owners at this offset (owner = item address - owner_offset): the
  // owner is what Task::current()->owner() gives while the body runs.
  size_t owner_offset = 0;
  // Passed to `run` and `fail`: what the runner's items report to (e.g. their scheduler).
  void* context = nullptr;
};

}  // namespace asyncjobs::internal

#endif  // ASYNCJOBS_INTERNAL_JOBS_WORK_ITEM_H_
