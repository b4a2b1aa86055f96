#ifndef ASYNCJOBS_BENCHMARKS_FIBER_PEERS_H_
#define ASYNCJOBS_BENCHMARKS_FIBER_PEERS_H_

// What the two fiber-peer programs share (fiber_peers_asyncjobs.cc, fiber_peers_boost.cc):
// the workloads' names, the command line, the passes and the output line, so that the only
// difference between the two programs is the library each workload calls.
//
//   PROGRAM WORKLOAD TASKS [--repeat=K]
//
// Workloads (TASKS is N):
//   spawn  N tasks that return at once, spawned, then all joined: ns per task.
//   block  N tasks wait on one event until the last has started; the last one sets it.
//          start_ns: from the first spawn until the last task started, per task; wake_ns:
//          from the release until every task was joined, per task; rss_per_task: resident
//          growth (/proc/self/statm) from before the spawns to the release, per task.
//   yield  two tasks yield to each other, N yields in all: ns per yield.
//   queue  a producer puts N integers into a queue of capacity 64, a consumer gets them: ns
//          per item.
//   sleep  N tasks each sleep 100 ms: the time to join them all, less 100 ms, per task.
// Pass 1 is the first run of the process (fresh: new stacks, cold pools); passes 2..K are
// warm. One line: peer= workload= tasks= passes=, then fresh_X= (pass 1) and warm_X= (the
// median of passes 2..K) for every figure X above.

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "benchmarks/resident.h"

namespace asyncjobs::benchmarks::peers {

enum class Workload { kSpawn, kBlock, kYield, kQueue, kSleep };  // kWorkloadNames' order

inline constexpr int kQueueCapacity = 64;
inline constexpr std::chrono::milliseconds kSleep{100};

inline constexpr std::array<std::string_view, 5> kWorkloadNames = {"spawn", "block", "yield",
                                                                   "queue", "sleep"};

inline std::optional<Workload> parse_workload(std::string_view name) {
  for (size_t i = 0; i < kWorkloadNames.size(); ++i) {
    if (name == kWorkloadNames[i]) return static_cast<Workload>(i);
  }
  return std::nullopt;
}

using Clock = std::chrono::steady_clock;
inline double nanos_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double, std::nano>(to - from).count();
}

using ::asyncjobs::benchmarks::resident_bytes;  // benchmarks/resident.h

// The figures of one pass, by name, in the order printed.
using Figures = std::vector<std::pair<const char*, double>>;

// What the block workload's last task records before it releases the others.
struct BlockMarks {
  Clock::time_point all_started;
  Clock::time_point released;  // after reading the resident size
  long resident = 0;
};

inline Figures block_figures(size_t tasks, Clock::time_point start, const BlockMarks& marks,
                             long resident_before, Clock::time_point joined) {
  const double n = static_cast<double>(tasks);
  return {{"start_ns", nanos_between(start, marks.all_started) / n},
          {"wake_ns", nanos_between(marks.released, joined) / n},
          {"rss_per_task", static_cast<double>(marks.resident - resident_before) / n}};
}

inline Figures sleep_figures(size_t tasks, Clock::time_point start, Clock::time_point joined) {
  const double overhead = nanos_between(start, joined) -
                          std::chrono::duration<double, std::nano>(kSleep).count();
  return {{"overhead_ns", overhead / static_cast<double>(tasks)}};
}

inline double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

// A program's five workloads, in Workload's order.
using Workloads = std::array<Figures (*)(size_t tasks), 5>;

// Parses the command line, runs the workload it names K times and prints the line.
inline int run_passes(const char* peer, int argc, char** argv, const Workloads& workloads) {
  const auto usage = [&] {
    std::fprintf(stderr, "usage: %s spawn|block|yield|queue|sleep TASKS [--repeat=K]\n", argv[0]);
    return 2;
  };
  if (argc < 3) return usage();
  const auto workload = parse_workload(argv[1]);
  const long tasks = std::atol(argv[2]);
  int repeat = 5;
  for (int i = 3; i < argc; ++i) {
    if (std::strncmp(argv[i], "--repeat=", 9) != 0) return usage();
    repeat = std::atoi(argv[i] + 9);
  }
  if (!workload || tasks < 2 || repeat < 1) return usage();
  std::vector<Figures> passes;
  for (int pass = 0; pass < repeat; ++pass) passes.push_back(workloads[static_cast<size_t>(*workload)](static_cast<size_t>(tasks)));
  std::printf("peer=%s workload=%s tasks=%ld passes=%d", peer, argv[1], tasks, repeat);
  for (size_t f = 0; f < passes[0].size(); ++f) {
    std::printf(" fresh_%s=%.1f", passes[0][f].first, passes[0][f].second);
  }
  for (size_t f = 0; repeat > 1 && f < passes[0].size(); ++f) {
    std::vector<double> warm;
    for (size_t p = 1; p < passes.size(); ++p) warm.push_back(passes[p][f].second);
    std::printf(" warm_%s=%.1f", passes[0][f].first, median(warm));
  }
  std::printf("\n");
  return 0;
}

}  // namespace asyncjobs::benchmarks::peers

#endif  // ASYNCJOBS_BENCHMARKS_FIBER_PEERS_H_
