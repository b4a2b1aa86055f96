// Fiber-aware calls (sleep, yield, fds, run_in_thread) and Cancelled, inside and outside
// tasks.

#include "asyncjobs/fiber_calls.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace asyncjobs {
namespace {

using testing::Pipe;
using testing::Tracer;
using testing::run_tasks;
using testing::run_tasks_on;
using testing::TestTask;

// --- Sleeping.

#if defined(__SANITIZE_THREAD__)
constexpr int kSleepers = 2000;  // ThreadSanitizer counts fibers as threads: 8128 at most
constexpr absl::Duration kSleepersAtMost = absl::Seconds(120);  // and makes each one slow
#else
constexpr int kSleepers = 10000;
constexpr absl::Duration kSleepersAtMost = absl::Seconds(30);  // 2 shared cores: generous
#endif

TEST(FiberCallsTest, TenThousandSleepersWakeInDeadlineOrder) {
  std::mt19937 random(2024);
  std::uniform_int_distribution<int> millis(0, 200);
  std::vector<absl::Duration> durations;
  for (int i = 0; i < kSleepers; ++i) durations.push_back(absl::Milliseconds(millis(random)));

  const absl::Time base = absl::Now();
  std::vector<int> woken;
  woken.reserve(kSleepers);
  int early = 0;
  std::deque<TestTask> tasks;
  for (int i = 0; i < kSleepers; ++i) {
    tasks.emplace_back([&, i] {
      const absl::Time deadline = base + durations[i];
      sleep_until(deadline);
      if (absl::Now() < deadline) ++early;
      woken.push_back(i);
    });
  }
  Reactor reactor;
  run_tasks_on(reactor, tasks);
  const absl::Duration total = absl::Now() - base;

  std::vector<int> expected(kSleepers);
  for (int i = 0; i < kSleepers; ++i) expected[i] = i;
  // Equal deadlines wake in the order they were set, which is the spawn order here.
  std::stable_sort(expected.begin(), expected.end(),
                   [&](int a, int b) { return durations[a] < durations[b]; });
  EXPECT_EQ(early, 0);
  ASSERT_EQ(woken.size(), expected.size());
  EXPECT_TRUE(woken == expected) << "wake order differs from deadline order";
  EXPECT_GE(total, *std::max_element(durations.begin(), durations.end()));
  EXPECT_LT(total, kSleepersAtMost);
}

TEST(FiberCallsTest, SleepForSuspendsOnlyTheCaller) {
  std::string trace;
  absl::Duration slept;
  run_tasks({[&] {
               const absl::Time start = absl::Now();
               sleep_for(absl::Milliseconds(60));
               slept = absl::Now() - start;
               trace += "long ";
             },
             [&] {
               sleep_for(absl::Milliseconds(10));
               trace += "short ";
             }});
  EXPECT_EQ(trace, "short long ");
  EXPECT_GE(slept, absl::Milliseconds(60));
  EXPECT_LT(slept, absl::Milliseconds(600));
}

TEST(FiberCallsTest, SleepsOfManyTasksOverlap) {
  const absl::Time start = absl::Now();
  run_tasks({[] { sleep_for(absl::Milliseconds(100)); }, [] { sleep_for(absl::Milliseconds(100)); },
             [] { sleep_for(absl::Milliseconds(100)); }});
  const absl::Duration total = absl::Now() - start;
  EXPECT_GE(total, absl::Milliseconds(100));
  EXPECT_LT(total, absl::Milliseconds(280));
}

TEST(FiberCallsTest, SleepUntilThePastStillLetsOthersRun) {
  std::string trace;
  run_tasks({[&] {
               sleep_until(absl::Now() - absl::Seconds(1));
               trace += 'A';
             },
             [&] { trace += 'B'; }});
  EXPECT_EQ(trace, "BA");
}

TEST(FiberCallsTest, SleepOutsideAJobSleepsTheThread) {
  EXPECT_FALSE(in_job());
  absl::Time start = absl::Now();
  sleep_for(absl::Milliseconds(30));
  absl::Duration slept = absl::Now() - start;
  EXPECT_GE(slept, absl::Milliseconds(30));
  EXPECT_LT(slept, absl::Milliseconds(300));

  start = absl::Now();
  sleep_until(start + absl::Milliseconds(30));
  slept = absl::Now() - start;
  EXPECT_GE(slept, absl::Milliseconds(30));
  EXPECT_LT(slept, absl::Milliseconds(300));
}

TEST(FiberCallsTest, InJob) {
  bool inside = false;
  run_tasks({[&] { inside = in_job(); }});
  EXPECT_TRUE(inside);
  EXPECT_FALSE(in_job());
}

// --- Yield.

TEST(FiberCallsTest, YieldAlternates) {
  std::string trace;
  auto body = [&](char c) {
    return [&trace, c] {
      for (int i = 0; i < 3; ++i) {
        trace += c;
        yield();
      }
    };
  };
  run_tasks({body('A'), body('B')});
  EXPECT_EQ(trace, "ABABAB");
}

TEST(FiberCallsTest, YieldOutsideAJobReturns) {
  yield();
  SUCCEED();
}

// --- File descriptors.

TEST(FiberCallsTest, WaitReadableResumesWhenAnotherJobWrites) {
  Pipe p;
  std::string trace;
  run_tasks({[&] {
               trace += "wait ";
               EXPECT_TRUE(wait_readable(p.read_end));
               char c = 0;
               EXPECT_EQ(read(p.read_end, &c, 1), 1);
               trace += std::string("got ") + c;
             },
             [&] {
               trace += "write ";
               EXPECT_EQ(write(p.write_end, "z", 1), 1);
             }});
  EXPECT_EQ(trace, "wait write got z");
}

TEST(FiberCallsTest, WaitReadableTimesOut) {
  Pipe p;
  bool readable = true;
  absl::Duration waited;
  run_tasks({[&] {
    const absl::Time start = absl::Now();
    readable = wait_readable(p.read_end, absl::Milliseconds(50));
    waited = absl::Now() - start;
  }});
  EXPECT_FALSE(readable);
  EXPECT_GE(waited, absl::Milliseconds(50));
  EXPECT_LT(waited, absl::Milliseconds(500));
}

TEST(FiberCallsTest, WaitWritableOnAnEmptyPipe) {
  Pipe p;
  bool writable = false;
  run_tasks({[&] { writable = wait_writable(p.write_end, absl::Seconds(5)); }});
  EXPECT_TRUE(writable);
}

TEST(FiberCallsTest, WaitReadableOutsideAJobPolls) {
  Pipe p;
  const absl::Time start = absl::Now();
  EXPECT_FALSE(wait_readable(p.read_end, absl::Milliseconds(30)));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(30));
  ASSERT_EQ(write(p.write_end, "x", 1), 1);
  EXPECT_TRUE(wait_readable(p.read_end, absl::Seconds(5)));
  EXPECT_TRUE(wait_readable(p.read_end));
  EXPECT_TRUE(wait_writable(p.write_end));
}

