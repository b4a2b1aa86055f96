// What a journal costs per job (SchedulerOptions::journal): a chain of jobs returning an
// int, built, run and destroyed, without a journal (the baseline, in the same run), with a
// fresh journal (every job recorded: one SQLite transaction each), and with a full journal
// (every job restored instead of run). The journal is on disk, in $TMPDIR or /tmp.
//
//   ./bazelw run -c opt //benchmarks:journal_benchmark
//
// Counter: cpu_us_per_job (process CPU time; the Time column is wall time, which includes
// waiting for the disk).
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "asyncjobs/asyncjobs.h"
#include "benchmark/benchmark.h"

namespace aj = asyncjobs;

namespace {

std::string journal_path() {
  const char* dir = std::getenv("TMPDIR");
  return std::string(dir != nullptr ? dir : "/tmp") + "/journal_benchmark_" +
         std::to_string(getpid());
}

void remove_journal(const std::string& path) {
  std::remove(path.c_str());
  std::remove((path + "-wal").c_str());
}

// A chain of `jobs` labelled jobs, each returning its index.
void chain(size_t jobs, const std::string& journal) {
  aj::Scheduler scheduler({.journal = journal});
  aj::JobPtr previous;
  for (size_t i = 0; i < jobs; ++i) {
    auto job = aj::make_job([i] { return static_cast<int64_t>(i); },
                            aj::JobOptions{.label = "job" + std::to_string(i)});
    if (previous) job->require(previous);
    scheduler.add(job);
    previous = std::move(job);
  }
  if (!scheduler.run()) std::abort();
}

void report(benchmark::State& state) {
  state.counters["cpu_us_per_job"] = benchmark::Counter(
      static_cast<double>(state.range(0)) * 1e-6,
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

void BM_NoJournal(benchmark::State& state) {
  for (auto _ : state) chain(state.range(0), "");
  report(state);
}

void BM_Recorded(benchmark::State& state) {
  const std::string path = journal_path();
  for (auto _ : state) {
    state.PauseTiming();
    remove_journal(path);
    state.ResumeTiming();
    chain(state.range(0), path);
  }
  remove_journal(path);
  report(state);
}

void BM_Restored(benchmark::State& state) {
  const std::string path = journal_path();
  remove_journal(path);
  chain(state.range(0), path);
  for (auto _ : state) chain(state.range(0), path);
  remove_journal(path);
  report(state);
}

BENCHMARK(BM_NoJournal)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Recorded)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Restored)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
