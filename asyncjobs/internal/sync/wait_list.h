#ifndef ASYNCJOBS_INTERNAL_SYNC_WAIT_LIST_H_
#define ASYNCJOBS_INTERNAL_SYNC_WAIT_LIST_H_

// WaitList: tasks waiting for a condition (Queue, Event).

#include "absl/time/time.h"
#include "asyncjobs/internal/base/intrusive_list.h"

namespace asyncjobs {
class Task;
}

namespace asyncjobs::internal {

// Tasks of one reactor waiting for a condition (Queue, Event). Each waiter's node lives on
// its own fiber stack, so waiting allocates nothing; a waiter that leaves early (timeout,
// cancellation) unlinks itself.
class WaitList {
 public:
  WaitList() = default;
  WaitList(const WaitList&) = delete;
  WaitList& operator=(const WaitList&) = delete;

  // Suspends the current task until notified; false when `deadline` passed first.
  // Throws Cancelled if the task is cancelled meanwhile, std::logic_error outside a job.
  bool wait(absl::Time deadline, const char* what);
  void notify_one();  // wakes the longest waiter that is still waiting
  void notify_all();
  bool empty() const { return waiters_.empty(); }

 private:
  struct Waiter : ListNode<Waiter> {
    Task* task;
  };
  IntrusiveList<Waiter> waiters_;
};

}  // namespace asyncjobs::internal

#endif  // ASYNCJOBS_INTERNAL_SYNC_WAIT_LIST_H_
