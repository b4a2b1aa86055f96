// WaitList: waking waiters, and leaving early on timeout or cancellation.
#include "absl/cleanup/cleanup.h"
#include "asyncjobs/internal/sync/wait_list.h"

#include <stdexcept>
#include <string>

#include "asyncjobs/internal/reactor/reactor.h"

namespace asyncjobs::internal {

bool WaitList::wait(absl::Time deadline, const char* what) {
  Task* task = Task::current();
  if (task == nullptr) {
    throw std::logic_error(std::string("asyncjobs: ") + what +
                           " outside a job would block forever");
  }
  Waiter waiter;
  waiter.task = task;
  waiters_.push_back(&waiter);
  const absl::Cleanup unlink = [&waiter] {
    if (waiter.linked()) IntrusiveList<Waiter>::remove(&waiter);
  };
  return Reactor::current()->wait(deadline) == Reactor::WakeReason::kNotified;
}

void WaitList::notify_one() {
  while (Waiter* waiter = waiters_.pop_front()) {
    if (Reactor::current()->wake(waiter->task)) return;
  }
}

void WaitList::notify_all() {
  while (Waiter* waiter = waiters_.pop_front()) Reactor::current()->wake(waiter->task);
}

}  // namespace asyncjobs::internal
