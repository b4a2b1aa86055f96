// Job control: cancel() on jobs, sequences and schedulers, request_cancel() from another
// thread and from a signal, per-job timeouts and retries, settable options.

#include <signal.h>

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "asyncjobs/asyncjobs.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace asyncjobs {
namespace {

using JobControlTest = testing::NothingLeftRunning<>;
using testing::Boom;
using testing::SetOnDestruction;
using testing::step;

// --- cancel()

TEST_F(JobControlTest, CancelBeforeRunKeepsAnIdleJobAndItsSuccessorsFromStarting) {
  std::string trace;
  auto a = step(&trace, "a", 0);
  auto b = step(&trace, "b", 0);
  auto c = step(&trace, "c", 0);
  auto d = step(&trace, "d", 0);
  b->require(a);
  c->require(b);
  Scheduler scheduler{a, b, c, d};
  b->cancel();
  EXPECT_TRUE(b->is_cancelled());
  EXPECT_FALSE(scheduler.run());  // critical, yet nothing thrown for a cancellation
  EXPECT_EQ(trace, "ad");
  EXPECT_EQ(b->attempts(), 0);
  EXPECT_TRUE(b->is_cancelled());
  EXPECT_TRUE(c->is_cancelled());
  EXPECT_FALSE(c->is_done());
  EXPECT_EQ(scheduler.why(), "2 job(s) could not complete: cancelled");
  EXPECT_FALSE(scheduler.failed_critical());
}

// A nested scheduler starts after jobs of its parent have run: what starts is decided then,
// not when the parent's run linked it, so a member they cancel in the meantime does not
// start and a job they add does.
TEST_F(JobControlTest, ANestedSchedulerStartsWhatItHoldsWhenItStarts) {
  std::string trace;
  auto x = step(&trace, "x", 0);
  auto y = step(&trace, "y", 0);
  auto z = step(&trace, "z", 0);
  auto nested = make_scheduler({x, y}, {.critical = false});
  auto changer = make_job([&trace, &x, &z, &nested] {
    trace += "c";
    x->cancel();
    nested->add(z);
  });
  nested->require(changer);
  Scheduler outer({changer, nested}, {.critical = false});
  outer.run();
  EXPECT_EQ(trace, "cyz");
  EXPECT_TRUE(x->is_cancelled());
  EXPECT_EQ(x->attempts(), 0);
  EXPECT_TRUE(z->is_done());
}

TEST_F(JobControlTest, CancelARunningJobUnwindsItsStack) {
  std::string trace;
  bool unwound = false;
  auto sleeper = make_job(
      [&] {
        SetOnDestruction guard(&unwound);
        sleep_for(absl::Seconds(60));
        trace += "never";
      },
      {.label = "sleeper"});
  auto after = step(&trace, "after", 0, {.required = {sleeper}});
  auto canceller = make_job([&] {
    sleep_for(absl::Milliseconds(20));
    EXPECT_TRUE(sleeper->is_running());
    sleeper->cancel();
    trace += "x";
  });
  Scheduler scheduler{sleeper, after, canceller};
  const absl::Time start = absl::Now();
  EXPECT_FALSE(scheduler.run());
  EXPECT_LT(absl::Now() - start, absl::Seconds(30));
  EXPECT_TRUE(unwound);
  EXPECT_EQ(trace, "x");
  EXPECT_TRUE(sleeper->is_cancelled());
  EXPECT_FALSE(sleeper->is_done());
  EXPECT_EQ(scheduler.why(), "2 job(s) could not complete: cancelled");
  std::ostringstream listing;
  scheduler.list(false, listing);
  EXPECT_NE(listing.str().find("<Job `sleeper`> [cancelled]"), std::string::npos)
      << listing.str();
}

TEST_F(JobControlTest, CancelAJobWaitingForAWindowSlot) {
  std::string trace;
  auto first = step(&trace, "1", 50);
  auto second = step(&trace, "2", 0);
  auto third = step(&trace, "3", 0);
  first->require();  // no-op: keeps the three independent
  auto canceller = make_job([&] {
    EXPECT_TRUE(second->is_scheduled());
    second->cancel();
  });
  // Window 2: `first` and `canceller` run, `second` and `third` wait for a slot.
  Scheduler scheduler({first, canceller, second, third}, {.jobs_window = 2});
  EXPECT_FALSE(scheduler.run());
  EXPECT_EQ(trace, "31");
  EXPECT_TRUE(second->is_cancelled());
  EXPECT_EQ(scheduler.why(), "1 job(s) could not complete: cancelled");
}

TEST_F(JobControlTest, CancelANestedSchedulerCancelsEverythingInIt) {
  std::string trace;
  bool unwound = false;
  auto inner_sleeper = make_job([&] {
    SetOnDestruction guard(&unwound);
    sleep_for(absl::Seconds(60));
  });
  auto inner_next = step(&trace, "n", 0, {.required = {inner_sleeper}});
  auto nested = make_scheduler({inner_sleeper, inner_next}, {.label = "nested"});
  auto after = step(&trace, "after", 0, {.required = {nested}});
  auto canceller = make_job([&] {
    sleep_for(absl::Milliseconds(20));
    nested->cancel();
  });
  Scheduler scheduler{nested, after, canceller};
  EXPECT_FALSE(scheduler.run());
  EXPECT_TRUE(unwound);
  EXPECT_EQ(trace, "");
  EXPECT_TRUE(nested->is_cancelled());
  EXPECT_TRUE(inner_sleeper->is_cancelled());
  EXPECT_TRUE(inner_next->is_cancelled());
  EXPECT_TRUE(after->is_cancelled());
}

TEST_F(JobControlTest, CancelAForeverJobLetsTheRunSucceed) {
  int ticks = 0;
  auto ticker = make_job(
      [&] {
        for (;;) {
          ++ticks;
          sleep_for(absl::Milliseconds(5));
        }
      },
      {.forever = true});
  auto stopper = make_job([&] {
    sleep_for(absl::Milliseconds(30));
    ticker->cancel();
    sleep_for(absl::Milliseconds(30));
  });
  Scheduler scheduler{ticker, stopper};
  EXPECT_TRUE(scheduler.run());
  EXPECT_TRUE(ticker->is_cancelled());
  EXPECT_GT(ticks, 0);
}

TEST_F(JobControlTest, CancelOnAFinishedJobDoesNothing) {
  auto a = make_job([] { return 7; });
  auto b = make_job([&] { a->cancel(); });
  b->require(a);
  Scheduler scheduler{a, b};
  EXPECT_TRUE(scheduler.run());
  EXPECT_TRUE(a->is_done());
  EXPECT_FALSE(a->is_cancelled());
  EXPECT_EQ(a->result<int>(), 7);
  a->cancel();
  EXPECT_EQ(a->result<int>(), 7);
}

TEST_F(JobControlTest, CancelTheJobsOfASequence) {
  std::string trace;
  Sequence sequence{step(&trace, "a", 0), step(&trace, "b", 0), step(&trace, "c", 0)};
  for (const JobPtr& job : sequence.jobs()) job->cancel();
  Scheduler scheduler{sequence};
  EXPECT_FALSE(scheduler.run());
  EXPECT_EQ(trace, "");
  EXPECT_EQ(scheduler.why(), "3 job(s) could not complete: cancelled");
}

TEST_F(JobControlTest, AJobCancellingItselfEndsCancelled) {
  bool after_cancel = false;
  auto self = make_job([&] {
    current_job()->cancel();
    yield();
    after_cancel = true;
  });
  Scheduler scheduler{self};
  EXPECT_FALSE(scheduler.run());
  EXPECT_FALSE(after_cancel);
  EXPECT_TRUE(self->is_cancelled());
}

// --- request_cancel()

#if defined(__SANITIZE_THREAD__)
constexpr int kBlockedJobs = 500;  // ThreadSanitizer: 8128 fibers at most, each one slow
#else
constexpr int kBlockedJobs = 10'000;
#endif

TEST_F(JobControlTest, RequestCancelFromAnotherThreadWhileTenThousandJobsBlock) {
  constexpr int kJobs = kBlockedJobs;
  std::atomic<int> started{0};
  int unwound = 0;
  struct CountOnDestruction {
    int* count;
    ~CountOnDestruction() { ++*count; }
  };
  Scheduler scheduler({.critical = false});
  for (int i = 0; i < kJobs; ++i) {
    scheduler.add(make_job([&] {
      CountOnDestruction guard{&unwound};
      started.fetch_add(1);
      sleep_for(absl::Seconds(120));
    }));
  }
  std::thread canceller([&] {
    while (started.load() < kJobs) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    scheduler.request_cancel();
  });
  const absl::Time start = absl::Now();
  EXPECT_FALSE(scheduler.run());
  canceller.join();
  EXPECT_LT(absl::Now() - start, absl::Seconds(60));  // not the 120 s sleep
  EXPECT_EQ(unwound, kJobs);
  EXPECT_EQ(scheduler.why(), "CANCELLED");
}

TEST_F(JobControlTest, RequestCancelMakesACriticalSchedulerThrowRunCancelled) {
  Scheduler scheduler{make_job([] { sleep_for(absl::Seconds(60)); })};
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    scheduler.request_cancel();
  });
  EXPECT_THROW(scheduler.run(), RunCancelled);
  canceller.join();
  EXPECT_EQ(scheduler.why(), "CANCELLED");
}

