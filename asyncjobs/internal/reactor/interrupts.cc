// Interrupts from other threads and signal handlers: an atomic flag, and the eventfd to end
// an epoll_wait in progress (write() is async-signal-safe).
#include <unistd.h>

#include "asyncjobs/internal/reactor/reactor.h"

namespace asyncjobs {

void Reactor::interrupt() {
  interrupted_.store(true, std::memory_order_release);
  const uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof one);
}

void Reactor::handle_interrupt() {
  interrupted_.store(false, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_acquire);
  interrupt_handlers_.for_each([](InterruptHandler* handler) { handler->on_interrupt(); });
}

}  // namespace asyncjobs
