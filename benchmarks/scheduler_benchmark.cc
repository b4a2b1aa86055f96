// What a no-op job costs through the Scheduler (graph build + run, one thread), for the
// shapes users build, beside the raw Boost.Context create+switch of the same run.
//
//   ./bazelw run -c opt //benchmarks:scheduler_benchmark
//
// Counters: ns_per_job (time of build + run per job), and ratio_to_raw (that time over
// the raw fiber create+enter+leave measured by BM_RawFiberCreateSwitch in this binary).
#include <benchmark/benchmark.h>

#include <boost/context/fiber.hpp>
#include <boost/context/stack_context.hpp>
#include <random>
#include <vector>

#include "asyncjobs/asyncjobs.h"

namespace aj = asyncjobs;
namespace ctx = boost::context;

namespace {

double raw_create_switch_ns = 0;  // set by BM_RawFiberCreateSwitch, which runs first

// A stack allocator handing out one preallocated stack: a warm free list of one.
class OneStack {
 public:
  explicit OneStack(size_t size) : memory_(size), size_(size) {}
  ctx::stack_context allocate() {
    ctx::stack_context stack;
    stack.size = size_;
    stack.sp = memory_.data() + size_;
    return stack;
  }
  void deallocate(ctx::stack_context&) noexcept {}

 private:
  std::vector<char> memory_;
  size_t size_;
};

void BM_RawFiberCreateSwitch(benchmark::State& state) {
  OneStack stack(64 * 1024);
  for (auto _ : state) {
    ctx::fiber fiber(std::allocator_arg, stack, [](ctx::fiber&& caller) { return std::move(caller); });
    fiber = std::move(fiber).resume();
    benchmark::DoNotOptimize(fiber);
  }
  state.counters["ns_per_job"] = benchmark::Counter(
      static_cast<double>(state.iterations()), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_RawFiberCreateSwitch)->Unit(benchmark::kNanosecond);

void report(benchmark::State& state, size_t jobs) {
  state.counters["ns_per_job"] = benchmark::Counter(
      static_cast<double>(jobs * state.iterations()),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.SetItemsProcessed(static_cast<int64_t>(jobs * state.iterations()));
}

void noop() {}

// All jobs independent.
void BM_FanOut(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  const int window = static_cast<int>(state.range(1));
  for (auto _ : state) {
    aj::Scheduler scheduler(aj::SchedulerOptions{.jobs_window = window});
    for (size_t i = 0; i < n; ++i) scheduler.add(aj::make_job(noop));
    scheduler.run();
  }
  report(state, n);
}

// Each job requires the previous one.
void BM_Chain(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  for (auto _ : state) {
    aj::Scheduler scheduler;
    aj::JobPtr previous;
    for (size_t i = 0; i < n; ++i) {
      auto job = aj::make_job(noop);
      if (previous) job->require(previous);
      scheduler.add(job);
      previous = std::move(job);
    }
    scheduler.run();
  }
  report(state, n);
}

// 100 layers; each job requires 2 random jobs of the previous layer.
void BM_LayeredDag(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  const size_t width = std::max<size_t>(1, n / 100);
  for (auto _ : state) {
    std::mt19937 random(42);
    aj::Scheduler scheduler;
    std::vector<aj::JobPtr> previous, layer;
    for (size_t i = 0; i < n; ++i) {
      auto job = aj::make_job(noop);
      if (!previous.empty()) {
        std::uniform_int_distribution<size_t> pick(0, previous.size() - 1);
        job->require(previous[pick(random)], previous[pick(random)]);
      }
      scheduler.add(job);
      layer.push_back(std::move(job));
      if (layer.size() == width) previous.swap(layer), layer.clear();
    }
    scheduler.run();
  }
  report(state, n);
}

// Nested schedulers of 100 jobs each.
void BM_Nested(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  for (auto _ : state) {
    aj::Scheduler scheduler;
    for (size_t i = 0; i < n; i += 100) {
      auto nested = aj::make_scheduler();
      for (size_t j = 0; j < 100; ++j) nested->add(aj::make_job(noop));
      scheduler.add(nested);
    }
    scheduler.run();
  }
  report(state, n);
}

}  // namespace

BENCHMARK(BM_FanOut)->Args({1000, 0})->Args({100000, 0})->Args({1000000, 0})
    ->Args({1000, 4})->Args({100000, 4})->Args({1000000, 4})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Chain)->Arg(1000)->Arg(100000)->Arg(1000000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LayeredDag)->Arg(1000)->Arg(100000)->Arg(1000000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Nested)->Arg(1000)->Arg(100000)->Arg(1000000)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
