// Fiber costs of asyncjobs beside raw Boost.Context and thread baselines, in one binary, so
// every engine figure reads as a ratio measured in the same run (see docs/fibers.md).
//
//   BM_Raw*              Boost.Context `fiber` with stacks from a warm free list: the floor.
//   BM_ThreadCondvar*    two threads handing a token over with a mutex + condvar.
//   BM_YieldPingPong     two Tasks calling asyncjobs::yield() in turn; `x_raw_switch` is the
//                        cost of one task-to-task hand-over divided by one raw fcontext switch.
//   BM_SleepWake         N tasks each sleep a random-ish short time and are woken by the timer
//                        heap; ns per task covers building the tasks, running and destroying them.
//                        `warm`: warm_stacks >= N, stacks keep their pages between iterations.
//                        `cold`: default warm_stacks (16384); the other stacks were given back
//                        (madvise) after the previous run and page-fault again.
//   BM_SleepLateness     one task sleeps 100 us, 200 times: `late_us`, how long after its
//                        deadline each sleep returned, on average (the loop's poll timeout).
//   BM_PipeWake          N tasks each blocked on its own pipe (epoll) and woken by a write.
//   BM_SuspendedRss      N tasks suspended at once on an Event (a last task reads RSS, then sets
//                        it), on a fresh thread so that every stack is fresh. bytes_per_fiber is
//                        the resident-set growth divided by N: stack pages, Task objects, queues.
//
// Counters ending in `_per_*` with a time unit are inverted rates: they read as time per item.
#include <sys/mman.h>
#include <fcntl.h>
#include <sys/prctl.h>

#include <atomic>
#include <boost/context/fiber.hpp>
#include <boost/context/stack_context.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "asyncjobs/asyncjobs.h"
#include "asyncjobs/internal/reactor/reactor.h"
#include "benchmark/benchmark.h"
#include "benchmarks/baseline.h"
#include "benchmarks/resident.h"

namespace aj = asyncjobs;
namespace ctx = boost::context;
using asyncjobs::benchmarks::FreeListStacks;
using asyncjobs::benchmarks::per_item;
using asyncjobs::benchmarks::raw_switch_ns;
using asyncjobs::benchmarks::resident_bytes;
using asyncjobs::benchmarks::seconds_since;

