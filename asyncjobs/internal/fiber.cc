#include "asyncjobs/internal/fiber.h"

#include <cxxabi.h>

#include <boost/context/detail/fcontext.hpp>
#include <cstdio>
#include <cstdlib>

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

EhGlobals* eh_globals() { return reinterpret_cast<EhGlobals*>(abi::__cxa_get_globals()); }

}  // namespace

struct FiberEntry {
  static void run(fcontext::transfer_t transfer) {
    static_cast<Fiber*>(transfer.data)->start(transfer.fctx);
  }
};

Fiber::~Fiber() {
  if (stack_ && !finished_) {
    // Destroying a suspended fiber would leak whatever its stack owns.
    std::fprintf(stderr, "asyncjobs: a suspended fiber was destroyed\n");
    std::abort();
  }
}

Fiber* Fiber::current() { return current_fiber; }

void Fiber::resume() {
  if (!stack_) {
    stack_ = StackPool::for_this_thread().acquire();
    context_ = fcontext::make_fcontext(stack_.top(), stack_.size, &FiberEntry::run);
#if ASYNCJOBS_TSAN
    tsan_fiber_ = __tsan_create_fiber(0);
#endif
  }
  resumer_fiber_ = current_fiber;
  current_fiber = this;
  resumer_running_ = running_stack;
  running_stack = {&stack_, name_ != nullptr ? name_->c_str() : nullptr};
  EhGlobals* globals = eh_globals();
  resumer_exceptions_ = {globals->caught, globals->uncaught};
  globals->caught = exceptions_.caught;
  globals->uncaught = exceptions_.uncaught;

#if ASYNCJOBS_ASAN
  void* resumer_fake_stack = nullptr;
  __sanitizer_start_switch_fiber(&resumer_fake_stack, stack_.limit, stack_.size);
#endif
#if ASYNCJOBS_TSAN
  resumer_tsan_fiber_ = __tsan_get_current_fiber();
  __tsan_switch_to_fiber(tsan_fiber_, 0);
#endif
  fcontext::transfer_t back = fcontext::jump_fcontext(context_, this);
#if ASYNCJOBS_ASAN
  __sanitizer_finish_switch_fiber(resumer_fake_stack, nullptr, nullptr);
#endif
  context_ = back.fctx;

  exceptions_ = {globals->caught, globals->uncaught};
  globals->caught = resumer_exceptions_.caught;
  globals->uncaught = resumer_exceptions_.uncaught;
  running_stack = resumer_running_;
  current_fiber = resumer_fiber_;
  if (finished_) {
    StackPool::for_this_thread().release(stack_);
    stack_ = Stack{};
#if ASYNCJOBS_TSAN
    __tsan_destroy_fiber(tsan_fiber_);
    tsan_fiber_ = nullptr;
#endif
  }
}

void Fiber::start(void* resumer) {
  resumer_ = resumer;
#if ASYNCJOBS_ASAN
  __sanitizer_finish_switch_fiber(nullptr, &resumer_stack_bottom_, &resumer_stack_size_);
#endif
  entry_(argument_);  // the entry catches everything: nothing may escape a fiber
  finished_ = true;
  switch_out(/*finishing=*/true);
}

void Fiber::suspend() { switch_out(/*finishing=*/false); }

void Fiber::switch_out(bool finishing) {
#if ASYNCJOBS_ASAN
  __sanitizer_start_switch_fiber(finishing ? nullptr : &fake_stack_, resumer_stack_bottom_,
                                 resumer_stack_size_);
#endif
#if ASYNCJOBS_TSAN
  __tsan_switch_to_fiber(resumer_tsan_fiber_, 0);
#endif
  fcontext::transfer_t back = fcontext::jump_fcontext(resumer_, nullptr);
  resumer_ = back.fctx;
#if ASYNCJOBS_ASAN
  __sanitizer_finish_switch_fiber(fake_stack_, &resumer_stack_bottom_, &resumer_stack_size_);
#endif
  (void)finishing;
}

}  // namespace asyncjobs::internal
