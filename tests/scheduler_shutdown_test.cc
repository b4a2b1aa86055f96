// Scheduler::shutdown: co_shutdown() of every job, nested ones included, once, concurrently,
// within shutdown_timeout, at the end of every run.

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "asyncjobs/asyncjobs.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace asyncjobs {
namespace {

using ShutdownTest = testing::NothingLeftRunning<>;
using testing::SetOnDestruction;

// A job that sleeps `run_ms` in co_run (raising if `raise`) and `shutdown_ms` in co_shutdown,
// appending its label to `*trace` when co_shutdown starts.
class Tidy : public AbstractJob {
 public:
  Tidy(std::string* trace, std::string label, int run_ms, int shutdown_ms = 0,
       bool raise = false)
      : AbstractJob({.label = std::move(label)}),
        trace_(trace),
        run_ms_(run_ms),
        shutdown_ms_(shutdown_ms),
        raise_(raise) {}
  Value co_run() override {
    sleep_for(absl::Milliseconds(run_ms_));
    if (raise_) throw std::runtime_error("tidy raised");
    return {};
  }
  void co_shutdown() override {
    ++shutdowns;
    *trace_ += label();
    if (shutdown_ms_ > 0) sleep_for(absl::Milliseconds(shutdown_ms_));
  }
  int shutdowns = 0;

 private:
  std::string* trace_;
  int run_ms_, shutdown_ms_;
  bool raise_;
};

std::shared_ptr<Tidy> tidy(std::string* trace, std::string label, int run_ms,
                           int shutdown_ms = 0, bool raise = false) {
  return std::make_shared<Tidy>(trace, std::move(label), run_ms, shutdown_ms, raise);
}

TEST_F(ShutdownTest, EveryJobIsShutDownOnceAfterASuccessfulRun) {
  std::string trace;
  auto a = tidy(&trace, "a", 10), b = tidy(&trace, "b", 0);
  b->require(a);
  Scheduler scheduler{a, b};
  EXPECT_TRUE(scheduler.run());
  EXPECT_EQ(trace, "ab");
  EXPECT_EQ(a->shutdowns, 1);
  EXPECT_EQ(b->shutdowns, 1);
}

TEST_F(ShutdownTest, EveryJobIsShutDownAfterACriticalFailure) {
  std::string trace;
  auto failing = tidy(&trace, "f", 10, 0, /*raise=*/true);
  auto running = tidy(&trace, "r", 10000);
  auto idle = tidy(&trace, "i", 0);
  idle->require(failing);
  Scheduler scheduler({failing, running, idle}, {.critical = false});
  EXPECT_FALSE(scheduler.run());
  EXPECT_EQ(trace, "fri");
  EXPECT_EQ(failing->shutdowns + running->shutdowns + idle->shutdowns, 3);
  EXPECT_TRUE(idle->is_idle());
}

TEST_F(ShutdownTest, EveryJobIsShutDownAfterATimeout) {
  std::string trace;
  auto slow = tidy(&trace, "s", 10000);
  Scheduler scheduler({slow}, {.critical = false, .timeout = absl::Milliseconds(30)});
  EXPECT_FALSE(scheduler.run());
  EXPECT_EQ(slow->shutdowns, 1);
}

TEST_F(ShutdownTest, ShutdownAfterACriticalSchedulerThrows) {
  std::string trace;
  auto failing = tidy(&trace, "f", 0, 0, /*raise=*/true);
  Scheduler scheduler{failing};
  EXPECT_THROW(scheduler.run(), std::runtime_error);
  EXPECT_EQ(failing->shutdowns, 1);
}

TEST_F(ShutdownTest, ShutdownAfterAZeroTimeoutReachesNestedJobs) {
  std::string trace;
  auto inner = tidy(&trace, "i", 0);
  auto outer = tidy(&trace, "o", 0);
  auto nested = make_scheduler({inner});
  Scheduler scheduler({outer, nested}, {.critical = false, .timeout = absl::ZeroDuration()});
  EXPECT_FALSE(scheduler.run());
  EXPECT_EQ(inner->shutdowns, 1);
  EXPECT_EQ(outer->shutdowns, 1);
}

TEST_F(ShutdownTest, NestedJobsAreShutDownOnceInnermostFirst) {
  std::string trace;
  // The outer job ends first, but the nested scheduler shuts its own jobs down when its run
  // ends, before the outer one does.
  auto inner = tidy(&trace, "i", 30);
  auto deepest = tidy(&trace, "d", 10);
  auto outer = tidy(&trace, "o", 0);
  auto deeper = make_scheduler({deepest});
  auto nested = make_scheduler({inner, deeper});
  Scheduler scheduler{outer, nested};
  EXPECT_TRUE(scheduler.run());
  EXPECT_EQ(trace, "dio");
  EXPECT_EQ(inner->shutdowns, 1);
  EXPECT_EQ(deepest->shutdowns, 1);
  EXPECT_EQ(outer->shutdowns, 1);
}

TEST_F(ShutdownTest, CallingShutdownAgainDoesNothing) {
  std::string trace;
  auto a = tidy(&trace, "a", 0);
  auto nested_job = tidy(&trace, "n", 0);
  auto nested = make_scheduler({nested_job});
  Scheduler scheduler{a, nested};
  EXPECT_TRUE(scheduler.run());
  EXPECT_TRUE(scheduler.shutdown());
  EXPECT_TRUE(nested->shutdown());
  EXPECT_EQ(a->shutdowns, 1);
  EXPECT_EQ(nested_job->shutdowns, 1);
  EXPECT_EQ(trace, "na");
}

TEST_F(ShutdownTest, ShutdownsRunConcurrently) {
  std::string trace;
  Scheduler scheduler{tidy(&trace, "a", 0, 100), tidy(&trace, "b", 0, 100),
                      tidy(&trace, "c", 0, 100)};
  Watch watch;
  EXPECT_TRUE(scheduler.run());
  EXPECT_GE(watch.seconds(), 0.095);  // run() waits for the shutdowns
  EXPECT_LT(watch.seconds(), 0.25);   // not 0.3: together
  EXPECT_EQ(trace, "abc");
}

TEST_F(ShutdownTest, LateShutdownsAreCancelled) {
  bool unwound = false;
  class Stuck : public AbstractJob {
   public:
    explicit Stuck(bool* unwound) : unwound_(unwound) {}
    Value co_run() override { return {}; }
    void co_shutdown() override {
      SetOnDestruction probe(unwound_);
      sleep_for(absl::Seconds(10));
    }

   private:
    bool* unwound_;
  };
  Scheduler scheduler({std::make_shared<Stuck>(&unwound)},
                      {.shutdown_timeout = absl::Milliseconds(50)});
  Watch watch;
  EXPECT_TRUE(scheduler.run());  // the run itself went fine
  EXPECT_GE(watch.seconds(), 0.045);
  EXPECT_LT(watch.seconds(), 0.5);
  EXPECT_TRUE(unwound);
  EXPECT_FALSE(scheduler.shutdown());  // the recorded outcome: not all in time
}

TEST_F(ShutdownTest, ExplicitShutdownWithoutARun) {
  std::string trace;
  auto a = tidy(&trace, "a", 0, 20);
  Scheduler scheduler{a};
  EXPECT_TRUE(scheduler.shutdown());
  EXPECT_EQ(a->shutdowns, 1);
  EXPECT_TRUE(a->is_idle());
}

// Counts itself up when it runs and down in co_shutdown, once that took `shutdown_ms`, only
// if it is done.
class Counting : public AbstractJob {
 public:
  Counting(int* counter, int shutdown_ms) : counter_(counter), shutdown_ms_(shutdown_ms) {}
  Value co_run() override {
    ++*counter_;
    return {};
  }
  void co_shutdown() override {
    sleep_for(absl::Milliseconds(shutdown_ms_));
    if (is_done()) --*counter_;
  }

