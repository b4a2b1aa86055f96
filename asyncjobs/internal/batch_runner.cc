#include "asyncjobs/internal/batch_runner.h"

namespace asyncjobs::internal {

void BatchRunner::submit(WorkItem* item, WorkItem::Body body) {
  item->body_ = body;
  queue_.push_back(item);
  if (available_ == 0) spawn_runner();
}

void BatchRunner::spawn_runner() {
  Runner* runner = nullptr;
  // Runners finish in roughly the order they were spawned: look for a finished one from
  // where the last search stopped.
  for (size_t tried = 0; tried < runners_.size() && runner == nullptr; ++tried) {
    Runner& candidate = runners_[next_reusable_];
    next_reusable_ = (next_reusable_ + 1) % runners_.size();
    if (candidate.task.finished()) {
      candidate.task.rearm();
      runner = &candidate;
    }
  }
  if (runner == nullptr) runner = &runners_.emplace_back(this);
  runner->available = true;
  ++available_;
  reactor_.spawn(&runner->task);
}

void BatchRunner::main(void* argument) {
  auto* runner = static_cast<Runner*>(argument);
  BatchRunner& group = *runner->group;
  Task& task = runner->task;
  while (WorkItem* item = group.queue_.pop_front()) {
    if (WorkItem* next = group.queue_.front()) __builtin_prefetch(next->owner_, 1);
    item->task_ = &task;
    task.set_owner(item->owner_);
    task.set_name(item->name_);
    item->body_(item);
    item->task_ = nullptr;
    task.clear_cancel_request();
    if (!runner->available) {  // it blocked, and is back: it takes items again
      runner->available = true;
      ++group.available_;
    }
  }
  task.set_owner(nullptr);
  --group.available_;
}

void BatchRunner::on_suspend(void* argument) {
  auto* runner = static_cast<Runner*>(argument);
  if (!runner->available) return;
  runner->available = false;
  BatchRunner& group = *runner->group;
  if (--group.available_ == 0 && !group.queue_.empty()) group.spawn_runner();
}

}  // namespace asyncjobs::internal
