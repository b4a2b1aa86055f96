#ifndef ASYNCJOBS_INTERNAL_FAULT_INJECTION_H_
#define ASYNCJOBS_INTERNAL_FAULT_INJECTION_H_

// A test-only seam: makes chosen system calls of the library fail, so that tests can check
// how each failure is reported. Not part of the public API; costs one relaxed load per call.

#include <cstddef>

namespace asyncjobs::internal {

enum class Fault {
  kStackMap,      // mmap of a slab of fiber stacks
  kEpollCreate,   // a reactor's epoll_create1
  kEventFd,       // a reactor's eventfd
  kThreadCreate,  // a worker thread of run_in_thread's pool
  kSpawn,         // posix_spawn of a process job
  kCount
};

// The next `skip` calls at `fault` succeed, the `count` after them fail (as with ENOMEM,
// EMFILE or EAGAIN, whichever the call would give). Any thread.
void inject_fault(Fault fault, int count = 1, int skip = 0);
// At a call site: true when this call must fail.
bool should_fail(Fault fault);

}  // namespace asyncjobs::internal

#endif  // ASYNCJOBS_INTERNAL_FAULT_INJECTION_H_
