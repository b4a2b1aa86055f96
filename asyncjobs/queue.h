#ifndef ASYNCJOBS_QUEUE_H_
#define ASYNCJOBS_QUEUE_H_

// Queue: a bounded or unbounded FIFO between jobs of one reactor.

#include <cstddef>
#include <deque>
#include <optional>
#include <utility>

#include "absl/time/time.h"
#include "asyncjobs/internal/sync/wait_list.h"

namespace asyncjobs {

// A FIFO between jobs of one reactor (one thread), e.g. a message bus. `put` suspends the
// job while the queue is full, `get` while it is empty; both throw `Cancelled` in a job that
// is being cancelled. Outside a job they work while they need not wait, and throw
// std::logic_error instead of blocking forever. Not thread-safe.
template <class T>
class Queue {
 public:
  // `capacity` 0: unbounded.
  explicit Queue(size_t capacity = 0) : capacity_(capacity) {}
  Queue(const Queue&) = delete;
  Queue& operator=(const Queue&) = delete;

  void put(T value) {
    while (full()) not_full_.wait(absl::InfiniteFuture(), "Queue::put on a full queue");
    push(std::move(value));
  }
  T get() {
    while (items_.empty()) not_empty_.wait(absl::InfiniteFuture(), "Queue::get on an empty queue");
    return pop();
  }
  // Never suspend.
  bool try_put(T value) {
    if (full()) return false;
    push(std::move(value));
    return true;
  }
  std::optional<T> try_get() {
    if (items_.empty()) return std::nullopt;
    return pop();
  }

  size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  size_t capacity() const { return capacity_; }

 private:
  bool full() const { return capacity_ != 0 && items_.size() >= capacity_; }
  void push(T value) {
    items_.push_back(std::move(value));
    if (!not_empty_.empty()) not_empty_.notify_one();
  }
  T pop() {
    T value = std::move(items_.front());
    items_.pop_front();
    if (!not_full_.empty()) not_full_.notify_one();
    return value;
  }

  size_t capacity_;
  std::deque<T> items_;
  internal::WaitList not_empty_;
  internal::WaitList not_full_;
};

}  // namespace asyncjobs

#endif  // ASYNCJOBS_QUEUE_H_
