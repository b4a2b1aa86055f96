// N Slurm batch jobs of `true` (100, 1,000, 5,000; and 200 of `sleep 10`) through the test cluster
// (tests/slurm/cluster.sh, a single node claiming 256 CPUs, started by this binary in a
// temporary directory and stopped at the end): as N BatchJobs sharing the status poller, as
// one BatchArrayJob of N elements, and, as the baseline, N jobs that each poll
// `scontrol show job` every second on their own (what BatchJob did before the poller).
// Counters: slurmctld's RPCs of the run by kind (sdiag), this process's CPU time with its
// children's (sbatch, squeue, ... processes), jobs per second.
//
//   ./bazelw run -c opt //benchmarks:slurm_benchmark
#include <stdlib.h>
#include <sys/resource.h>

#include <cstdint>
#include <filesystem>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "asyncjobs/asyncjobs.h"
#include "asyncjobs/slurm.h"
#include "benchmark/benchmark.h"
#include "tests/slurm/sdiag.h"

namespace aj = asyncjobs;
namespace slurm = asyncjobs::slurm;

namespace {

constexpr char kClusterScript[] = "tests/slurm/cluster.sh";  // in the runfiles
std::string cluster_directory;

// The script of every benchmark: `true`, or `sleep SECONDS`.
std::string script(int64_t seconds) {
  return seconds == 0 ? "#!/bin/sh\ntrue\n" : absl::StrCat("#!/bin/sh\nsleep ", seconds, "\n");
}

slurm::BatchOptions batch_options(int64_t seconds) {
  return {.script = script(seconds),
          .sbatch_args = {"--output=/dev/null"},
          .working_directory = cluster_directory};
}

double cpu_seconds() {
  double total = 0;
  for (int who : {RUSAGE_SELF, RUSAGE_CHILDREN}) {
    rusage usage{};
    ::getrusage(who, &usage);
    total += usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
             (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  }
  return total;
}

// Runs `jobs` once, timing it, and reports what slurmctld and this process spent.
void run_and_report(benchmark::State& state, const std::vector<aj::JobPtr>& jobs) {
  aj::Scheduler scheduler;
  for (const aj::JobPtr& job : jobs) scheduler.add(job);
  const auto before = slurm::testing::rpc_counts();
  const double cpu_before = cpu_seconds();
  const absl::Time start = absl::Now();
  if (!scheduler.run()) throw std::runtime_error("a batch job failed");
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  state.SetIterationTime(seconds);
  const auto after = slurm::testing::rpc_counts();
  for (const auto& [type, count] : after) {
    const auto old = before.find(type);
    const long difference = count - (old == before.end() ? 0 : old->second);
    if (difference != 0 && absl::StartsWith(type, "REQUEST_")) {
      state.counters[type.substr(8)] = static_cast<double>(difference);
    }
  }
  state.counters["job_info_per_s"] =
      (slurm::testing::job_info_rpcs(after) - slurm::testing::job_info_rpcs(before)) / seconds;
  state.counters["client_cpu_s"] = cpu_seconds() - cpu_before;
  state.counters["jobs_per_s"] = state.range(0) / seconds;
}

void BM_BatchJobs(benchmark::State& state) {
  for (auto _ : state) {
    std::vector<aj::JobPtr> jobs;
    for (int i = 0; i < state.range(0); ++i) jobs.push_back(slurm::make_batch_job(batch_options(state.range(1))));
    run_and_report(state, jobs);
  }
}

void BM_BatchArray(benchmark::State& state) {
  for (auto _ : state) {
    run_and_report(state,
                   {slurm::make_batch_array_job(batch_options(state.range(1)), state.range(0))});
  }
}

// The baseline: each job submits, then polls scontrol every second until a final state.
void BM_EachJobPollsItself(benchmark::State& state) {
  for (auto _ : state) {
    std::vector<aj::JobPtr> jobs;
    for (int i = 0; i < state.range(0); ++i) {
      jobs.push_back(aj::make_job([seconds = state.range(1)] {
        const aj::ProcessResult submitted = aj::run_process(
            {.argv = {"sbatch", "--parsable", "--output=/dev/null"},
             .working_directory = cluster_directory,
             .stdin_data = script(seconds)});
        const std::string id = submitted.out.substr(0, submitted.out.find_first_of(";\n"));
        while (true) {
          aj::sleep_for(absl::Seconds(1));
          const aj::ProcessResult shown =
              aj::run_process({.argv = {"scontrol", "show", "job", "-o", id}});
          if (absl::StrContains(shown.out, "JobState=COMPLETED")) return;
        }
      }));
    }
    run_and_report(state, jobs);
  }
}

// Arguments: the job count, the script's sleep in seconds.
BENCHMARK(BM_BatchJobs)
    ->ArgsProduct({{100, 1000, 5000}, {0}})
    ->Args({200, 10})
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kSecond);
BENCHMARK(BM_BatchArray)
    ->ArgsProduct({{100, 1000, 5000}, {0}})
    ->Args({200, 10})
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kSecond);
BENCHMARK(BM_EachJobPollsItself)
    ->ArgsProduct({{100, 1000}, {0}})
    ->Args({200, 10})
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kSecond);

int start_cluster() {
  return aj::run_process({.argv = {kClusterScript, "start", cluster_directory, "256"},
                          .check = false})
      .exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  char pattern[] = "/tmp/aj-slurm-bench-XXXXXX";
  if (::mkdtemp(pattern) == nullptr) return 1;
  cluster_directory = pattern;
  if (start_cluster() != 0) {
    std::cerr << "the test cluster did not start (see " << kClusterScript << ")\n";
    return 1;
  }
  ::setenv("SLURM_CONF", (cluster_directory + "/slurm.conf").c_str(), 1);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  const aj::ProcessResult stopped = aj::run_process(
      {.argv = {kClusterScript, "stop", cluster_directory}, .check = false});
  std::filesystem::remove_all(cluster_directory);
  return stopped.exit_code;
}
