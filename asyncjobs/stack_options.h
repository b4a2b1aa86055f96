#ifndef ASYNCJOBS_STACK_OPTIONS_H_
#define ASYNCJOBS_STACK_OPTIONS_H_

// StackOptions: how fiber stacks are made and kept.

#include <cstddef>

namespace asyncjobs {

// How every job's fiber stack is made. Stacks are reserved virtual memory: only the pages
// a job touches cost memory. Set before the first job of a thread starts.
struct StackOptions {
  // Reserved size of each stack. A job that recurses deeper overflows (see `guard_page`).
  size_t stack_size = 256 * 1024;
  // A PROT_NONE page below each stack, so an overflow stops with
  // "stack overflow in job <label>" instead of corrupting a neighbour. A guarded stack is
  // two memory mappings: past about vm.max_map_count / 2 stacks (~32,000 with Linux's
  // default 65530) new stacks come without a guard page and a one-time warning is printed.
  bool guard_page = true;
  // Stacks kept with their pages when a top-level run ends; others give their memory back
  // (madvise) but stay mapped for reuse. Beyond these, the stacks a run had in use at once
  // stay warm until the end of the next run: repeating a run of the same size costs no page
  // fault, and a smaller run that follows gives the rest back.
  size_t warm_stacks = 16384;
};

// Process-wide; affects stacks made after the call.
void set_stack_options(const StackOptions& options);
StackOptions stack_options();

}  // namespace asyncjobs

#endif  // ASYNCJOBS_STACK_OPTIONS_H_