TEST_F(JobControlTest, RequestCancelBeforeRunReturnsAtOnce) {
  bool ran = false;
  Scheduler scheduler({make_job([&] { ran = true; })}, {.critical = false});
  scheduler.request_cancel();
  EXPECT_FALSE(scheduler.run());
  EXPECT_FALSE(ran);
  EXPECT_EQ(scheduler.why(), "CANCELLED");
}

TEST_F(JobControlTest, RequestCancelAfterRunHasNoEffect) {
  Scheduler scheduler{make_job([] {})};
  EXPECT_TRUE(scheduler.run());
  scheduler.request_cancel();
  EXPECT_EQ(scheduler.why(), "FINE");
}

TEST_F(JobControlTest, ShutdownRunsAfterACancelledRun) {
  bool shut = false;
  auto job = make_job([] { sleep_for(absl::Seconds(60)); }, [&] { shut = true; });
  Scheduler scheduler({job}, {.critical = false});
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    scheduler.request_cancel();
  });
  EXPECT_FALSE(scheduler.run());
  canceller.join();
  EXPECT_TRUE(shut);
}

void mark_previous_handler(int) {}

TEST_F(JobControlTest, SigintCancelsTheRunAndTheHandlerIsRestored) {
  struct sigaction mine {}, before {}, after {};
  mine.sa_handler = &mark_previous_handler;
  sigemptyset(&mine.sa_mask);
  ASSERT_EQ(sigaction(SIGINT, &mine, &before), 0);
  bool unwound = false;
  auto sleeper = make_job([&] {
    SetOnDestruction guard(&unwound);
    sleep_for(absl::Seconds(60));
  });
  auto interrupter = make_job([] {
    sleep_for(absl::Milliseconds(20));
    kill(getpid(), SIGINT);  // as Ctrl-C would
  });
  Scheduler scheduler({sleeper, interrupter},
                      {.critical = false, .cancel_on_signals = {SIGINT, SIGTERM}});
  EXPECT_FALSE(scheduler.run());
  EXPECT_TRUE(unwound);
  EXPECT_EQ(scheduler.why(), "CANCELLED");
  ASSERT_EQ(sigaction(SIGINT, nullptr, &after), 0);
  EXPECT_EQ(after.sa_handler, &mark_previous_handler);
  ASSERT_EQ(sigaction(SIGINT, &before, nullptr), 0);
}

