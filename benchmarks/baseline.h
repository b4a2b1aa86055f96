#ifndef ASYNCJOBS_BENCHMARKS_BASELINE_H_
#define ASYNCJOBS_BENCHMARKS_BASELINE_H_

// The raw Boost.Context baseline every benchmark binary measures beside asyncjobs, so that
// each result reads as a ratio taken in the same run, on the same machine state.

#include <sys/mman.h>

#include <algorithm>
#include <boost/context/fiber.hpp>
#include <boost/context/stack_context.hpp>
#include <chrono>
#include <new>
#include <vector>

#include "benchmark/benchmark.h"

namespace asyncjobs::benchmarks {

namespace ctx = boost::context;

inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Reads as "<value> ns per item" in the table: `items` per iteration, inverted rate.
inline benchmark::Counter per_item(double items) {
  return benchmark::Counter(items, benchmark::Counter::kIsIterationInvariantRate |
                                       benchmark::Counter::kInvert);
}

// Stacks from a free list of mmaps that are never given back: what a fiber library's pool
// should cost at best. The allocator is a handle, copied into each fiber's control record.
class FreeListStacks {
 public:
  static constexpr size_t kStackSize = 64 * 1024;

  ctx::stack_context allocate() {
    if (free_->empty()) {
      void* base = mmap(nullptr, kStackSize, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
      if (base == MAP_FAILED) throw std::bad_alloc();
      ctx::stack_context stack;
      stack.size = kStackSize;
      stack.sp = static_cast<char*>(base) + kStackSize;
      return stack;
    }
    ctx::stack_context stack = free_->back();
    free_->pop_back();
    return stack;
  }
  void deallocate(ctx::stack_context& stack) noexcept { free_->push_back(stack); }

 private:
  static inline thread_local auto free_ = new std::vector<ctx::stack_context>();  // leaked
};

// One raw one-way switch, timed with the steady clock: best of five batches. The yield
// benchmark calls it to report its ratio against the same machine state.
inline double raw_switch_ns() {
  bool stop = false;
  ctx::fiber fiber(std::allocator_arg, FreeListStacks(), [&stop](ctx::fiber&& caller) {
    while (!stop) caller = std::move(caller).resume();
    return std::move(caller);
  });
  fiber = std::move(fiber).resume();
  constexpr int kRoundTrips = 200'000;
  double best = 1e9;
  for (int batch = 0; batch < 5; ++batch) {
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < kRoundTrips; ++i) fiber = std::move(fiber).resume();
    best = std::min(best, seconds_since(start) * 1e9 / (2.0 * kRoundTrips));
  }
  stop = true;
  fiber = std::move(fiber).resume();
  return best;
}

// Creating, entering and leaving one raw fiber with a warm stack: best of five batches.
inline double raw_create_enter_leave_ns() {
  constexpr int kFibers = 200'000;
  double best = 1e9;
  for (int batch = 0; batch < 5; ++batch) {
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < kFibers; ++i) {
      ctx::fiber fiber(std::allocator_arg, FreeListStacks(),
                       [](ctx::fiber&& caller) { return std::move(caller); });
      fiber = std::move(fiber).resume();
      benchmark::DoNotOptimize(fiber);
    }
    best = std::min(best, seconds_since(start) * 1e9 / kFibers);
  }
  return best;
}

}  // namespace asyncjobs::benchmarks

#endif  // ASYNCJOBS_BENCHMARKS_BASELINE_H_
