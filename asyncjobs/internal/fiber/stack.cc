// StackPool (slabs of guarded stacks, reuse, trimming) and the stack-overflow report.
#include "asyncjobs/internal/fiber/stack.h"

#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "asyncjobs/internal/base/fault_injection.h"

// Under Valgrind, every fiber stack must be registered, or Valgrind takes each switch for a
// huge stack frame and reports every access below it (docs/fibers.md, trap 5). The client
// requests cost a few instructions outside Valgrind; without the header they are skipped.
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define ASYNCJOBS_REGISTER_STACK(start, end) VALGRIND_STACK_REGISTER(start, end)
#define ASYNCJOBS_DEREGISTER_STACK(id) VALGRIND_STACK_DEREGISTER(id)
#else
#define ASYNCJOBS_REGISTER_STACK(start, end) 0u
#define ASYNCJOBS_DEREGISTER_STACK(id) (void)(id)
#endif

namespace asyncjobs {
namespace {

std::mutex options_mutex;
StackOptions global_options;

}  // namespace

void set_stack_options(const StackOptions& options) {
  std::lock_guard<std::mutex> lock(options_mutex);
  global_options = options;
}

StackOptions stack_options() {
  std::lock_guard<std::mutex> lock(options_mutex);
  return global_options;
}

}  // namespace asyncjobs

namespace asyncjobs::internal {
namespace {

constexpr size_t kStacksPerSlab = 16;

size_t page_size() {
  static const size_t size = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return size;
}

size_t round_to_pages(size_t bytes) {
  const size_t page = page_size();
  return (bytes + page - 1) / page * page;
}

// Guarded stacks in the whole process, against the kernel's mapping-count limit.
std::atomic<long> guarded_stacks{0};

long guarded_stack_budget() {
  static const long budget = [] {
    long max_maps = 65530;
    std::ifstream("/proc/sys/vm/max_map_count") >> max_maps;
    // Each guarded stack splits its slab into two mappings; leave room for everything else.
    return (max_maps - 4096) / 2;
  }();
  return budget;
}

void warn_guard_limit_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    std::fprintf(stderr,
                 "asyncjobs: %ld guarded fiber stacks reach vm.max_map_count; further stacks "
                 "have no guard page (an overflow there corrupts memory). Raise "
                 "vm.max_map_count or use StackOptions{.guard_page = false}.\n",
                 guarded_stack_budget());
  });
}

bool try_guard(char* guard) {
  if (guarded_stacks.fetch_add(1, std::memory_order_relaxed) >= guarded_stack_budget() ||
      mprotect(guard, page_size(), PROT_NONE) != 0) {
    guarded_stacks.fetch_sub(1, std::memory_order_relaxed);
    warn_guard_limit_once();
    return false;
  }
  return true;
}

// A starting fiber writes its record and first frames at the top of its stack, which is
// cold: fetch those lines early, downwards as the stack grows (in that order the hardware
// prefetcher follows on below; upwards was slower). Twelve lines cover a job down to
// Event::wait; fewer started blocked jobs more slowly (growth_benchmark BM_Blocked/kind:0,
// docs/profiling.md).
void prefetch_top(const Stack& stack) {
  constexpr size_t kLine = 64, kLines = 12;
  const char* top = static_cast<const char*>(stack.top());
  for (size_t i = 1; i <= kLines; ++i) __builtin_prefetch(top - i * kLine, 1);
}

// Makes the top page of a cold stack resident in one system call, far cheaper than the page
// fault it saves (docs/fibers.md, "What things cost").
// Kernels before 5.14 refuse the advice; the first touch then faults as usual.
void populate_top(const Stack& stack) {
#ifndef MADV_POPULATE_WRITE
  constexpr int MADV_POPULATE_WRITE = 23;
#endif
  static std::atomic<bool> supported{true};
  if (!supported.load(std::memory_order_relaxed)) return;
  char* top_page = static_cast<char*>(stack.top()) - page_size();
  if (madvise(top_page, page_size(), MADV_POPULATE_WRITE) != 0 && errno == EINVAL) {
    supported.store(false, std::memory_order_relaxed);
  }
}

}  // namespace

thread_local StackPool StackPool::pool_;

StackPool::~StackPool() {
  for (const Stack& stack : free_) {
    if (stack.guarded) guarded_stacks.fetch_sub(1, std::memory_order_relaxed);
    ASYNCJOBS_DEREGISTER_STACK(stack.valgrind_id);
  }
  // Slabs mapped one after another are often neighbours: one munmap per run of them.
  std::sort(slabs_.begin(), slabs_.end(),
            [](const Slab& a, const Slab& b) { return a.base < b.base; });
  for (size_t i = 0; i < slabs_.size();) {
    char* const start = slabs_[i].base;
    char* end = start + slabs_[i].bytes;
    while (++i < slabs_.size() && slabs_[i].base == end) end += slabs_[i].bytes;
    munmap(start, end - start);
  }
}

