#ifndef ASYNCJOBS_INTERNAL_REACTOR_FD_WAITERS_H_
#define ASYNCJOBS_INTERNAL_REACTOR_FD_WAITERS_H_

// The tasks waiting on one file descriptor, in a list of nodes on their own stacks.

#include <cstdint>

namespace asyncjobs {
class Task;
}

namespace asyncjobs::internal {

// One waiting task, on its own stack: a wait allocates nothing.
struct FdWaiter {
  Task* task;
  uint32_t events;  // EPOLLIN or EPOLLOUT
  FdWaiter* previous;
  FdWaiter* next;
  bool linked;
};

// Every task waiting on one fd, readers and writers, and the fd's state in the epoll set.
struct FdWaiters {
  FdWaiter* first = nullptr;
  bool registered = false;  // in the epoll set, as far as we know (closing an fd drops it)

  void push_front(FdWaiter* waiter) {
    waiter->next = first;
    if (first != nullptr) first->previous = waiter;
    first = waiter;
    waiter->linked = true;
  }
  void remove(FdWaiter* waiter) {
    if (waiter->previous != nullptr) {
      waiter->previous->next = waiter->next;
    } else {
      first = waiter->next;
    }
    if (waiter->next != nullptr) waiter->next->previous = waiter->previous;
    waiter->linked = false;
  }
  uint32_t events() const {  // what any of them waits for
    uint32_t events = 0;
    for (const FdWaiter* waiter = first; waiter != nullptr; waiter = waiter->next) {
      events |= waiter->events;
    }
    return events;
  }
};

}  // namespace asyncjobs::internal

#endif  // ASYNCJOBS_INTERNAL_REACTOR_FD_WAITERS_H_
