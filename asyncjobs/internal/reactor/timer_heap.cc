// The timer heap's own work: adding timers, popping the due ones, keeping the 4-ary heap
// ordered, and sweeping stale entries.
#include "asyncjobs/internal/reactor/timer_heap.h"

#include <algorithm>

namespace asyncjobs::internal {

uint32_t TimerHeap::add(Task* task, int64_t deadline, bool alarm) {
  uint32_t slot = free_slot_;
  if (slot == kNoSlot) {
    slot = static_cast<uint32_t>(slots_.size());
    slots_.push_back({nullptr, 0, kNoSlot, false});
  } else {
    free_slot_ = slots_[slot].next_free;
  }
  slots_[slot].task = task;
  slots_[slot].alarm = alarm;
  heap_.push_back({deadline, sequence_++, slot, slots_[slot].generation});
  sift_up(heap_.size() - 1);
  return slot;
}

// Heap work only, so that the wake-ups after it run back to back.
void TimerHeap::pop_due(int64_t now) {
  due_.clear();
  while (!heap_.empty() && heap_.front().deadline <= now) {
    due_.push_back(heap_.front());
    __builtin_prefetch(&slots_[heap_.front().slot]);
    heap_.front() = heap_.back();
    heap_.pop_back();
    if (!heap_.empty()) sift_down(0);
  }
}

void TimerHeap::sift_up(size_t index) {
  const Entry entry = heap_[index];
  while (index > 0) {
    const size_t parent = (index - 1) / 4;
    if (!(heap_[parent] > entry)) break;
    heap_[index] = heap_[parent];
    index = parent;
  }
  heap_[index] = entry;
}

void TimerHeap::sift_down(size_t index) {
  const Entry entry = heap_[index];
  const size_t size = heap_.size();
  for (;;) {
    const size_t first = 4 * index + 1;
    if (first >= size) break;
    size_t smallest = first;
    for (size_t child = first + 1; child < std::min(first + 4, size); ++child) {
      if (heap_[smallest] > heap_[child]) smallest = child;
    }
    if (!(entry > heap_[smallest])) break;
    heap_[index] = heap_[smallest];
    index = smallest;
  }
  heap_[index] = entry;
}

void TimerHeap::compact() {
  std::erase_if(heap_, [this](const Entry& entry) {
    return slots_[entry.slot].generation != entry.generation;
  });
  for (size_t i = heap_.size(); i-- > 0;) sift_down(i);
  stale_ = 0;
}

}  // namespace asyncjobs::internal
