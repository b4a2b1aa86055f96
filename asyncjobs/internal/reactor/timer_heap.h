#ifndef ASYNCJOBS_INTERNAL_REACTOR_TIMER_HEAP_H_
#define ASYNCJOBS_INTERNAL_REACTOR_TIMER_HEAP_H_

// The reactor's timers: a 4-ary min-heap on (deadline, sequence) with lazy cancellation.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "asyncjobs/internal/memory/huge_page_allocator.h"

namespace asyncjobs {
class Task;
}

namespace asyncjobs::internal {

// A heap entry names a heap-owned slot; cancelling a timer frees its slot (bumping its
// generation), so the entry goes stale and is skipped when it reaches the top. Stale entries
// are swept when they outnumber the live ones. 4-ary: half the depth of a binary heap, and a
// node's children share cache lines, which matters once the heap outgrows the caches
// (100,000 sleeping jobs). Deadlines are nanoseconds since the Unix epoch.
class TimerHeap {
 public:
  static constexpr uint32_t kNoSlot = UINT32_MAX;

  bool empty() const { return heap_.empty(); }
  int64_t next_deadline() const { return heap_.front().deadline; }  // when not empty

  // A timer for `task` (an alarm cancels it rather than waking it); returns its slot.
  uint32_t add(Task* task, int64_t deadline, bool alarm);
  // Before its deadline: the timer in `slot` will not fire; sets `slot` to kNoSlot.
  void cancel(uint32_t& slot) {
    release(slot);
    note_stale();
  }
  // Forgets every entry once all are stale (none can wake anyone).
  void clear_if_all_stale() {
    if (stale_ != heap_.size() || heap_.empty()) return;
    heap_.clear();
    stale_ = 0;
  }
  // Pops every timer due by `now` and, for each that was not cancelled, frees its slot and
  // calls `on_expired(task, alarm)`.
  template <class OnExpired>
  void expire(int64_t now, OnExpired on_expired);

 private:
  struct Entry {  // stale once its slot's generation moved on
    int64_t deadline;
    uint64_t sequence;
    uint32_t slot;
    uint32_t generation;
    bool operator>(const Entry& other) const {
      return deadline != other.deadline ? deadline > other.deadline : sequence > other.sequence;
    }
  };
  struct Slot {  // heap-owned, so a stale entry never points into a dead task
    Task* task;
    uint32_t generation;
    uint32_t next_free;
    bool alarm;
  };

  void release(uint32_t& index) {  // frees the slot and sets `index` to kNoSlot
    Slot& slot = slots_[index];
    ++slot.generation;
    slot.task = nullptr;
    slot.next_free = free_slot_;
    free_slot_ = index;
    index = kNoSlot;
  }
  void note_stale() {
    if (++stale_ > 1024 && stale_ * 2 > heap_.size()) compact();
  }
  void pop_due(int64_t now);  // into due_
  void sift_up(size_t index);
  void sift_down(size_t index);
  void compact();

  // A reactor lives for one run: 100,000 sleeping jobs grow these to megabytes every run,
  // in huge pages kept from run to run, not fresh 4 KiB pages (huge_page_allocator.h).
  HugePageVector<Entry> heap_;
  HugePageVector<Entry> due_;  // scratch for expire
  HugePageVector<Slot> slots_;
  uint32_t free_slot_ = kNoSlot;
  size_t stale_ = 0;
  uint64_t sequence_ = 0;
};

// Slots and tasks are scattered: each is fetched a few entries before it is needed.
template <class OnExpired>
void TimerHeap::expire(int64_t now, OnExpired on_expired) {
  pop_due(now);
  constexpr size_t kAhead = 8;
  const size_t count = due_.size();
  for (size_t i = 0; i < count; ++i) {
    if (i + kAhead < count) {
      const Slot& ahead = slots_[due_[i + kAhead].slot];
      if (ahead.task != nullptr) __builtin_prefetch(ahead.task, 1);
    }
    uint32_t index = due_[i].slot;
    const Slot& slot = slots_[index];
    if (slot.generation != due_[i].generation) {
      --stale_;
      continue;
    }
    Task* task = slot.task;
    const bool alarm = slot.alarm;
    release(index);
    on_expired(task, alarm);
  }
}

}  // namespace asyncjobs::internal

#endif  // ASYNCJOBS_INTERNAL_REACTOR_TIMER_HEAP_H_
