// Reactor::call_in_thread: the work runs on a worker thread while its task waits, and the
// finished calls come back to the loop through the eventfd.
#include "asyncjobs/internal/reactor/worker_threads.h"

#include <unistd.h>

#include <algorithm>
#include <memory>
#include <thread>

#include "asyncjobs/internal/reactor/reactor.h"

namespace asyncjobs {
namespace internal {

WorkerThreads::WorkerThreads(int wake_fd)
    : wake_fd_(wake_fd), pool_(std::max<size_t>(4, std::thread::hardware_concurrency())) {}

void WorkerThreads::start(Task* task, absl::FunctionRef<void()> work) {
  pool_.submit([this, task, work] {
    work();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      finished_.push_back(task);
    }
    const uint64_t one = 1;
    (void)!write(wake_fd_, &one, sizeof one);
  });
}

std::vector<Task*> WorkerThreads::take_finished() {
  std::vector<Task*> finished;
  std::lock_guard<std::mutex> lock(mutex_);
  finished.swap(finished_);
  return finished;
}

}  // namespace internal

void Reactor::call_in_thread(absl::FunctionRef<void()> work) {
  Task* task = current_task_checked();
  check_cancelled();
  if (!workers_) workers_ = std::make_unique<internal::WorkerThreads>(wake_fd_);
  ++thread_calls_;
  workers_->start(task, work);
  wait(absl::InfiniteFuture(), /*cancellable=*/false);
  check_cancelled();
}

// Also read when only `interrupt` wrote to the eventfd.
void Reactor::drain_completions() {
  uint64_t count;
  (void)!read(wake_fd_, &count, sizeof count);
  if (!workers_) return;
  for (Task* task : workers_->take_finished()) {
    --thread_calls_;
    make_ready(task, WakeReason::kNotified);
  }
}

}  // namespace asyncjobs
