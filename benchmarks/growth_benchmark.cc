// Growth series: does a job cost the same at 1M jobs as at 10k? Graphs as users build them
// (benchmarks/graphs.h: every JobPtr also held in a user vector, default SchedulerOptions
// and StackOptions, so guard pages are on).
//
//   ./bazelw run -c opt //benchmarks:growth_benchmark
//   ./bazelw run -c opt //benchmarks:growth_benchmark -- --benchmark_filter=Blocked
//
// BM_Noop/<shape>/jobs: no-op jobs, fan-out (0), chain (1), layered DAG (2).
//   ns_per_job: build + run + teardown, per job; cpu_ns_per_job: the same in process CPU
//   time, and x_10k_cpu its ratio, which hold when other programs load the machine.
// BM_Blocked/<kind>/jobs: every job blocks once, on one Event (0) set by the last job to
//   start, or on a timer (1) whose common deadline falls after the last one started.
//   startup_ns: build + run() until the last job has started, per job; wake_ns: from set()
//   or the deadline until run() returned; teardown_ns: destroying scheduler and jobs.
//   late = 1 if the deadline passed before all had started (then wake_ns is not a wake-up).
// faults_per_1k: page faults per 1,000 jobs over a whole warm graph (build to teardown):
//   a run that gets fresh pages from the system where it could reuse its own shows here.
//
// Each benchmark first runs its graph once untimed (job memory and stacks then come from
// warm pools), then measures a 10k-job (and, blocked, 5k-job) reference graph of the same
// shape right before its own iterations: x_10k (x_5k) is the per-job cost over the
// reference's, both taken in one run, so flatness reads as a ratio (target 1M/10k <= 1.3).
// The first graph of a process is //benchmarks:first_graph's job, not this one's.
#include <algorithm>
#include <vector>

#include "benchmark/benchmark.h"
#include "benchmarks/graphs.h"

namespace {

namespace bm = asyncjobs::benchmarks;
using bm::GraphTimes;
using bm::Shape;

constexpr Shape kNoopShapes[] = {Shape::kFanOut, Shape::kChain, Shape::kLayered};
constexpr Shape kBlockedShapes[] = {Shape::kEvent, Shape::kSleep};

// The deadline of a sleeping graph: well after its start-up, as the untimed run measured it.
absl::Duration sleep_after(double startup_seconds) {
  return absl::Seconds(2 * startup_seconds) + absl::Milliseconds(20);
}

// Median over `runs` graphs of `jobs` jobs, of one phase (a member function), per job.
double median_ns(Shape shape, size_t jobs, double (GraphTimes::*phase)() const, int runs,
                 absl::Duration after) {
  std::vector<double> values;
  for (int i = 0; i < runs; ++i) {
    values.push_back((bm::run_graph(shape, jobs, after).*phase)() * 1e9 / jobs);
  }
  std::nth_element(values.begin(), values.begin() + runs / 2, values.end());
  return values[runs / 2];
}

// A count summed over every iteration, per 1,000 jobs.
double per_1k_jobs(double total, size_t jobs, const benchmark::State& state) {
  return total * 1000 / static_cast<double>(jobs * state.iterations());
}

void BM_Noop(benchmark::State& state) {
  const Shape shape = kNoopShapes[state.range(0)];
  const size_t jobs = static_cast<size_t>(state.range(1));
  bm::run_graph(shape, jobs);  // warm-up
  const double reference = median_ns(shape, 10'000, &GraphTimes::total, 5, {});
  const double reference_cpu = median_ns(shape, 10'000, &GraphTimes::cpu_seconds, 5, {});
  double build = 0, run = 0, teardown = 0, cpu = 0, faults = 0;
  for (auto _ : state) {
    const GraphTimes times = bm::run_graph(shape, jobs);
    state.SetIterationTime(times.total());
    build += times.build(), run += times.run(), teardown += times.teardown();
    cpu += times.cpu;
    faults += static_cast<double>(times.page_faults);
  }
  const double per_job = 1e9 / static_cast<double>(jobs * state.iterations());
  state.counters["ns_per_job"] = (build + run + teardown) * per_job;
  state.counters["build_ns"] = build * per_job;
  state.counters["run_ns"] = run * per_job;
  state.counters["teardown_ns"] = teardown * per_job;
  state.counters["x_10k"] = state.counters["ns_per_job"] / reference;
  state.counters["cpu_ns_per_job"] = cpu * per_job;
  state.counters["x_10k_cpu"] = cpu * per_job / reference_cpu;
  state.counters["faults_per_1k"] = per_1k_jobs(faults, jobs, state);
}

void BM_Blocked(benchmark::State& state) {
  const Shape shape = kBlockedShapes[state.range(0)];
  const size_t jobs = static_cast<size_t>(state.range(1));
  // A first run on the Event (it needs no deadline) measures the start-up that the sleeping
  // jobs' deadline must outlast; the references follow; then a second run at full size warms
  // the pools again (a smaller run gives back the stacks it did not use).
  const GraphTimes estimate = bm::run_graph(Shape::kEvent, jobs);
  const double reference_5k = median_ns(shape, 5'000, &GraphTimes::startup, 5,
                                        sleep_after(5'000 * estimate.startup() / jobs));
  const double reference_10k = median_ns(shape, 10'000, &GraphTimes::startup, 5,
                                         sleep_after(10'000 * estimate.startup() / jobs));
  const GraphTimes warm_up = bm::run_graph(Shape::kEvent, jobs);
  const absl::Duration after = sleep_after(std::max(estimate.startup(), warm_up.startup()));
  double startup = 0, wake = 0, teardown = 0, faults = 0;
  bool late = false;
  for (auto _ : state) {
    const GraphTimes times = bm::run_graph(shape, jobs, after);
    state.SetIterationTime(times.startup() + times.wakeup() + times.teardown());
    startup += times.startup(), wake += times.wakeup(), teardown += times.teardown();
    faults += static_cast<double>(times.page_faults);
    late |= times.late;
  }
  const double per_job = 1e9 / static_cast<double>(jobs * state.iterations());
  state.counters["startup_ns"] = startup * per_job;
  state.counters["wake_ns"] = wake * per_job;
  state.counters["teardown_ns"] = teardown * per_job;
  state.counters["x_5k"] = startup * per_job / reference_5k;
  state.counters["x_10k"] = startup * per_job / reference_10k;
  state.counters["late"] = late;
  state.counters["faults_per_1k"] = per_1k_jobs(faults, jobs, state);
}

void noop_args(benchmark::internal::Benchmark* benchmark) {
  benchmark->ArgNames({"shape", "jobs"});
  for (int shape = 0; shape < 3; ++shape) {
    for (int64_t jobs : {1'000, 10'000, 100'000, 1'000'000}) benchmark->Args({shape, jobs});
  }
}

void blocked_args(benchmark::internal::Benchmark* benchmark) {
  benchmark->ArgNames({"kind", "jobs"});
  for (int kind = 0; kind < 2; ++kind) {
    for (int64_t jobs : {1'000, 5'000, 10'000, 20'000, 40'000, 100'000, 1'000'000}) {
      benchmark->Args({kind, jobs});
    }
  }
}

}  // namespace

BENCHMARK(BM_Noop)->Apply(noop_args)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Blocked)->Apply(blocked_args)->UseManualTime()->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
