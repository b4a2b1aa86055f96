// The debug checks on a job's life and a run's counters: a move a job cannot make, or a
// counter that would go below zero or past the member count, aborts a debug build (the
// default fastbuild and the sanitizer configs) with the check's message. With NDEBUG the
// checks compile to nothing, so there is nothing to test: the file then holds no test.
#include <gtest/gtest.h>

#include "asyncjobs/asyncjobs.h"
#include "asyncjobs/internal/jobs/job_run_control.h"
#include "asyncjobs/internal/scheduler/run_state.h"

namespace asyncjobs {
namespace {

using internal::JobRunControl;
using internal::RunState;

#ifndef NDEBUG

class StateChecksTest : public ::testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

TEST_F(StateChecksTest, ADoneJobCannotBeScheduledAgain) {
  auto job = make_job([] { return 1; });
  EXPECT_EQ(job->standalone_run().has_value(), true);
  ASSERT_TRUE(job->is_done());
  EXPECT_DEATH(JobRunControl::schedule(*job), "a job moved to a state it cannot reach");
}

TEST_F(StateChecksTest, ADoneJobCannotBeRestored) {
  auto job = make_job([] {});
  job->standalone_run();
  EXPECT_DEATH(JobRunControl::restore(*job, Value(1), 0), "cannot reach");
}

TEST_F(StateChecksTest, AScheduledJobCannotBeScheduledOrRestoredAgain) {
  auto job = make_job([] {});
  JobRunControl::schedule(*job);  // idle -> scheduled: legal
  EXPECT_TRUE(job->is_scheduled());
  EXPECT_DEATH(JobRunControl::schedule(*job), "cannot reach");
  EXPECT_DEATH(JobRunControl::restore(*job, Value(1), 0), "cannot reach");
}

TEST_F(StateChecksTest, AnIdleJobMayBeRestored) {
  auto job = make_job([] { return 2; });
  JobRunControl::restore(*job, Value(7), 0);
  EXPECT_TRUE(job->is_done());
  EXPECT_TRUE(job->restored());
  EXPECT_EQ(job->result<int>(), 7);
}

TEST_F(StateChecksTest, RunningCountCannotGoNegative) {
  RunState run;
  run.begin(2);
  run.job_started();
  run.job_ended();
  EXPECT_DEATH(run.job_ended(), "a job ended that was not counted as running");
}

TEST_F(StateChecksTest, RunningCountCannotPassTheMembers) {
  RunState run;
  run.begin(1);
  run.job_started();
  EXPECT_DEATH(run.job_started(), "more jobs running than the scheduler holds");
}

TEST_F(StateChecksTest, AwaitedCountCannotGoNegativeNorPassTheMembers) {
  RunState run;
  run.begin(2);
  EXPECT_DEATH(run.await(3), "more jobs awaited than the scheduler holds");
  run.await(1);
  run.awaited_abandoned();
  EXPECT_EQ(run.abandoned(), 1u);
  EXPECT_DEATH(run.awaited_done(), "a job was done that the run did not await");
}

TEST_F(StateChecksTest, TheOutcomeIsDecidedOnce) {
  RunState run;
  run.failed_time_out = true;
  EXPECT_EQ(run.conclude(), RunOutcome::kTimedOut);
  EXPECT_DEATH(run.conclude(), "a run's outcome decided twice");
}

#endif  // NDEBUG

}  // namespace
}  // namespace asyncjobs