namespace {

constexpr int kSmallTask = 100'000;

// --- Helpers ------------------------------------------------------------------------------

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Page-table memory (VmPTE), which RSS does not count.
int64_t page_table_bytes() {
  std::ifstream status("/proc/self/status");
  std::string key;
  while (status >> key) {
    if (key == "VmPTE:") {
      int64_t kb = 0;
      status >> kb;
      return kb * 1024;
    }
    std::getline(status, key);
  }
  return 0;
}



// --- Raw Boost.Context baseline (stacks and timings in baseline.h) ---------------------

void BM_RawCreateEnterLeave(benchmark::State& state) {
  for (auto _ : state) {
    ctx::fiber fiber(std::allocator_arg, FreeListStacks(),
                     [](ctx::fiber&& caller) { return std::move(caller); });
    fiber = std::move(fiber).resume();
    benchmark::DoNotOptimize(fiber);
  }
  state.counters["ns_per_fiber"] = per_item(1);
}
BENCHMARK(BM_RawCreateEnterLeave)->MinTime(0.3);

void BM_RawSwitch(benchmark::State& state) {
  bool stop = false;
  ctx::fiber fiber(std::allocator_arg, FreeListStacks(), [&stop](ctx::fiber&& caller) {
    while (!stop) caller = std::move(caller).resume();
    return std::move(caller);
  });
  fiber = std::move(fiber).resume();
  for (auto _ : state) fiber = std::move(fiber).resume();  // there and back: two switches
  stop = true;
  fiber = std::move(fiber).resume();
  state.counters["ns_per_switch"] = per_item(2);
}
BENCHMARK(BM_RawSwitch)->MinTime(0.3);

// The floor for BM_SleepWake: `count` raw fibers created, entered and suspended at once, then
// resumed to their end in a random order (a timer heap's order), stacks from the warm free
// list, primed. Only the wake order is precomputed; ns per fiber covers create + 4 switches.
void BM_RawSuspendResume(benchmark::State& state) {
  const size_t count = static_cast<size_t>(state.range(0));
  std::vector<uint32_t> order(count);
  for (size_t i = 0; i < count; ++i) order[i] = static_cast<uint32_t>(i);
  for (size_t i = count; i > 1; --i) std::swap(order[i - 1], order[splitmix64(i) % i]);
  std::vector<ctx::fiber> fibers(count);
  const auto round = [&] {
    for (size_t i = 0; i < count; ++i) {
      fibers[i] = ctx::fiber(std::allocator_arg, FreeListStacks(), [](ctx::fiber&& caller) {
        caller = std::move(caller).resume();  // suspended until woken
        return std::move(caller);
      });
      fibers[i] = std::move(fibers[i]).resume();
    }
    for (uint32_t i : order) fibers[i] = std::move(fibers[i]).resume();
  };
  round();  // untimed: maps and touches the stacks, as BM_SleepWake's priming does
  for (auto _ : state) round();
  state.counters["ns_per_fiber"] = per_item(static_cast<double>(count));
}
BENCHMARK(BM_RawSuspendResume)->Arg(kSmallTask)->Arg(10'000)->Iterations(5)->Unit(benchmark::kMillisecond);

// --- Thread baseline ----------------------------------------------------------------------

void BM_ThreadCondvarPingPong(benchmark::State& state) {
  std::mutex mutex;
  std::condition_variable changed;
  int64_t turn = 0;  // even: main thread's turn, odd: the partner's
  bool stop = false;
  std::thread partner([&] {
    std::unique_lock<std::mutex> lock(mutex);
    for (;;) {
      changed.wait(lock, [&] { return stop || turn % 2 == 1; });
      if (stop) return;
      ++turn;
      changed.notify_one();
    }
  });
  for (auto _ : state) {
    std::unique_lock<std::mutex> lock(mutex);
    ++turn;
    changed.notify_one();
    changed.wait(lock, [&] { return turn % 2 == 0; });
  }
  {
    std::lock_guard<std::mutex> lock(mutex);
    stop = true;
  }
  changed.notify_one();
  partner.join();
  state.counters["ns_per_switch"] = per_item(2);
}
BENCHMARK(BM_ThreadCondvarPingPong)->MinTime(0.3)->UseRealTime();

// --- Yield through the reactor ------------------------------------------------------------

struct Yielder {
  aj::Task task{&Yielder::run, this};
  int64_t rounds = 0;
  static void run(void* self) {
    for (int64_t i = static_cast<Yielder*>(self)->rounds; i > 0; --i) aj::yield();
  }
};

// Two tasks yield in turn: each yield hands the thread from one task to the other through
// the reactor (two fcontext jumps: task -> loop -> other task). ns_per_switch is per yield.
void BM_YieldPingPong(benchmark::State& state) {
  constexpr int64_t kRounds = 50'000;  // per task and iteration
  aj::Reactor reactor;
  double seconds = 0, best = 1e9;
  for (auto _ : state) {
    Yielder a, b;
    a.rounds = b.rounds = kRounds;
    const auto start = std::chrono::steady_clock::now();
    reactor.spawn(&a.task);
    reactor.spawn(&b.task);
    reactor.run();
    const double elapsed = seconds_since(start);
    seconds += elapsed;
    best = std::min(best, elapsed);
  }
  const double switches = 2.0 * kRounds * state.iterations();
  const double raw_ns = raw_switch_ns();
  state.counters["ns_per_switch"] = per_item(2.0 * kRounds);
  state.counters["raw_switch_ns"] = raw_ns;
  state.counters["x_raw_switch"] = seconds * 1e9 / switches / raw_ns;
  // The raw baseline is a best of five batches; on a loaded machine compare it with the best
  // iteration too (each is 100k yields), or preemption inflates the mean ratio.
  state.counters["best_ns_per_switch"] = best * 1e9 / (2.0 * kRounds);
  state.counters["x_raw_switch_best"] = best * 1e9 / (2.0 * kRounds) / raw_ns;
}
BENCHMARK(BM_YieldPingPong)->MinTime(0.5)->Unit(benchmark::kMillisecond);

// --- Tasks suspended at once --------------------------------------------------------------

struct EventWaiter {
  aj::Task task{&EventWaiter::run, this};
  aj::Event* event = nullptr;
  static void run(void* self) { static_cast<EventWaiter*>(self)->event->wait(); }
};

// Runs last: every other task is suspended when it runs.
struct Releaser {
  aj::Task task{&Releaser::run, this};
  aj::Event* event = nullptr;
  int64_t resident = 0;
  int64_t page_tables = 0;
  static void run(void* self) {
    auto* releaser = static_cast<Releaser*>(self);
    releaser->resident = resident_bytes();
    releaser->page_tables = page_table_bytes();
    releaser->event->set();
  }
};

// `count` default-constructed T in their own anonymous mapping, unmapped on destruction.
template <class T>
class MappedArray {
 public:
  explicit MappedArray(size_t count) : count_(count), bytes_(count * sizeof(T)) {
    void* base = mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) throw std::bad_alloc();
    items_ = static_cast<T*>(base);
    for (size_t i = 0; i < count_; ++i) new (&items_[i]) T();
  }
  ~MappedArray() {
    for (size_t i = 0; i < count_; ++i) items_[i].~T();
    munmap(items_, bytes_);
  }
  MappedArray(const MappedArray&) = delete;
  MappedArray& operator=(const MappedArray&) = delete;
  T& operator[](size_t i) { return items_[i]; }

 private:
  size_t count_;
  size_t bytes_;
  T* items_;
};

struct SuspendedRun {
  int64_t resident_delta;
  int64_t page_table_delta;
};

// Suspends `count` tasks at once on one Event on this thread's reactor, then releases them.
// The tasks live in a fresh mapping: from malloc they could reuse pages already resident, and
// the RSS growth would miss them.
SuspendedRun run_suspended(size_t count) {
  const int64_t resident_before = resident_bytes();
  const int64_t page_tables_before = page_table_bytes();
  aj::Reactor reactor;
  aj::Event event;
  MappedArray<EventWaiter> waiters(count);
  Releaser releaser;
  releaser.event = &event;
  for (size_t i = 0; i < count; ++i) {
    waiters[i].event = &event;
    reactor.spawn(&waiters[i].task);
  }
  reactor.spawn(&releaser.task);
  reactor.run();
  return {releaser.resident - resident_before, releaser.page_tables - page_tables_before};
}

// Sets stack options for the scope, restoring the previous ones after.
class ScopedStackOptions {
 public:
  explicit ScopedStackOptions(const aj::StackOptions& options) : saved_(aj::stack_options()) {
    aj::set_stack_options(options);
  }
  ~ScopedStackOptions() { aj::set_stack_options(saved_); }

