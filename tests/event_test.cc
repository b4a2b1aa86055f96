// Event between tasks of one reactor: set/clear/wait, timeouts, outside a job.

#include "asyncjobs/event.h"

#include <deque>
#include <stdexcept>
#include <string>

#include "absl/time/clock.h"
#include "asyncjobs/fiber_calls.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace asyncjobs {
namespace {

using testing::run_tasks;
using testing::run_tasks_on;
using testing::TestTask;

TEST(EventTest, SetWakesEveryWaiter) {
  Event event;
  std::string trace;
  auto waiter = [&](char name) {
    return [&trace, &event, name] {
      EXPECT_TRUE(event.wait());
      trace += name;
    };
  };
  run_tasks({waiter('A'), waiter('B'), waiter('C'), [&] {
               trace += "set ";
               event.set();
             }});
  EXPECT_EQ(trace, "set ABC");
  EXPECT_TRUE(event.is_set());
}

TEST(EventTest, WaitOnASetEventReturnsAtOnce) {
  Event event;
  event.set();
  std::string trace;
  run_tasks({[&] {
               EXPECT_TRUE(event.wait());
               EXPECT_TRUE(event.wait(absl::Milliseconds(1)));
               trace += 'A';  // no suspension: B has not run yet
             },
             [&] { trace += 'B'; }});
  EXPECT_EQ(trace, "AB");
}

TEST(EventTest, WaitWithTimeoutReturnsFalseWhenNotSet) {
  Event event;
  bool result = true;
  absl::Duration waited;
  run_tasks({[&] {
    const absl::Time start = absl::Now();
    result = event.wait(absl::Milliseconds(50));
    waited = absl::Now() - start;
  }});
  EXPECT_FALSE(result);
  EXPECT_GE(waited, absl::Milliseconds(50));
  EXPECT_LT(waited, absl::Milliseconds(500));
}

TEST(EventTest, WaitWithTimeoutReturnsTrueWhenSetInTime) {
  Event event;
  bool result = false;
  absl::Duration waited;
  run_tasks({[&] {
               const absl::Time start = absl::Now();
               result = event.wait(absl::Seconds(10));
               waited = absl::Now() - start;
             },
             [&] {
               sleep_for(absl::Milliseconds(20));
               event.set();
             }});
  EXPECT_TRUE(result);
  EXPECT_GE(waited, absl::Milliseconds(20));
  EXPECT_LT(waited, absl::Seconds(5));
}

TEST(EventTest, ClearMakesWaitsBlockAgain) {
  Event event;
  event.set();
  event.clear();
  EXPECT_FALSE(event.is_set());
  bool result = true;
  run_tasks({[&] { result = event.wait(absl::Milliseconds(10)); }});
  EXPECT_FALSE(result);
}

// Like asyncio.Event: waiters present at `set` are woken and return true, even if the event
// is cleared before they run.
TEST(EventTest, SetThenClearStillWakesCurrentWaiters) {
  Event event;
  bool result = false;
  run_tasks({[&] { result = event.wait(absl::Milliseconds(300)); },
             [&] {
               event.set();
               event.clear();
             }});
  EXPECT_TRUE(result);
}

TEST(EventTest, OutsideAJob) {
  Event event;
  const absl::Time start = absl::Now();
  EXPECT_FALSE(event.wait(absl::Milliseconds(20)));  // sleeps the timeout
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(20));
  EXPECT_THROW(event.wait(), std::logic_error);  // would block forever
  event.set();
  EXPECT_TRUE(event.wait());
  EXPECT_TRUE(event.wait(absl::Seconds(10)));
}

TEST(EventTest, CancelledWaiterThrowsCancelled) {
  Event event;
  bool returned = false;
  std::deque<TestTask> tasks;
  tasks.emplace_back([&] {
    event.wait();
    returned = true;
  });
  tasks.emplace_back([&] { Reactor::current()->cancel(tasks[0].task()); });
  Reactor reactor;
  const auto outcome = run_tasks_on(reactor, tasks);
  EXPECT_TRUE(tasks[0].cancelled());
  EXPECT_FALSE(returned);
  EXPECT_FALSE(outcome.stalled);
}

TEST(EventTest, CancelledWaiterDoesNotKeepOthersFromWaking) {
  Event event;
  std::string trace;
  std::deque<TestTask> tasks;
  tasks.emplace_back([&] {
    event.wait();
    trace += "not here";
  });
  tasks.emplace_back([&] {
    event.wait();
    trace += "B";
  });
  tasks.emplace_back([&] {
    Reactor::current()->cancel(tasks[0].task());
    event.set();
  });
  Reactor reactor;
  run_tasks_on(reactor, tasks);
  EXPECT_TRUE(tasks[0].cancelled());
  EXPECT_EQ(trace, "B");
}

TEST(EventTest, StallCancelsWaitersOfAnEventNobodySets) {
  Event event;
  std::deque<TestTask> tasks;
  tasks.emplace_back([&] { event.wait(); });
  tasks.emplace_back([&] { event.wait(); });
  Reactor reactor;
  const auto outcome = run_tasks_on(reactor, tasks);
  EXPECT_TRUE(outcome.stalled);
  EXPECT_EQ(outcome.cancelled, 2);
}

TEST(EventTest, TimedWaitersDoNotStall) {
  Event event;
  bool result = true;
  Reactor reactor;
  std::deque<TestTask> tasks;
  tasks.emplace_back([&] { result = event.wait(absl::Milliseconds(10)); });
  EXPECT_FALSE(run_tasks_on(reactor, tasks).stalled);
  EXPECT_FALSE(result);
}

}  // namespace
}  // namespace asyncjobs
