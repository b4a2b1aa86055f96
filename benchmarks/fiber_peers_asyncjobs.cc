// The fiber-peer workloads (benchmarks/fiber_peers.h) on asyncjobs' reactor: `Task`s
// spawned on one `Reactor` (made before timing starts, as Boost.Fiber's thread scheduler
// is), `Event`, `Queue`, `yield` and `sleep_for`, with the library's default stack options.
// Its counterpart is fiber_peers_boost.cc; benchmarks/fiber_peers.sh runs both.
//
//   bazel-bin/benchmarks/fiber_peers_asyncjobs block 100000 --repeat=5
//   bazel-bin/benchmarks/fiber_peers_asyncjobs yield 1000 --guard_page=0   # no guard pages
#include <cstddef>
#include <cstring>
#include <memory>

#include "absl/time/time.h"
#include "asyncjobs/asyncjobs.h"
#include "asyncjobs/internal/reactor/reactor.h"  // Reactor, Task: the engine under the jobs
#include "benchmarks/fiber_peers.h"

namespace aj = asyncjobs;
namespace peers = asyncjobs::benchmarks::peers;
using peers::Clock;
using peers::Figures;

namespace {

aj::Reactor& reactor() {
  static auto* reactor = new aj::Reactor();
  return *reactor;
}

// A task running `Body::run(Shared&)`.
template <class Body>
struct Spawned {
  aj::Task task{&Spawned::enter, this};
  typename Body::Shared* shared = nullptr;
  static void enter(void* self) { Body::run(*static_cast<Spawned*>(self)->shared); }
};

// Spawns `tasks` of them. Their objects are allocated by the first pass and rearmed by the
// next ones, as Boost.Fiber's fibers live in its pool's kept stacks: a warm pass allocates
// nothing on either side.
template <class Body>
void spawn_n(size_t tasks, typename Body::Shared& shared) {
  static std::unique_ptr<Spawned<Body>[]> kept;
  static size_t kept_count = 0;
  if (kept_count != tasks) {
    kept = std::make_unique<Spawned<Body>[]>(tasks);
    kept_count = tasks;
  } else {
    for (size_t i = 0; i < tasks; ++i) kept[i].task.rearm();
  }
  for (size_t i = 0; i < tasks; ++i) {
    kept[i].shared = &shared;
    reactor().spawn(&kept[i].task);
  }
}

struct Noop {
  struct Shared {};
  static void run(Shared&) {}
};

Figures spawn(size_t tasks) {
  Noop::Shared shared;
  const auto start = Clock::now();
  spawn_n<Noop>(tasks, shared);
  reactor().run();
  const double ns = peers::nanos_between(start, Clock::now());
  return {{"ns", ns / static_cast<double>(tasks)}};
}

struct Blocked {
  struct Shared {
    size_t tasks = 0;
    size_t started = 0;
    aj::Event released;
    peers::BlockMarks marks;
  };
  static void run(Shared& shared) {
    if (++shared.started < shared.tasks) {
      shared.released.wait();
      return;
    }
    shared.marks.all_started = Clock::now();
    shared.marks.resident = peers::resident_bytes();
    shared.marks.released = Clock::now();
    shared.released.set();
  }
};

Figures block(size_t tasks) {
  Blocked::Shared shared;
  shared.tasks = tasks;
  const long resident_before = peers::resident_bytes();
  const auto start = Clock::now();
  spawn_n<Blocked>(tasks, shared);
  reactor().run();
  return peers::block_figures(tasks, start, shared.marks, resident_before, Clock::now());
}

struct Yielder {
  struct Shared {
    size_t yields = 0;
  };
  static void run(Shared& shared) {
    for (size_t i = 0; i < shared.yields; ++i) aj::yield();
  }
};

Figures yield(size_t yields) {
  Yielder::Shared shared{yields / 2};
  const auto start = Clock::now();
  spawn_n<Yielder>(2, shared);
  reactor().run();
  return {{"ns", peers::nanos_between(start, Clock::now()) / static_cast<double>(yields)}};
}

struct Pipe {
  struct Shared {
    size_t items = 0;
    aj::Queue<int> queue{peers::kQueueCapacity};
    long sum = 0;
  };
  static void produce(Shared& shared) {
    for (size_t i = 0; i < shared.items; ++i) shared.queue.put(static_cast<int>(i));
  }
  static void consume(Shared& shared) {
    for (size_t i = 0; i < shared.items; ++i) shared.sum += shared.queue.get();
  }
};
struct Producer : Pipe {
  static void run(Shared& shared) { produce(shared); }
};
struct Consumer : Pipe {
  static void run(Shared& shared) { consume(shared); }
};

Figures queue(size_t items) {
  const auto start = Clock::now();
  Pipe::Shared shared;
  shared.items = items;
  spawn_n<Producer>(1, shared);
  spawn_n<Consumer>(1, shared);
  reactor().run();
  const double ns = peers::nanos_between(start, Clock::now());
  if (shared.sum < 0) std::abort();  // keeps the consumer's work
  return {{"ns", ns / static_cast<double>(items)}};
}

struct Sleeper {
  struct Shared {};
  static void run(Shared&) { aj::sleep_for(absl::FromChrono(peers::kSleep)); }
};

Figures sleep(size_t tasks) {
  Sleeper::Shared shared;
  const auto start = Clock::now();
  spawn_n<Sleeper>(tasks, shared);
  reactor().run();
  return peers::sleep_figures(tasks, start, Clock::now());
}

}  // namespace

// `--guard_page=0`, anywhere on the line, turns guard pages off (Boost.Fiber's pool has none).
int main(int argc, char** argv) {
  int kept = 0;
  for (int i = 0; i < argc; ++i) {
    if (std::strcmp(argv[i], "--guard_page=0") == 0) {
      aj::StackOptions options = aj::stack_options();
      options.guard_page = false;
      aj::set_stack_options(options);
    } else {
      argv[kept++] = argv[i];
    }
  }
  reactor();
  return peers::run_passes("asyncjobs", kept, argv, {spawn, block, yield, queue, sleep});
}