// --- run_in_thread.

// Both calls must be in their threads at once: each waits (up to a generous bound) for the
// other to arrive, which only happens if the reactor did not wait for the first to return.
TEST(FiberCallsTest, RunInThreadCallsOverlap) {
  std::mutex mutex;
  std::condition_variable arrived;
  int inside = 0;
  auto meet = [&] {
    std::unique_lock<std::mutex> lock(mutex);
    ++inside;
    arrived.notify_all();
    const bool met = arrived.wait_for(lock, std::chrono::seconds(30), [&] { return inside == 2; });
    return std::make_pair(met, std::this_thread::get_id());
  };
  std::pair<bool, std::thread::id> first, second;
  run_tasks({[&] { first = run_in_thread(meet); }, [&] { second = run_in_thread(meet); }});
  EXPECT_TRUE(first.first);
  EXPECT_TRUE(second.first);
  EXPECT_NE(first.second, second.second);
  EXPECT_NE(first.second, std::this_thread::get_id());
}

TEST(FiberCallsTest, RunInThreadRethrowsInTheJob) {
  std::string caught;
  run_tasks({[&] {
    try {
      run_in_thread([]() -> int { throw std::runtime_error("from the thread"); });
    } catch (const std::runtime_error& e) {
      caught = e.what();
    }
  }});
  EXPECT_EQ(caught, "from the thread");
}

