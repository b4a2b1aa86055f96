// The fiber-peer workloads (benchmarks/fiber_peers.h) on Boost.Fiber, in its best
// configuration: stacks of 64 KiB from one pool kept for the whole process
// (`pooled_fixedsize_stack`), one thread, the default round_robin scheduler, whose
// thread context is made before timing starts. Its counterpart is fiber_peers_asyncjobs.cc;
// benchmarks/fiber_peers.sh runs both.
//
//   bazel-bin/benchmarks/fiber_peers_boost block 100000 --repeat=5
#include <boost/fiber/all.hpp>
#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

#include "benchmarks/fiber_peers.h"

namespace fibers = boost::fibers;
namespace peers = asyncjobs::benchmarks::peers;
using peers::Clock;
using peers::Figures;

namespace {

// One pool for the process, as a program would keep it; each fiber holds a handle to it.
// 64 KiB stacks; each block the pool asks malloc for holds at most 1,024 of them.
fibers::pooled_fixedsize_stack& stacks() {
  static auto* pool = new fibers::pooled_fixedsize_stack(64 * 1024, 32, 1024);
  return *pool;
}

// The fiber handles, kept from pass to pass like the pool (and like the asyncjobs program's
// task objects): a warm pass allocates nothing.
std::vector<fibers::fiber>& handles() {
  static auto* kept = new std::vector<fibers::fiber>();
  kept->clear();
  return *kept;
}

template <class F>
void spawn_n(std::vector<fibers::fiber>& spawned, size_t tasks, const F& body) {
  spawned.reserve(tasks);
  for (size_t i = 0; i < tasks; ++i) spawned.emplace_back(std::allocator_arg, stacks(), body);
}

void join_all(std::vector<fibers::fiber>& spawned) {
  for (fibers::fiber& fiber : spawned) fiber.join();
}

Figures spawn(size_t tasks) {
  const auto start = Clock::now();
  std::vector<fibers::fiber>& spawned = handles();
  spawn_n(spawned, tasks, [] {});
  join_all(spawned);
  const double ns = peers::nanos_between(start, Clock::now());
  return {{"ns", ns / static_cast<double>(tasks)}};
}

// The event: a flag under a fiber mutex and condition variable (Boost.Fiber has no event).
Figures block(size_t tasks) {
  fibers::mutex mutex;
  fibers::condition_variable changed;
  bool released = false;
  size_t started = 0;
  peers::BlockMarks marks;
  const long resident_before = peers::resident_bytes();
  const auto start = Clock::now();
  std::vector<fibers::fiber>& spawned = handles();
  spawn_n(spawned, tasks, [&] {
    if (++started < tasks) {
      std::unique_lock<fibers::mutex> lock(mutex);
      changed.wait(lock, [&] { return released; });
      return;
    }
    marks.all_started = Clock::now();
    marks.resident = peers::resident_bytes();
    marks.released = Clock::now();
    {
      std::lock_guard<fibers::mutex> lock(mutex);
      released = true;
    }
    changed.notify_all();
  });
  join_all(spawned);
  return peers::block_figures(tasks, start, marks, resident_before, Clock::now());
}

Figures yield(size_t yields) {
  const auto start = Clock::now();
  std::vector<fibers::fiber>& spawned = handles();
  spawn_n(spawned, 2, [yields] {
    for (size_t i = 0; i < yields / 2; ++i) boost::this_fiber::yield();
  });
  join_all(spawned);
  return {{"ns", peers::nanos_between(start, Clock::now()) / static_cast<double>(yields)}};
}

// buffered_channel wants a power of two and keeps one slot free: 64 slots hold 63 items.
Figures queue(size_t items) {
  const auto start = Clock::now();
  fibers::buffered_channel<int> channel(peers::kQueueCapacity);
  fibers::fiber producer(std::allocator_arg, stacks(), [&] {
    for (size_t i = 0; i < items; ++i) channel.push(static_cast<int>(i));
  });
  long sum = 0;
  fibers::fiber consumer(std::allocator_arg, stacks(), [&] {
    for (size_t i = 0; i < items; ++i) sum += channel.value_pop();
  });
  producer.join();
  consumer.join();
  const double ns = peers::nanos_between(start, Clock::now());
  if (sum < 0) std::abort();  // keeps the consumer's work
  return {{"ns", ns / static_cast<double>(items)}};
}

Figures sleep(size_t tasks) {
  const auto start = Clock::now();
  std::vector<fibers::fiber>& spawned = handles();
  spawn_n(spawned, tasks, [] { boost::this_fiber::sleep_for(peers::kSleep); });
  join_all(spawned);
  return peers::sleep_figures(tasks, start, Clock::now());
}

}  // namespace

int main(int argc, char** argv) {
  boost::this_fiber::yield();  // makes this thread's scheduler and main context
  stacks();
  return peers::run_passes("boost_fiber", argc, argv, {spawn, block, yield, queue, sleep});
}
