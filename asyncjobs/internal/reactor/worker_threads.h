#ifndef ASYNCJOBS_INTERNAL_REACTOR_WORKER_THREADS_H_
#define ASYNCJOBS_INTERNAL_REACTOR_WORKER_THREADS_H_

// The worker threads behind `Reactor::call_in_thread`, and the calls they have finished.

#include <cstddef>
#include <mutex>
#include <vector>

#include "absl/functional/function_ref.h"
#include "asyncjobs/internal/reactor/thread_pool.h"

namespace asyncjobs {
class Task;
}

namespace asyncjobs::internal {

// Runs each call on a pool of at least 4 threads; once one returns, queues its task as
// finished and wakes the loop through `wake_fd` (an eventfd). The destructor lets every
// started call finish, then joins the threads.
class WorkerThreads {
 public:
  explicit WorkerThreads(int wake_fd);

  // `work` must outlive the call: it lives on the suspended task's stack.
  void start(Task* task, absl::FunctionRef<void()> work);
  std::vector<Task*> take_finished();  // in the order they finished

 private:
  const int wake_fd_;
  std::mutex mutex_;
  std::vector<Task*> finished_;
  ThreadPool pool_;  // last: its threads are joined before the rest is destroyed
};

}  // namespace asyncjobs::internal

#endif  // ASYNCJOBS_INTERNAL_REACTOR_WORKER_THREADS_H_
