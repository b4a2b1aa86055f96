// first_graph's protocol (benchmarks/first_graph.cc, benchmarks/graphs.h) on Taskflow, the
// peer the no-op figures are compared with. Not built by Bazel: Taskflow is not a Debian
// package and stays outside this repository (see benchmarks/peers/README.md). Build:
//
//   git clone https://github.com/taskflow/taskflow && git -C taskflow checkout 83f90a2
//   g++ -O2 -std=c++20 -pthread -I taskflow benchmarks/peers/taskflow_first_graph.cc \
//       -o taskflow_first_graph
//   ./taskflow_first_graph fanout 1000000 --repeat=5
//
// The same shapes (fanout, chain, layered: 100 layers, each task preceded by 2 random tasks
// of the previous layer, std::mt19937 seed 42; a duplicate pair gives one edge, as
// `require` keeps one), the same sizes, user code holding every `tf::Task` in a vector
// reserved up front, one worker (`tf::Executor executor(1)`, made before timing starts),
// plain `[] {}` tasks. Phases: build (`emplace` + `precede`), run
// (`executor.run(taskflow).wait()`), teardown (the `tf::Taskflow` and the vector destroyed).
// The same output line as first_graph (fields per job in ns; rss_per_job, faults_per_1k,
// peak_rss_mib, fault_ns as there), so benchmarks/taskflow_vs_asyncjobs.sh and
// benchmarks/fresh_process.sh (FIRST_GRAPH=) read both alike.
#include <sys/mman.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <string_view>
#include <vector>

#include "taskflow/taskflow.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double process_cpu_seconds() {
  timespec now{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + 1e-9 * static_cast<double>(now.tv_nsec);
}

long page_faults_so_far() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt + usage.ru_majflt;
}

double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

long resident_bytes() {
  long size = 0, resident = 0;
  if (FILE* statm = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(statm, "%ld %ld", &size, &resident) != 2) resident = 0;
    std::fclose(statm);
  }
  return resident * 4096;
}

double page_fault_ns() {
  constexpr size_t kBytes = size_t{16} << 20, kPage = 4096;
  void* map = mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (map == MAP_FAILED) return -1;
  madvise(map, kBytes, MADV_NOHUGEPAGE);
  volatile char* bytes = static_cast<char*>(map);
  const auto start = Clock::now();
  for (size_t i = 0; i < kBytes; i += kPage) bytes[i] = 1;
  const std::chrono::duration<double, std::nano> elapsed = Clock::now() - start;
  munmap(map, kBytes);
  return elapsed.count() / (kBytes / kPage);
}

enum class Shape { kFanOut, kChain, kLayered };

struct Times {
  double built = 0, run_started = 0, ran = 0, torn_down = 0, cpu = 0;
  long rss_growth_bytes = 0, page_faults = 0;
};

void build(Shape shape, size_t jobs, tf::Taskflow& taskflow, std::vector<tf::Task>& held) {
  const size_t width = std::max<size_t>(1, jobs / 100);
  std::mt19937 random(42);
  size_t layer_start = 0, previous_start = 0;
  for (size_t i = 0; i < jobs; ++i) {
    tf::Task task = taskflow.emplace([] {});
    if (shape == Shape::kChain && i > 0) held.back().precede(task);
    if (shape == Shape::kLayered) {
      if (i - layer_start == width) {  // a new layer begins
        previous_start = layer_start;
        layer_start = i;
      }
      if (layer_start > 0) {
        std::uniform_int_distribution<size_t> pick(previous_start, layer_start - 1);
        const size_t a = pick(random), b = pick(random);
        held[a].precede(task);
        if (b != a) held[b].precede(task);
      }
    }
    held.push_back(task);
  }
}

Times run_graph(tf::Executor& executor, Shape shape, size_t jobs) {
  Times times;
  const long rss_before = resident_bytes();
  const double cpu_start = process_cpu_seconds();
  const long faults_before = page_faults_so_far();
  const auto start = Clock::now();
  {
    std::vector<tf::Task> held;  // user code keeps its tasks, as real programs do
    held.reserve(jobs);
    tf::Taskflow taskflow;
    build(shape, jobs, taskflow, held);
    times.built = since(start);
    times.rss_growth_bytes = resident_bytes() - rss_before;
    times.run_started = since(start);
    executor.run(taskflow).wait();
    times.ran = since(start);
  }
  times.torn_down = since(start);
  times.cpu = process_cpu_seconds() - cpu_start;
  times.page_faults = page_faults_so_far() - faults_before;
  return times;
}

int usage() {
  std::fprintf(stderr, "usage: taskflow_first_graph fanout|chain|layered JOBS [--repeat=K]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) return usage();
  const std::string_view name = argv[1];
  Shape shape;
  if (name == "fanout") {
    shape = Shape::kFanOut;
  } else if (name == "chain") {
    shape = Shape::kChain;
  } else if (name == "layered") {
    shape = Shape::kLayered;
  } else {
    return usage();
  }
  const long jobs = std::atol(argv[2]);
  int repeat = 1;
  for (int i = 3; i < argc; ++i) {
    if (std::strncmp(argv[i], "--repeat=", 9) != 0) return usage();
    repeat = std::atoi(argv[i] + 9);
  }
  if (jobs <= 0 || repeat < 1) return usage();
  tf::Executor executor(1);
  for (int run = 1; run <= repeat; ++run) {
    const Times t = run_graph(executor, shape, static_cast<size_t>(jobs));
    const double per_job = 1e9 / static_cast<double>(jobs);
    const double run_s = t.ran - t.run_started, teardown = t.torn_down - t.ran;
    std::printf("pass=%d shape=%s jobs=%ld build=%.1f run=%.1f teardown=%.1f total=%.1f cpu=%.1f "
                "rss_per_job=%.1f faults_per_1k=%.1f peak_rss_mib=%.1f%s",
                run, argv[1], jobs, t.built * per_job, run_s * per_job, teardown * per_job,
                (t.built + run_s + teardown) * per_job, t.cpu * per_job,
                static_cast<double>(t.rss_growth_bytes) / static_cast<double>(jobs),
                static_cast<double>(t.page_faults) * 1000 / static_cast<double>(jobs),
                peak_rss_mib(), run < repeat ? "\n" : " ");
    if (run < repeat) std::fflush(stdout);
  }
  std::printf("fault_ns=%.0f\n", page_fault_ns());
  return 0;
}
