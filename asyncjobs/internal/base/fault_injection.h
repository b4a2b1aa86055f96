#ifndef ASYNCJOBS_INTERNAL_BASE_FAULT_INJECTION_H_
#define ASYNCJOBS_INTERNAL_BASE_FAULT_INJECTION_H_

// A test-only seam: makes chosen system calls of the library fail, so that tests can check
// how each failure is reported. Not part of the public API; costs one relaxed load per call.

#include <atomic>
#include <cstddef>

namespace asyncjobs::internal {

enum class Fault {
  kStackMap,      // mmap of a slab of fiber stacks
  kEpollCreate,   // a reactor's epoll_create1
  kEventFd,       // a reactor's eventfd
  kThreadCreate,  // a worker thread of run_in_thread's pool
  kSpawn,         // posix_spawn of a process job
  kJobPool,       // a block from the job pool (a job, its links, its result, a runner)
  kCount
};

// The next `skip` calls at `fault` succeed, the `count` after them fail (as with ENOMEM,
// EMFILE or EAGAIN, whichever the call would give). Any thread.
void inject_fault(Fault fault, int count = 1, int skip = 0);
namespace fault_injection_internal {
extern std::atomic<bool> armed[static_cast<size_t>(Fault::kCount)];
bool take_planned_failure(Fault fault);
}  // namespace fault_injection_internal

// At a call site: true when this call must fail.
inline bool should_fail(Fault fault) {
  const size_t kind = static_cast<size_t>(fault);
  if (!fault_injection_internal::armed[kind].load(std::memory_order_relaxed)) [[likely]] {
    return false;
  }
  return fault_injection_internal::take_planned_failure(fault);
}

}  // namespace asyncjobs::internal

#endif  // ASYNCJOBS_INTERNAL_BASE_FAULT_INJECTION_H_
