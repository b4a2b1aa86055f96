// ThreadPool: the reactor's worker threads.
#include "asyncjobs/internal/reactor/thread_pool.h"

#include <cerrno>
#include <system_error>
#include <utility>

#include "asyncjobs/internal/base/fault_injection.h"

namespace asyncjobs::internal {

// As many threads as the system gives, up to `threads`; none at all is an error.
ThreadPool::ThreadPool(size_t threads) {
  threads_.reserve(threads);
  for (size_t i = 0; i < threads; ++i) {
    try {
      if (should_fail(Fault::kThreadCreate)) {
        throw std::system_error(EAGAIN, std::generic_category(), "pthread_create");
      }
      threads_.emplace_back([this] { work_loop(); });
    } catch (const std::system_error& error) {
      if (!threads_.empty()) break;
      throw std::system_error(error.code(),
                              "asyncjobs: cannot start a worker thread for run_in_thread");
    }
  }
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  has_work_.notify_all();
  for (std::thread& thread : threads_) thread.join();
}

void ThreadPool::submit(std::function<void()> work) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back(std::move(work));
  }
  has_work_.notify_one();
}

void ThreadPool::work_loop() {
  for (;;) {
    std::function<void()> work;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      has_work_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      work = std::move(queue_.front());
      queue_.pop_front();
    }
    work();
  }
}

}  // namespace asyncjobs::internal
