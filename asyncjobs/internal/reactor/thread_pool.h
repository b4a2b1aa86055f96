#ifndef ASYNCJOBS_INTERNAL_REACTOR_THREAD_POOL_H_
#define ASYNCJOBS_INTERNAL_REACTOR_THREAD_POOL_H_

// ThreadPool: worker threads for run_in_thread.

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace asyncjobs::internal {

// A fixed set of worker threads taking closures FIFO. Joined (after the queue drains) by
// the destructor. Used by the reactor for `run_in_thread`.
class ThreadPool {
 public:
  explicit ThreadPool(size_t threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  void submit(std::function<void()> work);

 private:
  void work_loop();

  std::mutex mutex_;
  std::condition_variable has_work_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace asyncjobs::internal

#endif  // ASYNCJOBS_INTERNAL_REACTOR_THREAD_POOL_H_
