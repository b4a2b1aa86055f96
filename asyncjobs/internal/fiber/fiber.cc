// The only place that switches stacks: fibers entered, suspended and handed over through
// fcontext, each switch carrying the fiber's C++ exception state and sanitizer annotations.
#include "asyncjobs/internal/fiber/fiber.h"

#include <cxxabi.h>

#include <boost/context/detail/fcontext.hpp>
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <new>

#include "asyncjobs/internal/base/prefetch.h"
#include "asyncjobs/internal/fiber/jump.h"
#include "asyncjobs/internal/fiber/switch_annotations.h"

namespace asyncjobs::internal {
namespace {

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
  [[no_unique_address]] FiberAnnotations annotations;  // empty without sanitizers
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
  const std::string* name =
      fiber->name_of_ != nullptr ? fiber->name_of_(fiber->name_argument_) : nullptr;
  return {&fiber->record_->stack, name};
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
  record_->annotations.create();
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
  ResumerAnnotations resumer_annotations;
  resumer_annotations.start_switch(record.annotations, record.stack);
  const fcontext::transfer_t back = jump(record.context, nullptr);
  resumer_annotations.finish_switch();
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
    returned_record.annotations.destroy();
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
  enter(next, &record.exceptions);
  record.annotations.start_switch_to(next_record.annotations, next_record.stack);
  const fcontext::transfer_t back = jump(next_record.context, this);
  land(&back);
}

void Fiber::suspend() { switch_out(/*finishing=*/false); }

void Fiber::switch_out(bool finishing) {
  Record& record = *record_;
  record.annotations.start_switch_to_resumer(finishing);
  const fcontext::transfer_t back = jump(record.resumer, this);
  land(&back);
}

void Fiber::land(const void* transfer) {
  const auto& back = *static_cast<const fcontext::transfer_t*>(transfer);
  Record& record = *record_;
  const bool handed_over = back.data != nullptr;  // by another fiber, which keeps our resumer
  if (handed_over) {
    static_cast<Fiber*>(back.data)->record_->context = back.fctx;
  } else {
    record.resumer = back.fctx;
  }
  record.annotations.finish_switch(handed_over);
}

}  // namespace asyncjobs::internal
