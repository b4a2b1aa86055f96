// What a run must survive: jobs that refuse to stop, shutdowns that raise, the graph changed
// during a run, and a scheduler on the stack seen by iterate_jobs.

#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>

#include "absl/time/clock.h"
#include "asyncjobs/asyncjobs.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace asyncjobs {
namespace {

using ReliabilityTest = testing::NothingLeftRunning<>;

// A forever job that swallows every Cancelled around its sleeps.
std::shared_ptr<Job> stubborn(int* catches) {
  return make_job(
      [catches] {
        for (;;) {
          try {
            sleep_for(absl::Milliseconds(1));
          } catch (...) {
            ++*catches;
          }
        }
      },
      {.label = "stubborn", .forever = true});
}

TEST_F(ReliabilityTest, AJobThatSwallowsCancelledIsAbandonedAfterTheShutdownTimeout) {
  int catches = 0;
  std::string trace;
  auto job = stubborn(&catches);
  Scheduler scheduler({job, testing::step(&trace, "work", 10)},
                      {.shutdown_timeout = absl::Milliseconds(200)});
  const absl::Time start = absl::Now();
  ::testing::internal::CaptureStderr();
  EXPECT_TRUE(scheduler.run());
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_LT(absl::Now() - start, absl::Seconds(20));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(200));
  EXPECT_EQ(trace, "work");
  EXPECT_GT(catches, 0);
  EXPECT_TRUE(job->is_abandoned());
  EXPECT_TRUE(job->is_cancelled());
  EXPECT_NE(err.find("job `stubborn`"), std::string::npos) << err;
  std::ostringstream debrief;
  scheduler.debrief(false, debrief);
  EXPECT_NE(debrief.str().find("[abandoned: refused to stop]"), std::string::npos)
      << debrief.str();
  EXPECT_NE(debrief.str().find("abandoned: stubborn"), std::string::npos) << debrief.str();
  // While it refused, it did not starve the loop: other jobs went on (the run ended).
}

TEST_F(ReliabilityTest, AStubbornJobDoesNotStarveTheOthersOnATimeout) {
  int catches = 0;
  int ticks = 0;
  auto ticker = make_job([&] {
    for (;;) {
      ++ticks;
      sleep_for(absl::Milliseconds(5));
    }
  });
  Scheduler scheduler({stubborn(&catches), ticker},
                      {.critical = false,
                       .timeout = absl::Milliseconds(50),
                       .shutdown_timeout = absl::Milliseconds(100)});
  ::testing::internal::CaptureStderr();
  EXPECT_FALSE(scheduler.run());
  ::testing::internal::GetCapturedStderr();
  EXPECT_TRUE(scheduler.failed_time_out());
  EXPECT_GT(ticks, 0);
  EXPECT_TRUE(ticker->is_cancelled());
  EXPECT_FALSE(ticker->is_abandoned());
}

TEST_F(ReliabilityTest, ACoShutdownThatRaisesIsReported) {
  auto job = make_job([] {}, [] { throw std::runtime_error("cannot release"); },
                      {.label = "leaky"});
  Scheduler scheduler{job};
  ::testing::internal::CaptureStdout();
  EXPECT_TRUE(scheduler.run());  // the run itself went well
  ::testing::internal::GetCapturedStdout();
  EXPECT_FALSE(scheduler.shutdown());
  ASSERT_EQ(scheduler.shutdown_errors().size(), 1u);
  EXPECT_EQ(scheduler.shutdown_errors()[0].label, "leaky");
  std::ostringstream debrief;
  scheduler.debrief(false, debrief);
  EXPECT_NE(debrief.str().find("shutdown: leaky: exception runtime_error:cannot release"),
            std::string::npos)
      << debrief.str();
}

TEST_F(ReliabilityTest, IterateJobsOnASchedulerOnTheStackIncludesItself) {
  auto a = make_job([] {});
  auto nested = make_scheduler({make_job([] {})});
  Scheduler scheduler{a, nested};
  const std::vector<JobPtr> all = scheduler.iterate_jobs(/*scan_schedulers=*/true);
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[0].get(), &scheduler);
  EXPECT_EQ(all[1], a);
  EXPECT_EQ(all[2], nested);
}

TEST_F(ReliabilityTest, RemovingFromARunningSchedulerThrows) {
  auto a = make_job([] {});
  Scheduler scheduler({.critical = false});
  bool threw = false;
  scheduler.add(a);
  scheduler.add(make_job([&] {
    try {
      scheduler.remove(a);
    } catch (const GraphError&) {
      threw = true;
    }
  }));
  EXPECT_TRUE(scheduler.run());
  EXPECT_TRUE(threw);
  EXPECT_EQ(scheduler.size(), 2u);
}

}  // namespace
}  // namespace asyncjobs
