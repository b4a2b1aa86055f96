#ifndef ASYNCJOBS_INTERNAL_FIBER_STACK_H_
#define ASYNCJOBS_INTERNAL_FIBER_STACK_H_

// Stack and StackPool: the per-thread pool of fiber stacks.

#include <cstddef>
#include <string>
#include <vector>

#include "asyncjobs/stack_options.h"

namespace asyncjobs::internal {

// One fiber stack: [limit, limit + size) is usable; the stack grows down from the top.
struct Stack {
  char* limit = nullptr;
  size_t size = 0;
  bool guarded = false;
  // To be guarded when first acquired: a fresh slab's stacks cost no mprotect until used.
  bool wants_guard = false;
  bool warm = false;  // its top page is resident: touched since it was mapped or trimmed
  unsigned valgrind_id = 0;  // from VALGRIND_STACK_REGISTER, where Valgrind's header exists

  void* top() const { return limit + size; }
  explicit operator bool() const { return limit != nullptr; }
};

// A per-thread free list of mmap'd stacks. Stacks are carved from slabs and never
// unmapped while the thread lives: a warm stack costs no page fault when reused.
class StackPool {
 public:
  static StackPool& for_this_thread() { return pool_; }

  Stack acquire();
  void release(Stack stack);
  // Gives back the memory of free stacks beyond the warm ones (keeps the mappings): at least
  // `options.warm_stacks`, and as many as were in use at once since the last trim, so that
  // a run repeated at the same size meets no page fault (StackOptions::warm_stacks).
  void trim();

  StackPool(const StackPool&) = delete;
  StackPool& operator=(const StackPool&) = delete;
  ~StackPool();

 private:
  StackPool() = default;
  void add_slab();
  static thread_local StackPool pool_;

  struct Slab {
    char* base;
    size_t bytes;
  };
  std::vector<Slab> slabs_;
  std::vector<Stack> free_;
  size_t trimmed_from_ = 0;  // free_[0, trimmed_from_) had their pages released
  size_t in_use_ = 0;        // acquired, not yet released
  size_t peak_in_use_ = 0;   // since the last trim
};

// The stack the thread runs on now and the name to report if it overflows (null: the
// thread's own stack). Defined by the fiber layer (fiber.cc); async-signal-safe.
struct RunningStack {
  const Stack* stack = nullptr;
  const std::string* name = nullptr;
};
RunningStack running_stack();

// Reports an overflow of a guarded stack as "stack overflow in job <name>" on stderr, then
// aborts. Installs a SIGSEGV handler (once per process) and an alternate signal stack
// (once per thread).
void install_overflow_handler_for_this_thread();

}  // namespace asyncjobs::internal

#endif  // ASYNCJOBS_INTERNAL_FIBER_STACK_H_