void StackPool::add_slab() {
  const StackOptions options = stack_options();
  const size_t usable = round_to_pages(options.stack_size);
  // One page below every stack, a guard or else left untouched: slots a power of two apart
  // (256 KiB) put every stack's top in the same cache sets, and prefetched tops evicted
  // each other (40k blocked jobs started 2.2x slower without guard pages than with them).
  const size_t slot = usable + page_size();
  const size_t bytes = slot * kStacksPerSlab;
  void* base = should_fail(Fault::kStackMap)
                   ? MAP_FAILED
                   : mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
  if (base == MAP_FAILED) {
    throw std::runtime_error("asyncjobs: cannot map " + std::to_string(bytes >> 10) +
                             " KiB of fiber stacks (mmap: out of memory)");
  }
  madvise(base, bytes, MADV_NOHUGEPAGE);  // a huge page would cost 2 MiB per shallow stack
  slabs_.push_back({static_cast<char*>(base), bytes});
  // Pushed in reverse so that acquire() hands out the slab's stacks in address order.
  for (size_t i = kStacksPerSlab; i-- > 0;) {
    char* slot_base = static_cast<char*>(base) + i * slot;
    Stack stack{slot_base + page_size(), usable};
    stack.wants_guard = options.guard_page;
    stack.valgrind_id = ASYNCJOBS_REGISTER_STACK(stack.limit, stack.limit + stack.size);
    free_.push_back(stack);
  }
}

Stack StackPool::acquire() {
  if (free_.empty()) add_slab();
  Stack stack = free_.back();
  free_.pop_back();
  if (trimmed_from_ > free_.size()) trimmed_from_ = free_.size();
  if (++in_use_ > peak_in_use_) peak_in_use_ = in_use_;
  if (stack.wants_guard) {
    stack.guarded = try_guard(stack.limit - page_size());
    stack.wants_guard = false;
  }
  if (!stack.warm) {
    populate_top(stack);
    stack.warm = true;
  }
  // Fibers that start soon will write there.
  constexpr size_t kAhead = 4;
  if (free_.size() >= kAhead) prefetch_top(free_[free_.size() - kAhead]);
  return stack;
}

void StackPool::release(Stack stack) {
  free_.push_back(stack);
  --in_use_;
}

void StackPool::trim() {
  const size_t warm = std::max(stack_options().warm_stacks, peak_in_use_);
  peak_in_use_ = in_use_;
  // free_ is a LIFO: the oldest entries, at the front, are the coldest.
  if (free_.size() <= warm) return;
  const size_t cold_end = free_.size() - warm;
  if (cold_end <= trimmed_from_) return;
  // One madvise per run of neighbouring stacks (a guard page apart at most), not one per
  // stack: each call flushes the TLB of every core.
  std::vector<std::pair<char*, char*>> ranges;
  for (size_t i = trimmed_from_; i < cold_end; ++i) {
    ranges.emplace_back(free_[i].limit, free_[i].limit + free_[i].size);
    free_[i].warm = false;
  }
  std::sort(ranges.begin(), ranges.end());
  for (size_t i = 0; i < ranges.size();) {
    char* const start = ranges[i].first;
    char* end = ranges[i].second;
    while (++i < ranges.size() && ranges[i].first <= end + page_size()) end = ranges[i].second;
    madvise(start, end - start, MADV_DONTNEED);
  }
  trimmed_from_ = cold_end;
}

namespace {

struct sigaction previous_segv_action;

void write_stderr(const char* text, size_t length) {
  while (length > 0) {
    ssize_t written = write(STDERR_FILENO, text, length);
    if (written <= 0) return;
    text += written;
    length -= static_cast<size_t>(written);
  }
}

bool is_guard_hit(const Stack* stack, const char* address) {
  // With -fstack-clash-protection the first touch below the stack is within one page.
  return stack != nullptr && stack->guarded && address < stack->limit &&
         address >= stack->limit - page_size();
}

void on_segv(int signal, siginfo_t* info, void* context) {
  const RunningStack running = running_stack();
  if (is_guard_hit(running.stack, static_cast<const char*>(info->si_addr))) {
    static const char kPrefix[] = "stack overflow in job ";
    write_stderr(kPrefix, sizeof(kPrefix) - 1);
    const std::string* name = running.name;
    if (name != nullptr && !name->empty()) {
      write_stderr(name->data(), name->size());
    } else {
      write_stderr("?", 1);
    }
    write_stderr("\n", 1);
    abort();
  }
  if (previous_segv_action.sa_flags & SA_SIGINFO) {
    previous_segv_action.sa_sigaction(signal, info, context);
    return;
  }
  if (previous_segv_action.sa_handler != SIG_DFL && previous_segv_action.sa_handler != SIG_IGN) {
    previous_segv_action.sa_handler(signal);
    return;
  }
  // Not ours: fall back to the default action, which the re-executed access triggers.
  ::signal(SIGSEGV, SIG_DFL);
}

}  // namespace

void install_overflow_handler_for_this_thread() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction action {};
    action.sa_sigaction = on_segv;
    action.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&action.sa_mask);
    sigaction(SIGSEGV, &action, &previous_segv_action);
  });
  static thread_local bool installed = false;
  if (installed) return;
  installed = true;
  stack_t current{};
  if (sigaltstack(nullptr, &current) == 0 && !(current.ss_flags & SS_DISABLE)) return;
  constexpr size_t kAltStackSize = 64 * 1024;
  // Owned by the thread for its whole life; signal handlers may run until it exits.
  static thread_local std::unique_ptr<char[]> alt_stack(new char[kAltStackSize]);
  stack_t alt{};
  alt.ss_sp = alt_stack.get();
  alt.ss_size = kAltStackSize;
  sigaltstack(&alt, nullptr);
}

}  // namespace asyncjobs::internal
