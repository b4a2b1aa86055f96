// BatchRunner: runners on a free list, handed the rest of the queue when one blocks.
#include "asyncjobs/internal/jobs/batch_runner.h"

#include <algorithm>
#include <mutex>

#include "asyncjobs/internal/base/clock.h"

namespace asyncjobs::internal {
namespace {

// Abandoned runners: their fibers are suspended for ever, so their memory is never freed
// (and stays reachable, for leak checkers).
std::mutex graveyard_mutex;
std::vector<void*>* graveyard = new std::vector<void*>;

}  // namespace

BatchRunner::~BatchRunner() {
  // A runner spawned for an item that another runner took may not have run yet: it finds
  // the queue empty and returns at its first turn, which must come before its Task goes.
  auto pending = [this] {
    return std::any_of(runners_.begin(), runners_.end(), [](const std::unique_ptr<Runner>& r) {
      return !r->task.finished() && !r->abandoned;
    });
  };
  if (Task::current() != nullptr && pending()) {
    CancelShield shield;
    while (pending()) reactor_.yield();
  }
  for (std::unique_ptr<Runner>& runner : runners_) {
    if (!runner->abandoned) continue;
    std::lock_guard<std::mutex> lock(graveyard_mutex);
    graveyard->push_back(runner.release());
  }
}

void BatchRunner::abandon(WorkItem* item) {
  Task* task = item->task_;
  if (task == nullptr) return;
  for (std::unique_ptr<Runner>& runner : runners_) {  // rare: a linear search is fine
    if (&runner->task != task) continue;
    runner->abandoned = true;
    if (runner->available) {
      runner->available = false;
      --available_;
    }
    reactor_.abandon(task);
    item->task_ = nullptr;
    if (available_ == 0 && has_queued()) spawn_runner();
    return;
  }
}

void BatchRunner::submit(WorkItem* item) {
  if (available_ == 0) spawn_runner();  // first: when it fails, nothing is queued
  if (queue_.empty() && next_ == nullptr) {
    next_ = item;
    return;
  }
  queue_.push_back(item);
}

WorkItem* BatchRunner::pop() {
  if (WorkItem* item = next_) {
    next_ = nullptr;
    return item;
  }
  if (queue_.empty()) return nullptr;
  WorkItem* item = queue_.front();
  queue_.pop_front();
  if (hooks_.prefetch != nullptr) {
    if (queue_.size() > kFar) hooks_.prefetch(owner(queue_[kFar]), 0);
    if (queue_.size() > kNear) hooks_.prefetch(owner(queue_[kNear]), 1);
  }
  return item;
}

// Without memory for a runner (std::bad_alloc), nothing changes: the caller hears it (a job
// about to block, from its wait) and the queue waits for a runner that comes back.
void BatchRunner::spawn_runner() {
  if (finished_.empty()) {
    runners_.push_back(std::make_unique<Runner>(this));
    try {
      reactor_.spawn(&runners_.back()->task);
    } catch (...) {
      runners_.pop_back();
      throw;
    }
  } else {
    ++reuse_probes_;
    Runner* runner = finished_.back();  // the most recent: its stack is warm
    reactor_.spawn(&runner->task);      // a finished task starts over
    finished_.pop_back();
    runner->available = true;
  }
  ++available_;
}

void BatchRunner::main(void* argument) {
  auto* runner = static_cast<Runner*>(argument);
  BatchRunner& group = *runner->group;
  Task& task = runner->task;
  int64_t ticks = clock_ticks();
  while (WorkItem* item = group.pop()) {
    item->task_ = &task;
    task.set_owner(group.owner(item));
    task.set_name(group.hooks_.name, group.owner(item));
    ticks = group.hooks_.run(item, ticks, group.hooks_.context);
    item->task_ = nullptr;
    task.clear_cancel_request();
    if (!runner->available) {  // it blocked, and is back: it takes items again
      runner->available = true;
      ++group.available_;
    }
  }
  task.set_owner(nullptr);
  --group.available_;
  // Nothing runs between here and the end of this fiber: the runner is finished by the
  // time anyone takes it off the list.
  group.finished_.push_back(runner);
}

// No stack for this runner: the item it would have run first fails now; the others get a
// new runner (a new try at a stack) each.
void BatchRunner::on_start_failure(void* argument, std::exception_ptr error) {
  auto* runner = static_cast<Runner*>(argument);
  BatchRunner& group = *runner->group;
  runner->available = false;
  --group.available_;
  group.finished_.push_back(runner);
  if (WorkItem* item = group.pop()) group.hooks_.fail(item, error, group.hooks_.context);
  if (group.available_ == 0 && group.has_queued()) group.spawn_runner();
}

void BatchRunner::on_suspend(void* argument) {
  auto* runner = static_cast<Runner*>(argument);
  if (!runner->available) return;
  runner->available = false;
  BatchRunner& group = *runner->group;
  if (--group.available_ == 0 && group.has_queued()) group.spawn_runner();
}

}  // namespace asyncjobs::internal
