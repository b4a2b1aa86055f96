// What a no-op job costs through the Scheduler, for the shapes users build: building the
// graph (make_job, require, add) plus run() plus destruction, on one thread.
//
//   ./bazelw run -c opt //benchmarks:scheduler_benchmark
//
// Counters: ns_per_job, and x_raw_fiber: that cost over creating, entering and leaving one
// raw Boost.Context fiber (warm stack) measured in the same run. Each shape is built once
// untimed first, so that job memory comes from the warm pool: BM_FirstBuild shows the
// first build of a process instead, when every page is fresh (a page fault each: docs/fibers.md,
// "What things cost").
#include <random>
#include <vector>

#include "absl/time/clock.h"
#include "asyncjobs/asyncjobs.h"
#include "benchmark/benchmark.h"
#include "benchmarks/baseline.h"

namespace aj = asyncjobs;

namespace {

using asyncjobs::benchmarks::per_item;

void noop() {}

// Every job independent. `window` 0: no limit.
void fan_out(size_t jobs, int window) {
  aj::Scheduler scheduler(aj::SchedulerOptions{.jobs_window = window});
  for (size_t i = 0; i < jobs; ++i) scheduler.add(aj::make_job(noop));
  scheduler.run();
}

// Each job requires the previous one.
void chain(size_t jobs, int) {
  aj::Scheduler scheduler;
  aj::JobPtr previous;
  for (size_t i = 0; i < jobs; ++i) {
    auto job = aj::make_job(noop);
    if (previous) job->require(previous);
    scheduler.add(job);
    previous = std::move(job);
  }
  scheduler.run();
}

// 100 layers; each job requires 2 random jobs of the previous layer.
void layered(size_t jobs, int) {
  const size_t width = std::max<size_t>(1, jobs / 100);
  std::mt19937 random(42);
  aj::Scheduler scheduler;
  std::vector<aj::JobPtr> previous, layer;
  for (size_t i = 0; i < jobs; ++i) {
    auto job = aj::make_job(noop);
    if (!previous.empty()) {
      std::uniform_int_distribution<size_t> pick(0, previous.size() - 1);
      job->require(previous[pick(random)], previous[pick(random)]);
    }
    scheduler.add(job);
    layer.push_back(std::move(job));
    if (layer.size() == width) {
      previous.swap(layer);
      layer.clear();
    }
  }
  scheduler.run();
}

// Nested schedulers of 100 jobs each (a nested scheduler counts as a job too).
void nested(size_t jobs, int) {
  aj::Scheduler scheduler;
  for (size_t i = 0; i < jobs; i += 100) {
    auto inner = aj::make_scheduler();
    for (size_t j = 0; j < 100; ++j) inner->add(aj::make_job(noop));
    scheduler.add(inner);
  }
  scheduler.run();
}

// Every job sleeps until a deadline spread at random over the next millisecond (shorter
// than building and starting them all), so that each job blocks and is woken by a timer.
void sleeping(size_t jobs, int) {
  std::mt19937_64 random(7);
  const absl::Time start = absl::Now();
  aj::Scheduler scheduler;
  for (size_t i = 0; i < jobs; ++i) {
    const absl::Time deadline = start + absl::Nanoseconds(random() % 1'000'000);
    scheduler.add(aj::make_job([deadline] { aj::sleep_until(deadline); }));
  }
  scheduler.run();
}

using Shape = void (*)(size_t jobs, int window);

void measure(benchmark::State& state, Shape shape, int window = 0) {
  const size_t jobs = static_cast<size_t>(state.range(0));
  static const double raw_ns = asyncjobs::benchmarks::raw_create_enter_leave_ns();
  shape(jobs, window);  // warm-up: job memory and stacks come from warm pools afterwards
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) shape(jobs, window);
  const double ns = asyncjobs::benchmarks::seconds_since(start) * 1e9 /
                    static_cast<double>(jobs * state.iterations());
  state.counters["ns_per_job"] = per_item(static_cast<double>(jobs));
  state.counters["x_raw_fiber"] = ns / raw_ns;
  state.counters["raw_fiber_ns"] = raw_ns;
}

void BM_FanOut(benchmark::State& state) {
  measure(state, fan_out, static_cast<int>(state.range(1)));
}
void BM_Chain(benchmark::State& state) { measure(state, chain); }
void BM_LayeredDag(benchmark::State& state) { measure(state, layered); }
void BM_Nested(benchmark::State& state) { measure(state, nested); }
void BM_SleepingJobs(benchmark::State& state) { measure(state, sleeping); }

// A million-job fan-out built once in a fresh process: job memory is fresh pages. Must run
// first (it is registered first) to mean anything.
void BM_FirstBuild(benchmark::State& state) {
  const size_t jobs = static_cast<size_t>(state.range(0));
  for (auto _ : state) fan_out(jobs, 0);
  state.counters["ns_per_job"] = per_item(static_cast<double>(jobs));
}

}  // namespace

BENCHMARK(BM_FirstBuild)->Arg(1'000'000)->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_FanOut)
    ->ArgNames({"jobs", "window"})
    ->Args({1'000, 0})->Args({100'000, 0})->Args({1'000'000, 0})
    ->Args({1'000, 4})->Args({100'000, 4})->Args({1'000'000, 4})
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Chain)->ArgName("jobs")->Arg(1'000)->Arg(100'000)->Arg(1'000'000)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LayeredDag)->ArgName("jobs")->Arg(1'000)->Arg(100'000)->Arg(1'000'000)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Nested)->ArgName("jobs")->Arg(1'000)->Arg(100'000)->Arg(1'000'000)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SleepingJobs)->ArgName("jobs")->Arg(10'000)->Arg(100'000)
    ->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