 private:
  int* counter_;
  int shutdown_ms_;
};

struct CountingCase {
  int shutdown_timeout_ms;
  int left;
};

class ShutdownCountingTest
    : public testing::NothingLeftRunning<::testing::TestWithParam<CountingCase>> {};

TEST_P(ShutdownCountingTest, TwoPipesOfFour) {
  const CountingCase param = GetParam();
  int counter = 0;
  auto pipe = [&](int shutdown_ms) {
    return Sequence{std::make_shared<Counting>(&counter, shutdown_ms),
                    std::make_shared<Counting>(&counter, shutdown_ms),
                    std::make_shared<Counting>(&counter, shutdown_ms),
                    std::make_shared<Counting>(&counter, shutdown_ms)};
  };
  Scheduler scheduler({pipe(100), pipe(500)},
                      {.shutdown_timeout = absl::Milliseconds(param.shutdown_timeout_ms)});
  Watch watch;
  EXPECT_TRUE(scheduler.run());
  EXPECT_EQ(counter, param.left);
  const double expected = std::min(param.shutdown_timeout_ms, 500) * 0.001;
  EXPECT_GE(watch.seconds(), expected - 0.005);
  EXPECT_LT(watch.seconds(), expected * 2 + 0.1);
}

INSTANTIATE_TEST_SUITE_P(ShutdownTimeouts, ShutdownCountingTest,
                         ::testing::Values(CountingCase{50, 8}, CountingCase{200, 4},
                                           CountingCase{700, 0}),
                         [](const auto& info) {
                           return "Timeout" + std::to_string(info.param.shutdown_timeout_ms) +
                                  "ms";
                         });

}  // namespace
}  // namespace asyncjobs
