// Nested schedulers: a Scheduler is a job with its own window and timeout; cancelling it
// cancels everything inside; failures propagate along the critical flags.

#include <memory>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "absl/time/time.h"
#include "asyncjobs/asyncjobs.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace asyncjobs {
namespace {

using NestingTest = testing::NothingLeftRunning<>;
using testing::SetOnDestruction;
using testing::Boom;
using testing::step;

// Sleeps 10 s; `*unwound` says whether its stack was unwound.
std::shared_ptr<Job> sleeper(bool* unwound, JobOptions options = {}) {
  return make_job(
      [unwound] {
        SetOnDestruction probe(unwound);
        sleep_for(absl::Seconds(10));
      },
      std::move(options));
}

TEST_F(NestingTest, NestedSchedulerRunsAsAJobWithRequirements) {
  std::string trace;
  auto before = step(&trace, "<", 10);
  auto nested = make_scheduler({step(&trace, "a", 20), step(&trace, "b", 10)}, {.label = "nested"});
  nested->require(before);
  auto after = step(&trace, ">", 0, {.required = {nested}});
  Scheduler scheduler{after, nested, before};
  Watch watch;
  EXPECT_TRUE(scheduler.run());
  EXPECT_EQ(trace, "<ba>");
  EXPECT_GE(watch.seconds(), 0.028);
  EXPECT_LT(watch.seconds(), 0.3);
  EXPECT_TRUE(nested->is_done());
  EXPECT_TRUE(nested->result<bool>());
  EXPECT_EQ(nested->why(), "FINE");
}

TEST_F(NestingTest, NestedSchedulerHasItsOwnWindow) {
  std::string trace;
  auto nested = make_scheduler(
      {step(&trace, "a", 40), step(&trace, "b", 40), step(&trace, "c", 40)}, {.jobs_window = 1});
  Scheduler scheduler{nested, step(&trace, "X", 60)};
  Watch watch;
  EXPECT_TRUE(scheduler.run());
  EXPECT_EQ(trace, "aXbc");
  EXPECT_GE(watch.seconds(), 0.115);
  EXPECT_LT(watch.seconds(), 0.4);
}

TEST_F(NestingTest, NestedTimeoutFailsOnlyTheNestedScheduler) {
  bool unwound = false;
  auto slow = sleeper(&unwound);
  auto nested = make_scheduler({slow}, {.critical = false, .timeout = absl::Milliseconds(50)});
  std::string trace;
  Scheduler scheduler{nested, step(&trace, "after", 0, {.required = {nested}})};
  Watch watch;
  EXPECT_TRUE(scheduler.run());
  EXPECT_LT(watch.seconds(), 0.5);
  EXPECT_EQ(trace, "after");
  EXPECT_TRUE(unwound);
  EXPECT_TRUE(slow->is_cancelled());
  EXPECT_TRUE(nested->failed_time_out());
  EXPECT_EQ(nested->why(), "TIMED OUT after 0.05s");
  EXPECT_FALSE(nested->result<bool>());
}

TEST_F(NestingTest, CriticalNestedTimeoutBecomesATimeoutErrorInTheParent) {
  bool unwound = false;
  auto nested = make_scheduler({sleeper(&unwound)}, {.timeout = absl::Milliseconds(50)});
  Scheduler scheduler{nested};
  EXPECT_THROW(scheduler.run(), TimeoutError);
  EXPECT_TRUE(unwound);
  EXPECT_TRUE(nested->is_done());
  EXPECT_THROW(nested->result(), TimeoutError);
  EXPECT_TRUE(scheduler.failed_critical());
  EXPECT_FALSE(scheduler.failed_time_out());
}

TEST_F(NestingTest, ParentTimeoutCancelsEveryJobInsideBeforeRunReturns) {
  bool inner_unwound = false, deeper_unwound = false;
  auto inner_job = sleeper(&inner_unwound);
  auto deeper_job = sleeper(&deeper_unwound);
  auto deeper = make_scheduler({deeper_job}, {.label = "deeper"});
  auto nested = make_scheduler({inner_job, deeper}, {.label = "nested"});
  Scheduler scheduler({nested}, {.critical = false, .timeout = absl::Milliseconds(50)});
  Watch watch;
  EXPECT_FALSE(scheduler.run());
  EXPECT_GE(watch.seconds(), 0.045);
  EXPECT_LT(watch.seconds(), 0.5);
  EXPECT_TRUE(inner_unwound);
  EXPECT_TRUE(deeper_unwound);
  EXPECT_TRUE(inner_job->is_cancelled());
  EXPECT_TRUE(deeper_job->is_cancelled());
  EXPECT_TRUE(deeper->is_cancelled());
  EXPECT_TRUE(nested->is_cancelled());
  EXPECT_FALSE(nested->is_done());
}

TEST_F(NestingTest, SiblingCriticalFailureCancelsTheNestedScheduler) {
  bool unwound = false;
  auto inner_job = sleeper(&unwound);
  auto nested = make_scheduler({inner_job});
  auto failing = make_job([] {
    sleep_for(absl::Milliseconds(30));
    throw Boom("sibling");
  });
  Scheduler scheduler({nested, failing}, {.critical = false});
  EXPECT_FALSE(scheduler.run());
  EXPECT_TRUE(unwound);
  EXPECT_TRUE(inner_job->is_cancelled());
  EXPECT_TRUE(nested->is_cancelled());
  EXPECT_TRUE(scheduler.failed_critical());
}

TEST_F(NestingTest, EndOfForeverJobsCancelsANestedForeverScheduler) {
  bool unwound = false;
  auto inner_job = sleeper(&unwound);
  auto nested = make_scheduler({inner_job}, {.forever = true});
  std::string trace;
  Scheduler scheduler{nested, step(&trace, "work", 50)};
  Watch watch;
  EXPECT_TRUE(scheduler.run());
  EXPECT_GE(watch.seconds(), 0.045);
  EXPECT_LT(watch.seconds(), 0.5);
  EXPECT_EQ(trace, "work");
  EXPECT_TRUE(unwound);
  EXPECT_TRUE(inner_job->is_cancelled());
  EXPECT_TRUE(nested->is_cancelled());
}

TEST_F(NestingTest, ForeverJobsInsideANestedSchedulerEndWithIt) {
  bool unwound = false;
  auto ticker = sleeper(&unwound, {.forever = true});
  std::string trace;
  auto nested = make_scheduler({ticker, step(&trace, "inner", 30)});
  Scheduler scheduler{nested, step(&trace, "outer", 60)};
  EXPECT_TRUE(scheduler.run());
  EXPECT_EQ(trace, "innerouter");
  EXPECT_TRUE(unwound);
  EXPECT_TRUE(ticker->is_cancelled());
  EXPECT_TRUE(nested->is_done());
}

TEST_F(NestingTest, NestedRunFromInsideAJobUsesTheSameReactorAndTiming) {
  std::string trace;
  auto a = step(&trace, "a", 30);
  auto b = step(&trace, "b", 50);
  auto nested = make_scheduler({a, b});
  Scheduler scheduler{nested, step(&trace, "c", 40)};
  Watch watch;
  EXPECT_TRUE(scheduler.run());
  EXPECT_EQ(trace, "acb");  // interleaved on one reactor
  EXPECT_GE(watch.seconds(), 0.045);
  EXPECT_LT(watch.seconds(), 0.2);  // all three overlapped
}

// --- Truth table: outer critical x inner critical x job critical, the job raising.

struct Flags {
  bool outer_critical, inner_critical, job_critical;
};

class NestingTruthTable : public testing::NothingLeftRunning<::testing::TestWithParam<Flags>> {};

TEST_P(NestingTruthTable, JobRaisingInsideANestedScheduler) {
  const Flags flags = GetParam();
  auto failing = make_job([]() -> int { throw Boom("inner job"); },
                          {.label = "failing", .critical = flags.job_critical});
  bool unwound = false;
  auto inner_sibling = sleeper(&unwound);
  auto inner = make_scheduler({failing, inner_sibling},
                              {.label = "inner", .critical = flags.inner_critical});
  std::string trace;
  auto outer_next = step(&trace, "next", 0, {.required = {inner}});
  Scheduler outer({inner, outer_next}, {.label = "outer", .critical = flags.outer_critical});

  if (!flags.job_critical) {
    // Nothing fails critically: a forever sibling lets the inner run end once `failing` is.
    inner_sibling->set_forever(true);
  }
  Watch watch;
  bool ok = false;
  bool threw_boom = false;
  try {
    ok = outer.run();
  } catch (const Boom& error) {
    threw_boom = true;
    EXPECT_STREQ(error.what(), "inner job");
  }
  EXPECT_LT(watch.seconds(), 1.0);
  EXPECT_TRUE(unwound);  // cancelled one way or another, before run() returned

  if (!flags.job_critical) {
    EXPECT_TRUE(ok);
    EXPECT_FALSE(threw_boom);
    EXPECT_FALSE(inner->failed_critical());
    EXPECT_EQ(trace, "next");
  } else if (!flags.inner_critical) {
    // The inner run failed but returned false, so the outer job is done fine.
    EXPECT_TRUE(ok);
    EXPECT_FALSE(threw_boom);
    EXPECT_TRUE(inner->failed_critical());
    EXPECT_FALSE(outer.failed_critical());
    EXPECT_FALSE(inner->result<bool>());
    EXPECT_EQ(trace, "next");
  } else {
    // The inner scheduler raised the job's exception as a critical job of the outer.
    EXPECT_TRUE(inner->failed_critical());
    EXPECT_TRUE(outer.failed_critical());
    EXPECT_THROW(inner->result(), Boom);
    EXPECT_EQ(trace, "");
    if (flags.outer_critical) {
      EXPECT_TRUE(threw_boom);
    } else {
      EXPECT_FALSE(threw_boom);
      EXPECT_FALSE(ok);
    }
  }
}

std::string flags_name(const ::testing::TestParamInfo<Flags>& info) {
  auto word = [](bool critical) { return critical ? "Critical" : "NonCritical"; };
  return std::string("Outer") + word(info.param.outer_critical) + "Inner" +
         word(info.param.inner_critical) + "Job" + word(info.param.job_critical);
}

INSTANTIATE_TEST_SUITE_P(AllCombinations, NestingTruthTable,
                         ::testing::Values(Flags{true, true, true}, Flags{true, true, false},
                                           Flags{true, false, true}, Flags{true, false, false},
                                           Flags{false, true, true}, Flags{false, true, false},
                                           Flags{false, false, true}, Flags{false, false, false}),
                         flags_name);

}  // namespace
}  // namespace asyncjobs
