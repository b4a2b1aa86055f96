#include "asyncjobs/internal/fiber/fiber.h"

#include <cxxabi.h>

#include <boost/context/detail/fcontext.hpp>
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <new>

#include "asyncjobs/internal/base/prefetch.h"
#include "asyncjobs/internal/base/sanitizers.h"

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
thread_local EhGlobals* thread_eh_globals = nullptr;

EhGlobals* eh_globals() {
  EhGlobals* globals = thread_eh_globals;
  if (globals == nullptr) [[unlikely]] {
    globals = thread_eh_globals = reinterpret_cast<EhGlobals*>(abi::__cxa_get_globals());
  }
  return globals;
}

}  // namespace

struct Fiber::Record {
  struct ExceptionState {  // abi::__cxa_eh_globals, kept per fiber (docs/fibers.md, trap 3)
    void* caught = nullptr;
    unsigned int uncaught = 0;
  };

  explicit Record(const Stack& stack) : stack(stack) {}

  Stack stack;
  void* context = nullptr;  // fcontext_t of this fiber while it is suspended
  // fcontext_t of the resumer while this fiber, or a fiber it handed over to, runs.
  void* resumer = nullptr;
  ExceptionState exceptions;
#if ASYNCJOBS_ASAN
  const void* resumer_stack_bottom = nullptr;
  size_t resumer_stack_size = 0;
  void* fake_stack = nullptr;
#endif
#if ASYNCJOBS_TSAN
  void* tsan_fiber = nullptr;
  void* resumer_tsan_fiber = nullptr;
#endif
};

// Every jump passes the jumping fiber as its data (nullptr: the resumer), so that whoever
// lands knows where to keep the jumper's suspended context.
struct FiberEntry {
  static void run(fcontext::transfer_t transfer) {
    Fiber* self = current_fiber;
    self->land(&transfer);
    self->entry_(self->argument_);  // the entry catches everything: nothing may escape
    self->finished_ = true;
    self->switch_out(/*finishing=*/true);
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

RunningStack running_stack() {
  const Fiber* fiber = current_fiber;
  if (fiber == nullptr || fiber->record_ == nullptr) return {};
  return {&fiber->record_->stack, fiber->name_};
}

void Fiber::prefetch_frames() const {
  if (record_ == nullptr || record_->context == nullptr) return;
  // The saved registers, then the frames of the suspension call chain above them.
  constexpr size_t kMaxBytes = 8 * 64;
  const auto* from = static_cast<const char*>(record_->context);
  const auto* record = reinterpret_cast<const char*>(record_);
  prefetch_lines(from, std::min<size_t>(record - from, kMaxBytes));
}

void Fiber::allocate_record() {
  const Stack stack = StackPool::for_this_thread().acquire();
  constexpr size_t kAlign = 64;
  auto top = reinterpret_cast<uintptr_t>(stack.top());
  const uintptr_t record_at = (top - sizeof(Record)) & ~(kAlign - 1);
  // Plain stores, not a memset: the first touch of a cold stack line then does not stall.
  record_ = new (reinterpret_cast<void*>(record_at)) Record(stack);
  const size_t usable = record_at - reinterpret_cast<uintptr_t>(stack.limit);
  record_->context =
      fcontext::make_fcontext(reinterpret_cast<void*>(record_at), usable, &FiberEntry::run);
#if ASYNCJOBS_TSAN
  record_->tsan_fiber = __tsan_create_fiber(0);
#endif
}

// Makes `next` the running fiber of the thread: its stack, its exception state.
void Fiber::enter(Fiber& next, void* saved_exceptions) {
  auto* saved = static_cast<Record::ExceptionState*>(saved_exceptions);
  EhGlobals* globals = eh_globals();
  *saved = {globals->caught, globals->uncaught};
  globals->caught = next.record_->exceptions.caught;
  globals->uncaught = next.record_->exceptions.uncaught;
  current_fiber = &next;
}

Fiber* Fiber::resume() {
  prepare();
  Record& record = *record_;
  Fiber* const resumer_fiber = current_fiber;
  Record::ExceptionState resumer_exceptions;
  enter(*this, &resumer_exceptions);
#if ASYNCJOBS_ASAN
  void* resumer_fake_stack = nullptr;
  __sanitizer_start_switch_fiber(&resumer_fake_stack, record.stack.limit, record.stack.size);
#endif
#if ASYNCJOBS_TSAN
  record.resumer_tsan_fiber = __tsan_get_current_fiber();
  __tsan_switch_to_fiber(record.tsan_fiber, 0);
#endif
  const fcontext::transfer_t back = fcontext::jump_fcontext(record.context, nullptr);
#if ASYNCJOBS_ASAN
  __sanitizer_finish_switch_fiber(resumer_fake_stack, nullptr, nullptr);
#endif
  // The fiber coming back may be another one, that this one handed over to.
  Fiber* returned = static_cast<Fiber*>(back.data);
  Record& returned_record = *returned->record_;
  returned_record.context = back.fctx;
  EhGlobals* globals = eh_globals();
  returned_record.exceptions = {globals->caught, globals->uncaught};
  globals->caught = resumer_exceptions.caught;
  globals->uncaught = resumer_exceptions.uncaught;
  current_fiber = resumer_fiber;
  if (returned->finished_) {
#if ASYNCJOBS_TSAN
    __tsan_destroy_fiber(returned_record.tsan_fiber);
#endif
    const Stack stack = returned_record.stack;
    returned->record_ = nullptr;  // the record dies with the stack's reuse
    StackPool::for_this_thread().release(stack);
  }
  return returned;
}

void Fiber::switch_to(Fiber& next) {
  next.prepare();
  Record& record = *record_;
  Record& next_record = *next.record_;
  next_record.resumer = record.resumer;
#if ASYNCJOBS_ASAN
  next_record.resumer_stack_bottom = record.resumer_stack_bottom;
  next_record.resumer_stack_size = record.resumer_stack_size;
#endif
#if ASYNCJOBS_TSAN
  next_record.resumer_tsan_fiber = record.resumer_tsan_fiber;
#endif
  enter(next, &record.exceptions);
#if ASYNCJOBS_ASAN
  __sanitizer_start_switch_fiber(&record.fake_stack, next_record.stack.limit,
                                 next_record.stack.size);
#endif
#if ASYNCJOBS_TSAN
  __tsan_switch_to_fiber(next_record.tsan_fiber, 0);
#endif
  const fcontext::transfer_t back = fcontext::jump_fcontext(next_record.context, this);
  land(&back);
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
  const fcontext::transfer_t back = fcontext::jump_fcontext(record.resumer, this);
  land(&back);
  (void)finishing;
}

void Fiber::land(const void* transfer) {
  const auto& back = *static_cast<const fcontext::transfer_t*>(transfer);
  Record& record = *record_;
  if (back.data != nullptr) {  // handed over by another fiber, which keeps our resumer
    static_cast<Fiber*>(back.data)->record_->context = back.fctx;
#if ASYNCJOBS_ASAN
    __sanitizer_finish_switch_fiber(record.fake_stack, nullptr, nullptr);
#endif
    return;
  }
  record.resumer = back.fctx;
#if ASYNCJOBS_ASAN
  __sanitizer_finish_switch_fiber(record.fake_stack, &record.resumer_stack_bottom,
                                  &record.resumer_stack_size);
#endif
}

}  // namespace asyncjobs::internal
