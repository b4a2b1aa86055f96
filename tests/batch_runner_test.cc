// The batch runner alone: items that never block share one fiber, and a runner that blocks
// is replaced in constant work, however many are blocked at once.

#include "asyncjobs/internal/jobs/batch_runner.h"

#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "asyncjobs/event.h"
#include "asyncjobs/internal/base/clock.h"
#include "gtest/gtest.h"

namespace asyncjobs::internal {
namespace {

// Items of these tests always get a fiber.
void never_fails(WorkItem*, std::exception_ptr, void*) { std::abort(); }

// Items that each wait on one Event until the last one has started and sets it.
struct Blockers {
  struct Item {
    WorkItem work;  // first: an Item is its own owner (owner_offset 0)
    Blockers* group;
  };
  explicit Blockers(size_t count) : items(count, Item{{}, this}) {}

  static int64_t body(WorkItem* item, int64_t, void*) {
    Blockers* self = reinterpret_cast<Item*>(item)->group;
    if (++self->started == self->items.size()) {
      self->all_started.set();
    } else {
      self->all_started.wait();
    }
    return clock_ticks();
  }

  void submit_all(BatchRunner& runner) {
    for (Item& item : items) runner.submit(&item.work);
  }

  std::vector<Item> items;
  size_t started = 0;
  Event all_started;
};

TEST(BatchRunnerTest, ItemsThatNeverBlockShareOneRunner) {
  Reactor reactor;
  int ran = 0;
  static int* counter;
  counter = &ran;
  BatchRunner runner(reactor, {.run =
                                   [](WorkItem*, int64_t, void*) {
                                     ++*counter;
                                     return clock_ticks();
                                   },
                               .fail = &never_fails});
  std::vector<WorkItem> items(1000);
  for (WorkItem& item : items) {
    runner.submit(&item);
  }
  reactor.run();
  EXPECT_EQ(ran, 1000);
  EXPECT_EQ(runner.runners_made(), 1u);
}

// 20,000 items blocked at once: one runner each, and each replacement found without
// scanning the blocked ones (the old search visited every runner: quadratic start).
#if defined(__SANITIZE_THREAD__)
constexpr size_t kBlocked = 500;  // ThreadSanitizer: 8128 fibers at most, each one slow
#else
constexpr size_t kBlocked = 20'000;
#endif

TEST(BatchRunnerTest, BlockedRunnersAreReplacedInConstantWork) {
  Reactor reactor;
  BatchRunner runner(reactor, {.run = &Blockers::body, .fail = &never_fails});
  Blockers first(kBlocked);
  first.submit_all(runner);
  reactor.run();
  EXPECT_EQ(first.started, kBlocked);
  EXPECT_EQ(runner.runners_made(), kBlocked);
  EXPECT_EQ(runner.reuse_probes(), 0u);

  // A second wave reuses the finished runners, one look each.
  Blockers second(kBlocked);
  second.submit_all(runner);
  reactor.run();
  EXPECT_EQ(second.started, kBlocked);
  EXPECT_EQ(runner.runners_made(), kBlocked);
  EXPECT_LE(runner.reuse_probes(), kBlocked);
  EXPECT_GE(runner.reuse_probes(), kBlocked - 1);
}

}  // namespace
}  // namespace asyncjobs::internal
