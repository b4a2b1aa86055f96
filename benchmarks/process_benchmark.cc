// A fan-out of process jobs running `true`: the cost of a process job end to end (pipes,
// pidfd, epoll set, spawn, exchange, reap), where descriptors never run out. Measured before
// and after the descriptor admission (docs/profiling.md): its fast path is one
// check of each creation's result.
//
//   ./bazelw build -c opt //benchmarks:process_benchmark
//   taskset -c 0 bazel-bin/benchmarks/process_benchmark
//
// Time per fan-out, wall clock; jobs_per_s the same as a rate.
#include "asyncjobs/asyncjobs.h"
#include "benchmark/benchmark.h"

namespace aj = asyncjobs;

namespace {

void BM_ProcessFanOut(benchmark::State& state) {
  const int jobs = static_cast<int>(state.range(0));
  for (auto _ : state) {
    aj::Scheduler scheduler;
    for (int i = 0; i < jobs; ++i) scheduler.add(aj::make_process_job({"true"}));
    if (!scheduler.run()) state.SkipWithError("a process job failed");
  }
  state.counters["jobs_per_s"] = benchmark::Counter(jobs, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_ProcessFanOut)->Arg(500)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
