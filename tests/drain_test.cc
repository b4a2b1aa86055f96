// SchedulerOptions::drain_on_signals: a first real SIGINT drains the run (what runs
// finishes, nothing new starts, the run ends cancelled), a second one cancels.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <string>

#include "absl/time/clock.h"
#include "asyncjobs/asyncjobs.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace aj = asyncjobs;

namespace {

class DrainTest : public aj::testing::NothingLeftRunning<> {
 protected:
  void SetUp() override { sigaction(SIGINT, nullptr, &before_); }
  void TearDown() override {
    struct sigaction after {};
    sigaction(SIGINT, nullptr, &after);
    EXPECT_EQ(after.sa_handler, before_.sa_handler) << "the previous handler is back";
    aj::testing::NothingLeftRunning<>::TearDown();
  }

  // Sends SIGINT to this thread (its handler runs before raise returns), then lets the
  // loop turn once by waiting for a pipe that is already readable: the loop sees the fd,
  // handles the interrupt the handler made, and only then resumes this job.
  void signal_and_let_the_loop_see_it() {
    raise(SIGINT);
    aj::wait_readable(ready_.read_end);
  }

  aj::JobOptions labelled(std::string label) {
    aj::JobOptions options;
    options.label = std::move(label);
    return options;
  }

  struct sigaction before_ {};
  aj::testing::Pipe ready_;  // made readable by each test
};

TEST_F(DrainTest, FirstSignalLetsRunningJobsFinishAndStartsNothingNew) {
  ASSERT_EQ(write(ready_.write_end, "x", 1), 1);
  aj::Event go;
  bool running_after_drain = false;
  auto running = aj::make_job(
      [&go] {
        go.wait();
        return 7;
      },
      labelled("running"));
  auto trigger = aj::make_job(
      [&] {
        signal_and_let_the_loop_see_it();
        running_after_drain = running->is_running();
        go.set();
      },
      labelled("trigger"));
  auto successor = aj::make_job([] {}, labelled("successor"));
  successor->require(trigger);
  auto waiting = aj::make_job([] {}, labelled("waiting for a slot"));
  aj::Scheduler scheduler({running, trigger, successor, waiting},
                          {.critical = false, .jobs_window = 2, .drain_on_signals = {SIGINT}});
  EXPECT_FALSE(scheduler.run());
  EXPECT_EQ(scheduler.why(), "CANCELLED");
  EXPECT_TRUE(running_after_drain);
  EXPECT_TRUE(running->is_done());
  EXPECT_EQ(running->result<int>(), 7);
  EXPECT_TRUE(trigger->is_done());
  EXPECT_EQ(successor->attempts(), 0);
  EXPECT_FALSE(successor->is_done());
  EXPECT_EQ(waiting->attempts(), 0);
  EXPECT_FALSE(waiting->is_done());
}

TEST_F(DrainTest, CriticalSchedulerThrowsRunCancelledAfterADrain) {
  ASSERT_EQ(write(ready_.write_end, "x", 1), 1);
  auto trigger = aj::make_job([&] { signal_and_let_the_loop_see_it(); }, labelled("trigger"));
  auto successor = aj::make_job([] {}, labelled("successor"));
  successor->require(trigger);
  aj::Scheduler scheduler({trigger, successor}, {.drain_on_signals = {SIGINT}});
  EXPECT_THROW(scheduler.run(), aj::RunCancelled);
  EXPECT_EQ(scheduler.why(), "CANCELLED");
  EXPECT_FALSE(successor->is_done());
}

TEST_F(DrainTest, SecondSignalCancelsWhatStillRuns) {
  ASSERT_EQ(write(ready_.write_end, "x", 1), 1);
  aj::Event never;
  bool unwound = false, running_after_first = false;
  auto stubborn = aj::make_job(
      [&] {
        aj::testing::SetOnDestruction mark(&unwound);
        never.wait(absl::Seconds(60));
      },
      labelled("stubborn"));
  auto trigger = aj::make_job(
      [&] {
        signal_and_let_the_loop_see_it();
        running_after_first = stubborn->is_running();
        raise(SIGINT);
      },
      labelled("trigger"));
  aj::Scheduler scheduler({stubborn, trigger},
                          {.critical = false, .drain_on_signals = {SIGINT, SIGTERM}});
  const absl::Time start = absl::Now();
  EXPECT_FALSE(scheduler.run());
  EXPECT_LT(absl::Now() - start, absl::Seconds(30));
  EXPECT_EQ(scheduler.why(), "CANCELLED");
  EXPECT_TRUE(running_after_first);
  EXPECT_TRUE(stubborn->is_cancelled());
  EXPECT_TRUE(unwound);
}

TEST_F(DrainTest, NestedSchedulersAreDrainedToo) {
  ASSERT_EQ(write(ready_.write_end, "x", 1), 1);
  aj::Event go;
  auto inner_running = aj::make_job([&go] { go.wait(); }, labelled("inner running"));
  auto inner_next = aj::make_job([] {}, labelled("inner next"));
  inner_next->require(inner_running);
  auto inner = aj::make_scheduler({inner_running, inner_next}, {.label = "inner"});
  auto trigger = aj::make_job(
      [&] {
        signal_and_let_the_loop_see_it();
        go.set();
      },
      labelled("trigger"));
  aj::Scheduler scheduler({inner, trigger}, {.critical = false, .drain_on_signals = {SIGINT}});
  EXPECT_FALSE(scheduler.run());
  EXPECT_EQ(scheduler.why(), "CANCELLED");
  EXPECT_TRUE(inner_running->is_done());
  EXPECT_EQ(inner_next->attempts(), 0);
  EXPECT_TRUE(inner->is_cancelled());
  EXPECT_EQ(inner->why(), "CANCELLED");
}

TEST_F(DrainTest, EachSignalDoesWhatItsListSays) {
  // SIGUSR1 drains, SIGUSR2 would cancel: a SIGUSR1 must not cancel the running job.
  ASSERT_EQ(write(ready_.write_end, "x", 1), 1);
  aj::Event go;
  auto running = aj::make_job([&go] { go.wait(); }, labelled("running"));
  auto trigger = aj::make_job(
      [&] {
        raise(SIGUSR1);
        aj::wait_readable(ready_.read_end);
        go.set();
      },
      labelled("trigger"));
  auto successor = aj::make_job([] {}, labelled("successor"));
  successor->require(trigger);
  aj::Scheduler scheduler(
      {running, trigger, successor},
      {.critical = false, .cancel_on_signals = {SIGUSR2}, .drain_on_signals = {SIGUSR1}});
  EXPECT_FALSE(scheduler.run());
  EXPECT_EQ(scheduler.why(), "CANCELLED");
  EXPECT_TRUE(running->is_done());
  EXPECT_FALSE(running->is_cancelled());
  EXPECT_FALSE(successor->is_done());
}

}  // namespace
