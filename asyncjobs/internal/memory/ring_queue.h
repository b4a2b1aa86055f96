#ifndef ASYNCJOBS_INTERNAL_MEMORY_RING_QUEUE_H_
#define ASYNCJOBS_INTERNAL_MEMORY_RING_QUEUE_H_

// RingQueue: a growable FIFO ring on huge pages.

#include <bit>
#include <cstddef>
#include <utility>
#include <vector>

#include "asyncjobs/internal/memory/huge_page_allocator.h"

namespace asyncjobs::internal {

// A FIFO of trivially copyable values on a power-of-two ring that doubles when full, with
// indexed access from the front (to look ahead). A million queued jobs live in huge pages.
template <class T>
class RingQueue {
 public:
  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  const T& operator[](size_t i) const { return slots_[(head_ + i) & (slots_.size() - 1)]; }
  const T& front() const { return (*this)[0]; }

  void push_back(const T& value) {
    if (size_ == slots_.size()) grow(slots_.empty() ? 64 : 2 * slots_.size());
    slots_[(head_ + size_) & (slots_.size() - 1)] = value;
    ++size_;
  }
  // Room for `count` values in all, so that pushing them does not grow the ring step by step
  // (each step zeroes and copies the whole ring).
  void reserve(size_t count) {
    if (count > slots_.size()) grow(std::bit_ceil(count));
  }
  void pop_front() {
    head_ = (head_ + 1) & (slots_.size() - 1);
    --size_;
  }

 private:
  // Out of line: a push that does not grow then saves no registers.
  [[gnu::noinline]] void grow(size_t slots) {
    HugePageVector<T> larger(slots);
    for (size_t i = 0; i < size_; ++i) larger[i] = (*this)[i];
    slots_ = std::move(larger);
    head_ = 0;
  }

  HugePageVector<T> slots_;
  size_t head_ = 0;
  size_t size_ = 0;
};

}  // namespace asyncjobs::internal

#endif  // ASYNCJOBS_INTERNAL_MEMORY_RING_QUEUE_H_