TEST(FiberCallsTest, RunInThreadVoidRethrows) {
  bool caught = false;
  run_tasks({[&] {
    try {
      run_in_thread([] { throw std::invalid_argument("void"); });
    } catch (const std::invalid_argument&) {
      caught = true;
    }
  }});
  EXPECT_TRUE(caught);
}

TEST(FiberCallsTest, RunInThreadReturnsMoveOnlyValues) {
  int value = 0;
  run_tasks({[&] {
    std::unique_ptr<int> result = run_in_thread([] { return std::make_unique<int>(42); });
    value = *result;
  }});
  EXPECT_EQ(value, 42);
}

TEST(FiberCallsTest, RunInThreadOutsideAJobCallsDirectly) {
  const auto id = run_in_thread([] { return std::this_thread::get_id(); });
  EXPECT_EQ(id, std::this_thread::get_id());
  EXPECT_THROW(run_in_thread([] { throw std::runtime_error("direct"); }), std::runtime_error);
}

TEST(FiberCallsTest, CancelledDuringRunInThreadUnwindsWhenItReturns) {
  bool work_done = false, after = false;
  std::deque<TestTask> tasks;
  tasks.emplace_back([&] {
    run_in_thread([&] {
      absl::SleepFor(absl::Milliseconds(50));
      work_done = true;
    });
    after = true;
  });
  tasks.emplace_back([&] { Reactor::current()->cancel(tasks[0].task()); });
  Reactor reactor;
  run_tasks_on(reactor, tasks);
  EXPECT_TRUE(work_done);
  EXPECT_FALSE(after);
  EXPECT_TRUE(tasks[0].cancelled());
}

// --- Cancelled.

static_assert(!std::is_base_of_v<std::exception, Cancelled>);

TEST(FiberCallsTest, CancelledSaysJobCancelled) {
  EXPECT_STREQ(Cancelled().what(), "job cancelled");
}

TEST(FiberCallsTest, CancelRunsEveryDestructorBeforeRunReturns) {
  std::string trace;
  bool reached = false;
  std::deque<TestTask> tasks;
  tasks.emplace_back([&] {
    Tracer a{&trace, 'a'};
    auto b = std::make_unique<Tracer>(&trace, 'b');
    [&] {
      Tracer c{&trace, 'c'};
      sleep_for(absl::Hours(1));
      reached = true;
    }();
  });
  tasks.emplace_back([&] {
    yield();
    Reactor::current()->cancel(tasks[0].task());
  });
  Reactor reactor;
  const absl::Time start = absl::Now();
  const auto outcome = run_tasks_on(reactor, tasks);
  EXPECT_EQ(trace, "cba");
  EXPECT_FALSE(reached);
  EXPECT_EQ(outcome.cancelled, 1);
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
}

TEST(FiberCallsTest, StdExceptionHandlerDoesNotCatchCancelled) {
  bool caught_as_std = false;
  std::deque<TestTask> tasks;
  tasks.emplace_back([&] {
    try {
      sleep_for(absl::Hours(1));
    } catch (const std::exception&) {
      caught_as_std = true;
    }
  });
  tasks.emplace_back([&] { Reactor::current()->cancel(tasks[0].task()); });
  Reactor reactor;
  run_tasks_on(reactor, tasks);
  EXPECT_FALSE(caught_as_std);
  EXPECT_TRUE(tasks[0].cancelled());
}

TEST(FiberCallsTest, SwallowingCancelledAndSleepingAgainIsCancelledAgain) {
  int swallowed = 0;
  bool finished_second_sleep = false;
  std::deque<TestTask> tasks;
  tasks.emplace_back([&] {
    for (int i = 0; i < 3; ++i) {
      try {
        sleep_for(absl::Hours(1));
      } catch (...) {
        ++swallowed;
      }
    }
    sleep_for(absl::Hours(1));
    finished_second_sleep = true;
  });
  tasks.emplace_back([&] { Reactor::current()->cancel(tasks[0].task()); });
  Reactor reactor;
  const absl::Time start = absl::Now();
  run_tasks_on(reactor, tasks);
  EXPECT_EQ(swallowed, 3);
  EXPECT_FALSE(finished_second_sleep);
  EXPECT_TRUE(tasks[0].cancelled());
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
}