// --- Per-job timeouts and retries

TEST_F(JobControlTest, RetriedJobFailsTwiceThenSucceeds) {
  int calls = 0;
  auto flaky = make_job(
      [&] {
        if (++calls < 3) throw Boom("flaky");
        return calls * 10;
      },
      {.label = "flaky", .retries = 5, .retry_delay = absl::Milliseconds(10)});
  Scheduler scheduler{flaky};
  const absl::Time start = absl::Now();
  EXPECT_TRUE(scheduler.run());
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(20));  // two delays
  EXPECT_EQ(flaky->attempts(), 3);
  EXPECT_EQ(flaky->result<int>(), 30);
  EXPECT_EQ(flaky->raised_exception(), nullptr);
  EXPECT_EQ(flaky->attempt_times().size(), 3u);
}

TEST_F(JobControlTest, RetriesRunOutAndTheLastExceptionStays) {
  int calls = 0;
  auto failing = make_job([&]() -> int { throw Boom("attempt " + std::to_string(++calls)); },
                          {.critical = false, .retries = 2});
  Scheduler scheduler{failing};
  EXPECT_TRUE(scheduler.run());
  EXPECT_EQ(failing->attempts(), 3);
  try {
    failing->result();
    FAIL() << "expected Boom";
  } catch (const Boom& boom) {
    EXPECT_STREQ(boom.what(), "attempt 3");
  }
}

