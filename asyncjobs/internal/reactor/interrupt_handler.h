#ifndef ASYNCJOBS_INTERNAL_REACTOR_INTERRUPT_HANDLER_H_
#define ASYNCJOBS_INTERNAL_REACTOR_INTERRUPT_HANDLER_H_

// InterruptHandler: what a Reactor tells, on its loop, after `Reactor::interrupt`. Apart
// from reactor.h so that a Scheduler can be one without its users seeing the reactor.

#include "asyncjobs/internal/base/intrusive_list.h"

namespace asyncjobs::internal {

// Registered with Reactor::add_interrupt_handler; told outside every task.
class InterruptHandler : public ListNode<InterruptHandler> {
 public:
  virtual void on_interrupt() = 0;

 protected:
  ~InterruptHandler() = default;
};

}  // namespace asyncjobs::internal

#endif  // ASYNCJOBS_INTERNAL_REACTOR_INTERRUPT_HANDLER_H_
