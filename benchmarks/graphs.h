#ifndef ASYNCJOBS_BENCHMARKS_GRAPHS_H_
#define ASYNCJOBS_BENCHMARKS_GRAPHS_H_

// The graphs users build, as the growth benchmark and the fresh-process program
// (first_graph) both run them: user code keeps every JobPtr in a vector (reserved up front),
// builds the graph, runs it, then drops the scheduler and its vector. One call runs one
// graph and returns when each phase ended, so that start-up and wake-up of blocking jobs
// read separately from building and tearing down.
//
// Shapes: no-op jobs as a fan-out (independent), a chain (each requires the previous) or a
// layered DAG (100 layers, each job requires 2 random jobs of the previous layer, seed 42);
// and blocking jobs: `kEvent`, every job waits on one Event until the last has started (the
// last one sets it, without waiting); `kSleep`, every job sleeps until one common deadline
// chosen to fall after the last one has started.

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <string_view>
#include <vector>

#include "absl/time/clock.h"
#include "asyncjobs/asyncjobs.h"
#include "benchmarks/resident.h"

namespace asyncjobs::benchmarks {

enum class Shape { kFanOut, kChain, kLayered, kEvent, kSleep };

inline std::optional<Shape> parse_shape(std::string_view name) {
  if (name == "fanout") return Shape::kFanOut;
  if (name == "chain") return Shape::kChain;
  if (name == "layered") return Shape::kLayered;
  if (name == "event") return Shape::kEvent;
  if (name == "sleep") return Shape::kSleep;
  return std::nullopt;
}

inline bool is_blocking(Shape shape) { return shape == Shape::kEvent || shape == Shape::kSleep; }

// Seconds since the graph's first make_job, at the end of each phase (reading statm between
// `built` and `run_started` is not counted in any phase). For a no-op shape `all_started`
// equals `built`. `woken` is when the blocked jobs could first be woken:
// the Event's set() (= all_started) or the sleep deadline (later, unless `late`).
struct GraphTimes {
  double built = 0;
  double run_started = 0;   // run() called (after reading the resident memory)
  double all_started = 0;
  double woken = 0;
  double ran = 0;           // run() returned
  double torn_down = 0;     // scheduler and user vector destroyed
  bool late = false;        // kSleep: the deadline passed before the last job started
  long rss_growth_bytes = 0;  // resident memory growth from before building to after (statm)
  double cpu = 0;  // process CPU time over the whole graph (robust to a loaded machine)
  long page_faults = 0;  // minor and major, over the whole graph (getrusage)

  // Phases, in seconds. Start-up: building plus run() until the last job has started.
  // Wake-up: from `woken` until run() returned (every blocked job resumed and finished).
  double build() const { return built; }
  double run() const { return ran - run_started; }
  double startup() const { return built + (all_started - run_started); }
  double wakeup() const { return ran - woken; }
  double teardown() const { return torn_down - ran; }
  double total() const { return built + run() + teardown(); }
  double cpu_seconds() const { return cpu; }
};

// Builds `jobs` jobs of `shape` into a fresh Scheduler (default options), runs and
// destroys it. `sleep_after`: for kSleep, the deadline counted from the first make_job.
GraphTimes run_graph(Shape shape, size_t jobs, absl::Duration sleep_after = absl::Seconds(1));

// ---- implementation (header-only, shared by two binaries) ----

inline double process_cpu_seconds() {
  timespec now{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + 1e-9 * static_cast<double>(now.tv_nsec);
}

inline long page_faults_so_far() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt + usage.ru_majflt;
}

namespace graphs_internal {

using Clock = std::chrono::steady_clock;
inline double since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

inline void noop() {}

// What the blocking jobs share; lives on the caller's stack for the whole run.
struct Blocking {
  size_t jobs = 0;
  size_t started = 0;
  Event all_started;
  absl::Time deadline;
  Clock::time_point all_started_at;
};

inline void build(Shape shape, size_t jobs, Blocking& blocking, Scheduler& scheduler,
                  std::vector<JobPtr>& held) {
  const size_t width = std::max<size_t>(1, jobs / 100);
  std::mt19937 random(42);
  size_t layer_start = 0, previous_start = 0;
  for (size_t i = 0; i < jobs; ++i) {
    JobPtr job;
    switch (shape) {
      case Shape::kFanOut:
      case Shape::kChain:
      case Shape::kLayered:
        job = make_job(noop);
        break;
      case Shape::kEvent:
        job = make_job([&blocking] {
          if (++blocking.started < blocking.jobs) {
            blocking.all_started.wait();
          } else {
            blocking.all_started_at = Clock::now();
            blocking.all_started.set();
          }
        });
        break;
      case Shape::kSleep:
        job = make_job([&blocking] {
          if (++blocking.started == blocking.jobs) blocking.all_started_at = Clock::now();
          sleep_until(blocking.deadline);
        });
        break;
    }
    if (shape == Shape::kChain && i > 0) job->require(held.back());
    if (shape == Shape::kLayered) {
      if (i - layer_start == width) {  // a new layer begins
        previous_start = layer_start;
        layer_start = i;
      }
      if (layer_start > 0) {
        std::uniform_int_distribution<size_t> pick(previous_start, layer_start - 1);
        job->require(held[pick(random)], held[pick(random)]);
      }
    }
    scheduler.add(job);
    held.push_back(std::move(job));
  }
}

}  // namespace graphs_internal

inline GraphTimes run_graph(Shape shape, size_t jobs, absl::Duration sleep_after) {
  using graphs_internal::Clock;
  using graphs_internal::since;
  GraphTimes times;
  graphs_internal::Blocking blocking;
  blocking.jobs = jobs;
  const long rss_before = resident_bytes();
  const double cpu_start = process_cpu_seconds();
  const long faults_before = page_faults_so_far();
  const auto start = Clock::now();
  blocking.deadline = absl::Now() + sleep_after;
  {
    std::vector<JobPtr> held;  // user code keeps its jobs, as real programs do
    held.reserve(jobs);
    Scheduler scheduler;
    graphs_internal::build(shape, jobs, blocking, scheduler, held);
    times.built = since(start);
    times.rss_growth_bytes = resident_bytes() - rss_before;
    times.run_started = since(start);
    scheduler.run();
    times.ran = since(start);
  }
  times.torn_down = since(start);
  times.cpu = process_cpu_seconds() - cpu_start;
  times.page_faults = page_faults_so_far() - faults_before;
  times.all_started = times.woken = times.built;
  if (is_blocking(shape)) {
    times.all_started = std::chrono::duration<double>(blocking.all_started_at - start).count();
    times.woken = times.all_started;
    if (shape == Shape::kSleep) {
      const double deadline = absl::ToDoubleSeconds(sleep_after);
      times.late = times.all_started > deadline;
      times.woken = std::max(deadline, times.all_started);
    }
  }
  return times;
}

}  // namespace asyncjobs::benchmarks

#endif  // ASYNCJOBS_BENCHMARKS_GRAPHS_H_