TEST(FiberCallsTest, EveryCallThrowsCancelledInACancelledJob) {
  Pipe p;
  int thrown = 0;
  run_tasks({[&] {
    Reactor::current()->cancel(Task::current());
    auto expect_cancelled = [&](auto call) {
      try {
        call();
      } catch (const Cancelled&) {
        ++thrown;
      }
    };
    expect_cancelled([] { sleep_for(absl::Milliseconds(1)); });
    expect_cancelled([] { sleep_until(absl::Now()); });
    expect_cancelled([] { yield(); });
    expect_cancelled([&] { wait_readable(p.read_end); });
    expect_cancelled([&] { wait_writable(p.write_end); });
    expect_cancelled([] { run_in_thread([] {}); });
  }});
  EXPECT_EQ(thrown, 6);
}

// A sleep in a destructor that runs while Cancelled unwinds the stack completes: throwing
// there would terminate.
TEST(FiberCallsTest, SleepInADestructorDuringCancellationCompletes) {
  absl::Duration cleanup_slept;
  struct SleepsOnDestruction {
    absl::Duration* slept;
    ~SleepsOnDestruction() {
      const absl::Time start = absl::Now();
      sleep_for(absl::Milliseconds(20));
      *slept = absl::Now() - start;
    }
  };
  std::deque<TestTask> tasks;
  tasks.emplace_back([&] {
    SleepsOnDestruction cleanup{&cleanup_slept};
    sleep_for(absl::Hours(1));
  });
  tasks.emplace_back([&] { Reactor::current()->cancel(tasks[0].task()); });
  Reactor reactor;
  run_tasks_on(reactor, tasks);
  EXPECT_TRUE(tasks[0].cancelled());
  EXPECT_GE(cleanup_slept, absl::Milliseconds(20));
}

TEST(FiberCallsTest, CancelShieldLetsCleanupWait) {
  std::string trace;
  std::deque<TestTask> tasks;
  tasks.emplace_back([&] {
    try {
      sleep_for(absl::Hours(1));
    } catch (const Cancelled&) {
      CancelShield shield;
      sleep_for(absl::Milliseconds(10));
      yield();
      trace += "cleaned ";
      throw;
    }
  });
  tasks.emplace_back([&] { Reactor::current()->cancel(tasks[0].task()); });
  Reactor reactor;
  run_tasks_on(reactor, tasks);
  EXPECT_EQ(trace, "cleaned ");
  EXPECT_TRUE(tasks[0].cancelled());
}

// --- Exception state per fiber (docs/fibers.md, trap 3).

TEST(FiberCallsTest, SuspendingInACatchBlockKeepsEachJobsException) {
  std::vector<std::string> current, rethrown;
  auto body = [&](std::string name) {
    return [&, name] {
      try {
        throw std::runtime_error(name);
      } catch (...) {
        yield();  // the other job throws and catches meanwhile
        try {
          std::rethrow_exception(std::current_exception());
        } catch (const std::exception& e) {
          current.push_back(e.what());
        }
        yield();
        try {
          throw;
        } catch (const std::exception& e) {
          rethrown.push_back(e.what());
        }
      }
    };
  };
  run_tasks({body("A"), body("B")});
  EXPECT_EQ(current, (std::vector<std::string>{"A", "B"}));
  EXPECT_EQ(rethrown, (std::vector<std::string>{"A", "B"}));
}

TEST(FiberCallsTest, JobOutsideACatchBlockSeesNoCurrentException) {
  bool other_saw_exception = true;
  int other_uncaught = -1;
  run_tasks({[&] {
               try {
                 throw std::runtime_error("mine");
               } catch (...) {
                 yield();
                 yield();
               }
             },
             [&] {
               other_saw_exception = std::current_exception() != nullptr;
               other_uncaught = std::uncaught_exceptions();
             }});
  EXPECT_FALSE(other_saw_exception);
  EXPECT_EQ(other_uncaught, 0);
}

}  // namespace
}  // namespace asyncjobs