 private:
  aj::StackOptions saved_;
};

// Process-wide transparent huge pages off for the scope (prctl PR_SET_THP_DISABLE).
class ScopedNoThp {
 public:
  explicit ScopedNoThp(bool active) : active_(active) {
    if (active_) prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
  }
  ~ScopedNoThp() {
    if (active_) prctl(PR_SET_THP_DISABLE, 0, 0, 0, 0);
  }

 private:
  bool active_;
};

// Args: tasks, guard page (0/1), THP disabled for the process (0/1). Each iteration runs on a
// fresh thread: a fresh stack pool, so no stack page is resident before.
void BM_SuspendedRss(benchmark::State& state) {
  const size_t count = static_cast<size_t>(state.range(0));
  aj::StackOptions options;
  options.guard_page = state.range(1) != 0;
  ScopedStackOptions scoped(options);
  ScopedNoThp no_thp(state.range(2) != 0);
  double resident = 0, page_tables = 0;
  for (auto _ : state) {
    std::thread([&] {
      const SuspendedRun run = run_suspended(count);
      resident += static_cast<double>(run.resident_delta);
      page_tables += static_cast<double>(run.page_table_delta);
    }).join();
  }
  const double n = static_cast<double>(count) * state.iterations();
  state.counters["ns_per_fiber"] = per_item(static_cast<double>(count));
  state.counters["rss_per_fiber"] = benchmark::Counter(resident / n, {}, benchmark::Counter::kIs1024);
  state.counters["pte_per_fiber"] = benchmark::Counter(page_tables / n, {}, benchmark::Counter::kIs1024);
  state.counters["task_object"] = sizeof(EventWaiter);
}
BENCHMARK(BM_SuspendedRss)
    ->ArgNames({"tasks", "guard", "no_thp"})
    ->Args({kSmallTask, 1, 0})
    ->Args({kSmallTask, 0, 0})
    ->Args({kSmallTask, 1, 1})
    ->Args({kSmallTask, 0, 1})
    ->Iterations(2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// --- Sleep and wake -----------------------------------------------------------------------

struct Sleeper {
  aj::Task task{&Sleeper::run, this};
  absl::Time deadline;
  static void run(void* self) { aj::sleep_until(static_cast<Sleeper*>(self)->deadline); }
};

// Arms `count` sleepers (finished or new) with deadlines spread over [now, now + spread)
// (zero spread: all at now + 1 ms, so they wake in the order they slept) and runs them to
// the end. The spread is below the run's own length, so little idle wait.
void run_sleepers(Sleeper* sleepers, size_t count, absl::Duration spread, uint64_t seed) {
  aj::Reactor reactor;
  const absl::Time start = absl::Now();
  const int64_t spread_ns = absl::ToInt64Nanoseconds(spread);
  for (size_t i = 0; i < count; ++i) {
    const int64_t offset = spread_ns > 0 ? static_cast<int64_t>(splitmix64(seed + i) % spread_ns)
                                         : 1'000'000;
    sleepers[i].deadline = start + absl::Nanoseconds(offset);
    sleepers[i].task.rearm();
    reactor.spawn(&sleepers[i].task);
  }
  reactor.run();
}

// Args: tasks, warm (1: warm_stacks >= tasks, every iteration reuses stacks whose pages are
// resident; 0: default warm_stacks 16384, so the other stacks were given back after the
// previous run and page-fault again), stack size in KiB. Runs on a fresh thread whose pool is
// primed (untimed) with `tasks` stacks, so the first-ever mmap is not in the figure; the
// Task objects are allocated once and reused, as the job pool reuses job memory. Last arg
// `timer` 1: random deadlines over 1 ms; 2: one deadline for all (timers expire in the
// order they were set); 0: all wait on one Event set by a last task instead (no timer).
void BM_SleepWake(benchmark::State& state) {
  const size_t count = static_cast<size_t>(state.range(0));
  aj::StackOptions options;
  if (state.range(1) != 0) options.warm_stacks = count + 1024;
  options.stack_size = static_cast<size_t>(state.range(2)) * 1024;
  const int64_t timer = state.range(3);
  ScopedStackOptions scoped(options);
  std::thread([&] {
    run_suspended(count);
    auto sleepers = std::make_unique<Sleeper[]>(count);
    uint64_t seed = 0;
    for (auto _ : state) {
      if (timer == 0) {
        run_suspended(count);
      } else {
        const absl::Duration spread = timer == 1 ? absl::Milliseconds(1) : absl::ZeroDuration();
        run_sleepers(sleepers.get(), count, spread, seed);
      }
      seed += count;
    }
  }).join();
  state.counters["ns_per_task"] = per_item(static_cast<double>(count));
}
BENCHMARK(BM_SleepWake)
    ->ArgNames({"tasks", "warm", "stack_kib", "timer"})
    ->Args({kSmallTask, 1, 256, 1})
    ->Args({kSmallTask, 0, 256, 1})
    ->Args({kSmallTask, 1, 64, 1})
    ->Args({10'000, 1, 256, 1})
    ->Args({kSmallTask, 1, 256, 2})
    ->Args({kSmallTask, 1, 256, 0})
    ->Iterations(5)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// One task sleeping again and again with nothing else to run: every sleep ends in the loop's
// poll, so its lateness is the poll's timeout resolution plus the kernel's wake-up.
void BM_SleepLateness(benchmark::State& state) {
  constexpr int kSleeps = 200;
  double late_ns = 0;
  for (auto _ : state) {
    aj::Reactor reactor;
    struct Sleeper {
      double* late_ns;
      aj::Task task{&Sleeper::run, this};
      static void run(void* self) {
        for (int i = 0; i < kSleeps; ++i) {
          const absl::Time deadline = absl::Now() + absl::Microseconds(100);
          aj::sleep_until(deadline);
          *static_cast<Sleeper*>(self)->late_ns += absl::ToDoubleNanoseconds(absl::Now() - deadline);
        }
      }
    } sleeper{&late_ns};
    reactor.spawn(&sleeper.task);
    reactor.run();
  }
  state.counters["late_us"] = late_ns / 1e3 / (kSleeps * static_cast<double>(state.iterations()));
}
BENCHMARK(BM_SleepLateness)->Iterations(5)->Unit(benchmark::kMillisecond)->UseRealTime();

// --- Block on a pipe and wake -------------------------------------------------------------

struct PipeWaiter {
  aj::Task task{&PipeWaiter::run, this};
  int fds[2] = {-1, -1};  // read end, write end
  static void run(void* self) {
    const int fd = static_cast<PipeWaiter*>(self)->fds[0];
    aj::wait_readable(fd);
    char byte;
    (void)!read(fd, &byte, 1);
  }
};

// Runs last: writes one byte into every waiter's pipe.
struct PipeFiller {
  aj::Task task{&PipeFiller::run, this};
  std::vector<PipeWaiter>* waiters = nullptr;
  static void run(void* self) {
    for (PipeWaiter& waiter : *static_cast<PipeFiller*>(self)->waiters) {
      (void)!write(waiter.fds[1], "x", 1);
    }
  }
};

// `tasks` tasks each wait until their own pipe is readable (epoll), then a last task writes
// to every pipe and they are woken. Each task costs an epoll registration, a write, its
// share of epoll_wait and a read: system calls, against which the fiber switches are small.
// Tasks are limited by the file-descriptor limit (two per pipe).
void BM_PipeWake(benchmark::State& state) {
  const size_t count = static_cast<size_t>(state.range(0));
  std::vector<PipeWaiter> waiters(count);
  for (PipeWaiter& waiter : waiters) {
    if (pipe2(waiter.fds, O_NONBLOCK | O_CLOEXEC) != 0) {
      state.SkipWithError("pipe2 failed (file-descriptor limit?)");
      break;
    }
  }
  PipeFiller filler;
  filler.waiters = &waiters;
  for (auto _ : state) {
    aj::Reactor reactor;
    for (PipeWaiter& waiter : waiters) {
      waiter.task.rearm();
      reactor.spawn(&waiter.task);
    }
    filler.task.rearm();
    reactor.spawn(&filler.task);
    reactor.run();
  }
  for (PipeWaiter& waiter : waiters) {
    for (int fd : waiter.fds) {
      if (fd >= 0) close(fd);
    }
  }
  state.counters["ns_per_task"] = per_item(static_cast<double>(count));
}
BENCHMARK(BM_PipeWake)->ArgName("tasks")->Arg(1'000)->Arg(5'000)->Unit(benchmark::kMillisecond);

// One million sleeping tasks with random deadlines over 20 ms, on a fresh thread (fresh pool:
// the first use of every stack, mmap and first-touch page faults included), THP off.
void BM_MillionTimers(benchmark::State& state) {
  const size_t count = static_cast<size_t>(state.range(0));
  aj::StackOptions options;
  options.guard_page = false;  // a million stacks are far past vm.max_map_count / 2 anyway
  options.warm_stacks = 0;
  ScopedStackOptions scoped(options);
  ScopedNoThp no_thp(true);
  uint64_t seed = 0;
  for (auto _ : state) {
    std::thread([&] {
      auto sleepers = std::make_unique<Sleeper[]>(count);
      run_sleepers(sleepers.get(), count, absl::Milliseconds(20), seed);
    }).join();
    seed += count;
  }
  state.counters["ns_per_task"] = per_item(static_cast<double>(count));
}
BENCHMARK(BM_MillionTimers)
    ->ArgNames({"tasks"})
    ->Arg(1'000'000)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
