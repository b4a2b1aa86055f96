// Queue between tasks of one reactor: FIFO, capacity, suspension, cancellation, stalls.

#include "asyncjobs/queue.h"

#include <deque>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "asyncjobs/fiber_calls.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace asyncjobs {
namespace {

using testing::Tracer;
using testing::run_tasks;
using testing::run_tasks_on;
using testing::TestTask;

// A producer putting 1, 2, 3 and a consumer getting three: the trace shows where the
// producer blocks for each capacity.
class QueueCapacityTest : public ::testing::TestWithParam<std::pair<size_t, std::string>> {};

TEST_P(QueueCapacityTest, ProducerBlocksWhileFull) {
  const auto& [capacity, expected] = GetParam();
  Queue<int> queue(capacity);
  std::string trace;
  run_tasks({[&] {
               for (int i = 1; i <= 3; ++i) {
                 queue.put(i);
                 trace += "p" + std::to_string(i);
               }
             },
             [&] {
               for (int i = 0; i < 3; ++i) trace += "c" + std::to_string(queue.get());
             }});
  EXPECT_EQ(trace, expected);
  EXPECT_TRUE(queue.empty());
}

INSTANTIATE_TEST_SUITE_P(Capacities, QueueCapacityTest,
                         ::testing::Values(std::pair<size_t, std::string>{0, "p1p2p3c1c2c3"},
                                           std::pair<size_t, std::string>{1, "p1c1p2c2p3c3"},
                                           std::pair<size_t, std::string>{2, "p1p2c1c2p3c3"},
                                           std::pair<size_t, std::string>{8, "p1p2p3c1c2c3"}));

TEST(QueueTest, ConsumerBlocksUntilProducerPuts) {
  Queue<std::string> queue;
  std::string trace;
  run_tasks({[&] {
               trace += "get ";
               trace += queue.get();
             },
             [&] {
               trace += "put ";
               queue.put("value");
             }});
  EXPECT_EQ(trace, "get put value");
}

TEST(QueueTest, WaitingConsumersAreServedInOrder) {
  Queue<int> queue;
  std::string trace;
  auto consumer = [&](char name) {
    return [&trace, &queue, name] { trace += name + std::to_string(queue.get()); };
  };
  run_tasks({consumer('A'), consumer('B'), consumer('C'), [&] {
               for (int i = 1; i <= 3; ++i) queue.put(i);
             }});
  EXPECT_EQ(trace, "A1B2C3");
}

TEST(QueueTest, TryPutAndTryGetNeverSuspend) {
  Queue<int> queue(2);
  EXPECT_EQ(queue.capacity(), 2u);
  EXPECT_TRUE(queue.empty());
  EXPECT_FALSE(queue.try_get().has_value());
  EXPECT_TRUE(queue.try_put(1));
  EXPECT_TRUE(queue.try_put(2));
  EXPECT_FALSE(queue.try_put(3));
  EXPECT_EQ(queue.size(), 2u);
  EXPECT_EQ(queue.try_get(), 1);
  EXPECT_EQ(queue.try_get(), 2);
  EXPECT_FALSE(queue.try_get().has_value());
}

TEST(QueueTest, TryGetWakesABlockedProducer) {
  Queue<int> queue(1);
  std::string trace;
  run_tasks({[&] {
               queue.put(1);
               queue.put(2);  // blocks until the try_get below
               trace += "put2 ";
             },
             [&] {
               trace += "try_get" + std::to_string(*queue.try_get()) + " ";
             }});
  EXPECT_EQ(trace, "try_get1 put2 ");
  EXPECT_EQ(queue.try_get(), 2);
}

TEST(QueueTest, MoveOnlyValues) {
  Queue<std::unique_ptr<int>> queue(1);
  int got = 0;
  run_tasks({[&] {
               queue.put(std::make_unique<int>(1));
               queue.put(std::make_unique<int>(2));
             },
             [&] {
               got += *queue.get();
               got += *queue.get();
             }});
  EXPECT_EQ(got, 3);
}

TEST(QueueTest, OutsideAJobWorksWhileNoWaitIsNeeded) {
  Queue<int> queue(1);
  queue.put(7);
  EXPECT_THROW(queue.put(8), std::logic_error);  // full: would block forever
  EXPECT_EQ(queue.size(), 1u);
  EXPECT_EQ(queue.get(), 7);
  EXPECT_THROW(queue.get(), std::logic_error);  // empty: would block forever
  EXPECT_TRUE(queue.empty());
}

TEST(QueueTest, StallCancelsConsumersOfAQueueNobodyFills) {
  Queue<int> queue;
  std::string trace;
  bool got = false;
  std::deque<TestTask> tasks;
  tasks.emplace_back([&] {
    Tracer tracer{&trace, 'a'};
    queue.get();
    got = true;
  });
  tasks.emplace_back([&] {
    Tracer tracer{&trace, 'b'};
    queue.get();
    got = true;
  });
  Reactor reactor;
  const auto outcome = run_tasks_on(reactor, tasks);
  EXPECT_TRUE(outcome.stalled);
  EXPECT_EQ(outcome.cancelled, 2);
  EXPECT_FALSE(got);
  EXPECT_EQ(trace, "ab");
}

TEST(QueueTest, CancelledConsumerLeavesTheItemToTheNextOne) {
  Queue<int> queue;
  int second_got = 0;
  std::deque<TestTask> tasks;
  tasks.emplace_back([&] { queue.get(); });
  tasks.emplace_back([&] { second_got = queue.get(); });
  tasks.emplace_back([&] {
    Reactor::current()->cancel(tasks[0].task());
    queue.put(5);
  });
  Reactor reactor;
  run_tasks_on(reactor, tasks);
  EXPECT_TRUE(tasks[0].cancelled());
  EXPECT_EQ(second_got, 5);
  EXPECT_TRUE(queue.empty());
}

TEST(QueueTest, CancelledProducerDoesNotPut) {
  Queue<int> queue(1);
  std::deque<TestTask> tasks;
  tasks.emplace_back([&] {
    queue.put(1);
    queue.put(2);  // blocks: cancelled here
  });
  tasks.emplace_back([&] { Reactor::current()->cancel(tasks[0].task()); });
  Reactor reactor;
  run_tasks_on(reactor, tasks);
  EXPECT_TRUE(tasks[0].cancelled());
  EXPECT_EQ(queue.size(), 1u);
  EXPECT_EQ(queue.try_get(), 1);
}

TEST(QueueTest, BlockingCallsInACancelledJobThrow) {
  Queue<int> empty, full(1);
  full.put(1);
  int thrown = 0;
  run_tasks({[&] {
    Reactor::current()->cancel(Task::current());
    try {
      empty.get();
    } catch (const Cancelled&) {
      ++thrown;
    }
    try {
      full.put(2);
    } catch (const Cancelled&) {
      ++thrown;
    }
  }});
  EXPECT_EQ(thrown, 2);
  EXPECT_TRUE(empty.empty());
  EXPECT_EQ(full.size(), 1u);
}

// A message bus: several producers, one consumer, a small queue; every item arrives once,
// each producer's items in order.
TEST(QueueTest, ManyProducersOneConsumer) {
  constexpr int kProducers = 20, kItems = 50;
  Queue<std::pair<int, int>> queue(3);
  std::vector<int> next(kProducers, 0);
  int received = 0;
  std::deque<TestTask> tasks;
  for (int p = 0; p < kProducers; ++p) {
    tasks.emplace_back([&, p] {
      for (int i = 0; i < kItems; ++i) {
        queue.put({p, i});
        if (i % 7 == 0) yield();
      }
    });
  }
  tasks.emplace_back([&] {
    for (int n = 0; n < kProducers * kItems; ++n) {
      const auto [p, i] = queue.get();
      EXPECT_EQ(i, next[p]);
      next[p] = i + 1;
      ++received;
    }
  });
  Reactor reactor;
  EXPECT_FALSE(run_tasks_on(reactor, tasks).stalled);
  EXPECT_EQ(received, kProducers * kItems);
}

}  // namespace
}  // namespace asyncjobs