TEST_F(JobControlTest, TimeoutOnANonCriticalJobLetsItsSuccessorsRun) {
  std::string trace;
  bool unwound = false;
  auto slow = make_job(
      [&] {
        SetOnDestruction guard(&unwound);
        sleep_for(absl::Seconds(60));
      },
      {.label = "slow", .critical = false, .timeout = absl::Milliseconds(30)});
  auto next = step(&trace, "next", 0, {.required = {slow}});
  Scheduler scheduler{slow, next};
  const absl::Time start = absl::Now();
  EXPECT_TRUE(scheduler.run());
  EXPECT_LT(absl::Now() - start, absl::Seconds(30));
  EXPECT_TRUE(unwound);
  EXPECT_EQ(trace, "next");
  EXPECT_TRUE(slow->is_done());
  EXPECT_FALSE(slow->is_cancelled());
  EXPECT_THROW(slow->result(), TimeoutError);
}

TEST_F(JobControlTest, TimeoutOnACriticalJobFailsTheRun) {
  auto slow = make_job([] { sleep_for(absl::Seconds(60)); }, {.timeout = absl::Milliseconds(20)});
  Scheduler scheduler{slow};
  EXPECT_THROW(scheduler.run(), TimeoutError);
  EXPECT_TRUE(scheduler.failed_critical());
  EXPECT_FALSE(scheduler.failed_time_out());  // the job's timeout, not the scheduler's
}

TEST_F(JobControlTest, TimeoutAppliesToEachAttempt) {
  int calls = 0;
  auto job = make_job(
      [&] {
        if (++calls < 3) sleep_for(absl::Seconds(60));
        return calls;
      },
      {.timeout = absl::Milliseconds(20), .retries = 3});
  Scheduler scheduler{job};
  EXPECT_TRUE(scheduler.run());
  EXPECT_EQ(job->attempts(), 3);
  EXPECT_EQ(job->result<int>(), 3);
  std::ostringstream details;
  scheduler.list(true, details);
  EXPECT_NE(details.str().find("retries 3, 3 attempt(s)"), std::string::npos) << details.str();
}

TEST_F(JobControlTest, CancellingAJobWithATimeoutEndsItCancelledNotTimedOut) {
  auto slow = make_job([] { sleep_for(absl::Seconds(60)); },
                       {.timeout = absl::Seconds(30), .retries = 2});
  auto canceller = make_job([&] {
    sleep_for(absl::Milliseconds(10));
    slow->cancel();
  });
  Scheduler scheduler{slow, canceller};
  EXPECT_FALSE(scheduler.run());
  EXPECT_TRUE(slow->is_cancelled());
  EXPECT_EQ(slow->attempts(), 1);  // a cancelled job is not retried
}

TEST_F(JobControlTest, BadJobOptionsAreRejected) {
  EXPECT_THROW(make_job([] {}, {.timeout = absl::ZeroDuration()}), std::invalid_argument);
  EXPECT_THROW(make_job([] {}, {.retries = -1}), std::invalid_argument);
  EXPECT_THROW(make_job([] {}, {.retry_delay = absl::Seconds(-1)}), std::invalid_argument);
}

// --- Settable until run, and the graph frozen during it

TEST_F(JobControlTest, SetJobsWindowAndTimeoutBeforeRun) {
  int running = 0, most = 0;
  Scheduler scheduler({.critical = false});
  for (int i = 0; i < 6; ++i) {
    scheduler.add(make_job([&] {
      most = std::max(most, ++running);
      sleep_for(absl::Milliseconds(5));
      --running;
    }));
  }
  scheduler.set_jobs_window(2);
  EXPECT_THROW(scheduler.set_jobs_window(-1), std::invalid_argument);
  EXPECT_THROW(scheduler.set_timeout(absl::Seconds(-1)), std::invalid_argument);
  EXPECT_TRUE(scheduler.run());
  EXPECT_EQ(most, 2);
  EXPECT_THROW(scheduler.set_jobs_window(3), std::logic_error);

  Scheduler slow({make_job([] { sleep_for(absl::Seconds(60)); })}, {.critical = false});
  slow.set_timeout(absl::Milliseconds(20));
  EXPECT_FALSE(slow.run());
  EXPECT_TRUE(slow.failed_time_out());
  EXPECT_EQ(slow.why(), "TIMED OUT after 0.02s");
}

TEST_F(JobControlTest, AddingToARunningSchedulerThrows) {
  Scheduler scheduler({.critical = false});
  bool threw = false;
  scheduler.add(make_job([&] {
    try {
      scheduler.add(make_job([] {}));
    } catch (const GraphError&) {
      threw = true;
    }
  }));
  EXPECT_TRUE(scheduler.run());
  EXPECT_TRUE(threw);
  EXPECT_EQ(scheduler.size(), 1u);
}

}  // namespace
}  // namespace asyncjobs
