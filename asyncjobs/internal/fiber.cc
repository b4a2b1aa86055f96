#include "asyncjobs/internal/fiber.h"

#include <cxxabi.h>

#include <boost/context/detail/fcontext.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <new>

#if defined(__SANITIZE_ADDRESS__)
#define ASYNCJOBS_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ASYNCJOBS_ASAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define ASYNCJOBS_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define ASYNCJOBS_TSAN 1
#endif
#endif

#if ASYNCJOBS_ASAN
#include <sanitizer/common_interface_defs.h>
#endif
#if ASYNCJOBS_TSAN
#include <sanitizer/tsan_interface.h>
#endif

namespace asyncjobs::internal {
namespace {

namespace fcontext = boost::context::detail;

thread_local Fiber* current_fiber = nullptr;

struct EhGlobals {  // layout of abi::__cxa_eh_globals in the Itanium C++ ABI
  void* caught;
  unsigned int uncaught;
};

// The pointer is fixed for a thread's life: fetch it once, not at every switch.
EhGlobals* eh_globals() {
  static thread_local EhGlobals* const globals =
      reinterpret_cast<EhGlobals*>(abi::__cxa_get_globals());
  return globals;
}

}  // namespace

struct Fiber::Record {
  struct ExceptionState {  // abi::__cxa_eh_globals, kept per fiber (FIBERS.md trap 3)
    void* caught = nullptr;
    unsigned int uncaught = 0;
  };

  explicit Record(const Stack& stack) : stack(stack) {}

  Stack stack;
  void* context = nullptr;  // fcontext_t of the fiber while it is suspended
  void* resumer = nullptr;  // fcontext_t of the resumer while the fiber runs
  Fiber* resumer_fiber = nullptr;
  ExceptionState exceptions;
  ExceptionState resumer_exceptions;
  RunningStack resumer_running;
  const void* resumer_stack_bottom = nullptr;  // sanitizer bookkeeping
  size_t resumer_stack_size = 0;
  void* fake_stack = nullptr;
  void* tsan_fiber = nullptr;
  void* resumer_tsan_fiber = nullptr;
};

struct FiberEntry {
  static void run(fcontext::transfer_t transfer) {
    static_cast<Fiber*>(transfer.data)->start(transfer.fctx);
  }
};

Fiber::~Fiber() {
  if (record_ != nullptr) {
    // Destroying a suspended fiber would leak whatever its stack owns.
    std::fprintf(stderr, "asyncjobs: a suspended fiber was destroyed\n");
    std::abort();
  }
}

Fiber* Fiber::current() { return current_fiber; }

void Fiber::resume() {
  if (record_ == nullptr) {
    const Stack stack = StackPool::for_this_thread().acquire();
    constexpr size_t kAlign = 64;
    auto top = reinterpret_cast<uintptr_t>(stack.top());
    const uintptr_t record_at = (top - sizeof(Record)) & ~(kAlign - 1);
    // Plain stores, not a memset: the first touch of a cold stack line then does not stall.
    record_ = new (reinterpret_cast<void*>(record_at)) Record(stack);
    const size_t usable = record_at - reinterpret_cast<uintptr_t>(stack.limit);
    record_->context = fcontext::make_fcontext(reinterpret_cast<void*>(record_at), usable,
                                               &FiberEntry::run);
#if ASYNCJOBS_TSAN
    record_->tsan_fiber = __tsan_create_fiber(0);
#endif
  }
  Record& record = *record_;
  record.resumer_fiber = current_fiber;
  current_fiber = this;
  record.resumer_running = running_stack;
  running_stack = {&record.stack, &name_};
  EhGlobals* globals = eh_globals();
  record.resumer_exceptions = {globals->caught, globals->uncaught};
  globals->caught = record.exceptions.caught;
  globals->uncaught = record.exceptions.uncaught;

#if ASYNCJOBS_ASAN
  void* resumer_fake_stack = nullptr;
  __sanitizer_start_switch_fiber(&resumer_fake_stack, record.stack.limit, record.stack.size);
#endif
#if ASYNCJOBS_TSAN
  record.resumer_tsan_fiber = __tsan_get_current_fiber();
  __tsan_switch_to_fiber(record.tsan_fiber, 0);
#endif
  fcontext::transfer_t back = fcontext::jump_fcontext(record.context, this);
#if ASYNCJOBS_ASAN
  __sanitizer_finish_switch_fiber(resumer_fake_stack, nullptr, nullptr);
#endif
  record.context = back.fctx;

  record.exceptions = {globals->caught, globals->uncaught};
  globals->caught = record.resumer_exceptions.caught;
  globals->uncaught = record.resumer_exceptions.uncaught;
  running_stack = record.resumer_running;
  current_fiber = record.resumer_fiber;
  if (finished_) {
#if ASYNCJOBS_TSAN
    __tsan_destroy_fiber(record.tsan_fiber);
#endif
    const Stack stack = record.stack;
    record_ = nullptr;  // the record dies with the stack's reuse
    StackPool::for_this_thread().release(stack);
  }
}

void Fiber::start(void* resumer) {
  record_->resumer = resumer;
#if ASYNCJOBS_ASAN
  __sanitizer_finish_switch_fiber(nullptr, &record_->resumer_stack_bottom,
                                  &record_->resumer_stack_size);
#endif
  entry_(argument_);  // the entry catches everything: nothing may escape a fiber
  finished_ = true;
  switch_out(/*finishing=*/true);
}

void Fiber::suspend() { switch_out(/*finishing=*/false); }

void Fiber::switch_out(bool finishing) {
  Record& record = *record_;
#if ASYNCJOBS_ASAN
  __sanitizer_start_switch_fiber(finishing ? nullptr : &record.fake_stack,
                                 record.resumer_stack_bottom, record.resumer_stack_size);
#endif
#if ASYNCJOBS_TSAN
  __tsan_switch_to_fiber(record.resumer_tsan_fiber, 0);
#endif
  fcontext::transfer_t back = fcontext::jump_fcontext(record.resumer, nullptr);
  record.resumer = back.fctx;
#if ASYNCJOBS_ASAN
  __sanitizer_finish_switch_fiber(record.fake_stack, &record.resumer_stack_bottom,
                                  &record.resumer_stack_size);
#endif
  (void)finishing;
}

}  // namespace asyncjobs::internal
