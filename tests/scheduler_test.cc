// Scheduler::run semantics: start order, requirements, failures, forever jobs, timeouts,
// windows, reactors, deadlocks.

#include "asyncjobs/scheduler.h"

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

using SchedulerTest = testing::NothingLeftRunning<>;
using testing::SetOnDestruction;
using testing::Boom;
using testing::step;
using Jobs = std::vector<JobPtr>;

// Raises Boom("name") after sleeping `ms` milliseconds.
std::shared_ptr<Job> boom(std::string name, int ms, bool critical) {
  return make_job(
      [name, ms] {
        sleep_for(absl::Milliseconds(ms));
        throw Boom(name);
      },
      {.label = name, .critical = critical});
}

// --- Running

TEST_F(SchedulerTest, IndependentJobsRunInParallel) {
  std::string trace;
  Scheduler scheduler{step(&trace, "a", 100), step(&trace, "b", 100), step(&trace, "c", 100)};
  Watch watch;
  EXPECT_TRUE(scheduler.run());
  EXPECT_GE(watch.seconds(), 0.095);
  EXPECT_LT(watch.seconds(), 0.3);
  EXPECT_EQ(trace, "abc");
  EXPECT_EQ(scheduler.why(), "FINE");
  EXPECT_FALSE(scheduler.failed_critical());
  EXPECT_FALSE(scheduler.failed_time_out());
}

TEST_F(SchedulerTest, StartsReadyJobsInInsertionOrder) {
  std::string trace;
  auto c = step(&trace, "c", 0), a = step(&trace, "a", 0), b = step(&trace, "b", 0);
  Scheduler scheduler{c, a, b};
  EXPECT_TRUE(scheduler.run());
  EXPECT_EQ(trace, "cab");
}

// A job's dependents are linked in the order require() was called; they still start in the
// scheduler's insertion order.
TEST_F(SchedulerTest, SuccessorsStartInInsertionOrderWhateverTheOrderOfRequireCalls) {
  std::string trace;
  auto a = step(&trace, "a", 0);
  auto b = step(&trace, "b", 0), c = step(&trace, "c", 0), d = step(&trace, "d", 0);
  d->require(a);
  b->require(a);
  c->require(a);
  Scheduler scheduler({a, b, c, d}, {.jobs_window = 1});
  EXPECT_TRUE(scheduler.run());
  EXPECT_EQ(trace, "abcd");
}

TEST_F(SchedulerTest, SuccessorStartsAsSoonAsItsLastRequirementIsDone) {
  std::string trace;
  Watch watch;
  double both_started = 0, first_started = 0;
  auto a = step(&trace, "a", 40);
  auto b = step(&trace, "b", 100);
  auto after_both = make_job([&] {
    both_started = watch.seconds();
    trace += "B";
  });
  after_both->require(a, b);
  auto after_a = make_job([&] {
    first_started = watch.seconds();
    trace += "A";
  });
  after_a->require(a);
  Scheduler scheduler{after_both, after_a, a, b};
  EXPECT_TRUE(scheduler.run());
  EXPECT_EQ(trace, "aAbB");
  EXPECT_GE(first_started, 0.038);
  EXPECT_LT(first_started, 0.095);  // did not wait for b
  EXPECT_GE(both_started, 0.095);
  EXPECT_LT(both_started, 0.3);
}

TEST_F(SchedulerTest, ResultsAreReadableAfterTheRun) {
  auto a = make_job([] { return 1; });
  auto b = make_job([] { return std::string("two"); }, {.required = {a}});
  Scheduler scheduler{a, b};
  EXPECT_TRUE(scheduler.run());
  EXPECT_EQ(a->result<int>(), 1);
  EXPECT_EQ(b->result<std::string>(), "two");
}

TEST_F(SchedulerTest, AddUpdateRemoveAndSize) {
  auto a = make_job([] {}), b = make_job([] {}), c = make_job([] {}), d = make_job([] {});
  Scheduler scheduler;
  EXPECT_EQ(scheduler.add(a), a);
  EXPECT_EQ(scheduler.add(Sequence{b, c}), c);  // the last job added
  scheduler.update({d, a});                      // a again: a no-op
  EXPECT_EQ(scheduler.size(), 4u);
  EXPECT_EQ(scheduler.jobs(), (Jobs{a, b, c, d}));
  scheduler.remove(d);
  EXPECT_EQ(scheduler.jobs(), (Jobs{a, b, c}));
  EXPECT_THROW(scheduler.remove(d), std::invalid_argument);
  EXPECT_EQ(scheduler.size(), 3u);
}

TEST_F(SchedulerTest, EmptySchedulerRunsFine) {
  Scheduler scheduler;
  EXPECT_TRUE(scheduler.run());
  EXPECT_EQ(scheduler.why(), "FINE");
}

// --- Failures

TEST_F(SchedulerTest, NonCriticalFailureStillRunsSuccessors) {
  std::string trace;
  auto failing = boom("failing", 10, /*critical=*/false);
  auto next = step(&trace, "next", 0, {.required = {failing}});
  Scheduler scheduler{failing, next};
  EXPECT_TRUE(scheduler.run());
  EXPECT_EQ(trace, "next");
  EXPECT_TRUE(failing->is_done());
  EXPECT_NE(failing->raised_exception(), nullptr);
  EXPECT_THROW(failing->result(), Boom);
  EXPECT_FALSE(scheduler.failed_critical());
  EXPECT_EQ(scheduler.why(), "FINE");
}

TEST_F(SchedulerTest, CriticalFailureCancelsEverythingAndReturnsFalse) {
  std::string trace;
  bool unwound = false;
  auto failing = boom("failing", 50, /*critical=*/true);
  auto long_one = make_job([&] {
    SetOnDestruction probe(&unwound);
    sleep_for(absl::Seconds(10));
    trace += "long";
  });
  auto successor = step(&trace, "successor", 0, {.required = {failing}});
  Scheduler scheduler({failing, long_one, successor}, {.critical = false});
  Watch watch;
  EXPECT_FALSE(scheduler.run());
  EXPECT_GE(watch.seconds(), 0.045);
  EXPECT_LT(watch.seconds(), 1.0);
  EXPECT_EQ(trace, "");
  EXPECT_TRUE(unwound);
  EXPECT_TRUE(long_one->is_cancelled());
  EXPECT_FALSE(long_one->is_done());
  EXPECT_TRUE(successor->is_idle());
  EXPECT_TRUE(failing->is_done());
  EXPECT_TRUE(scheduler.failed_critical());
  EXPECT_FALSE(scheduler.failed_time_out());
  EXPECT_EQ(scheduler.why(), "a CRITICAL job has raised an exception");
}

TEST_F(SchedulerTest, CriticalSchedulerThrowsTheJobsOwnException) {
  bool unwound = false;
  auto other = make_job([&] {
    SetOnDestruction probe(&unwound);
    sleep_for(absl::Seconds(10));
  });
  Scheduler scheduler{boom("the culprit", 20, true), other};  // critical by default
  try {
    scheduler.run();
    FAIL() << "run() did not throw";
  } catch (const Boom& error) {
    EXPECT_STREQ(error.what(), "the culprit");
  }
  EXPECT_TRUE(unwound);  // before run() returned
  EXPECT_TRUE(other->is_cancelled());
  EXPECT_TRUE(scheduler.failed_critical());
}

TEST_F(SchedulerTest, CriticalFailureCancelsScheduledJobs) {
  auto failing = boom("failing", 20, true);
  auto waiting = make_job([] {});
  Scheduler scheduler({failing, waiting}, {.critical = false, .jobs_window = 1});
  EXPECT_FALSE(scheduler.run());
  EXPECT_TRUE(waiting->is_cancelled());
  EXPECT_FALSE(waiting->is_done());
}

// --- Forever jobs

TEST_F(SchedulerTest, ForeverJobsAreCancelledOnceTheRestIsDone) {
  int ticks = 0;
  bool unwound = false;
  auto ticker = make_job(
      [&] {
        SetOnDestruction probe(&unwound);
        for (;;) {
          ++ticks;
          sleep_for(absl::Milliseconds(10));
        }
      },
      {.forever = true});
  std::string trace;
  Scheduler scheduler{ticker, step(&trace, "work", 100)};
  Watch watch;
  EXPECT_TRUE(scheduler.run());
  EXPECT_GE(watch.seconds(), 0.095);
  EXPECT_LT(watch.seconds(), 0.3);
  EXPECT_EQ(trace, "work");
  EXPECT_GE(ticks, 3);
  EXPECT_TRUE(unwound);
  EXPECT_TRUE(ticker->is_cancelled());
  EXPECT_FALSE(ticker->is_done());
}

TEST_F(SchedulerTest, OnlyForeverJobsRunUntilTheyReturn) {
  std::string trace;
  Scheduler scheduler{step(&trace, "a", 50, {.forever = true}),
                      step(&trace, "b", 100, {.forever = true})};
  Watch watch;
  EXPECT_TRUE(scheduler.run());
  EXPECT_GE(watch.seconds(), 0.095);
  EXPECT_LT(watch.seconds(), 0.3);
  EXPECT_EQ(trace, "ab");
}

TEST_F(SchedulerTest, OnlyForeverJobsRunUntilTheTimeout) {
  auto forever = make_job([] { sleep_for(absl::Seconds(10)); }, {.forever = true});
  Scheduler scheduler({forever}, {.critical = false, .timeout = absl::Milliseconds(100)});
  Watch watch;
  EXPECT_FALSE(scheduler.run());
  EXPECT_GE(watch.seconds(), 0.095);
  EXPECT_LT(watch.seconds(), 0.5);
  EXPECT_TRUE(scheduler.failed_time_out());
  EXPECT_TRUE(forever->is_cancelled());
}

TEST_F(SchedulerTest, CriticalForeverJobThatRaisesEndsTheRun) {
  bool unwound = false;
  auto work = make_job([&] {
    SetOnDestruction probe(&unwound);
    sleep_for(absl::Seconds(10));
  });
  auto forever = make_job(
      [] {
        sleep_for(absl::Milliseconds(30));
        throw Boom("forever");
      },
      {.forever = true});
  Scheduler scheduler({work, forever}, {.critical = false});
  Watch watch;
  EXPECT_FALSE(scheduler.run());
  EXPECT_LT(watch.seconds(), 0.5);
  EXPECT_TRUE(scheduler.failed_critical());
  EXPECT_TRUE(unwound);
}

// --- Timeouts

TEST_F(SchedulerTest, TimeoutCancelsEverythingAndReturnsFalse) {
  bool unwound = false;
  auto sleeper = make_job([&] {
    SetOnDestruction probe(&unwound);
    sleep_for(absl::Seconds(10));
  });
  Scheduler scheduler({sleeper}, {.critical = false, .timeout = absl::Milliseconds(100)});
  Watch watch;
  EXPECT_FALSE(scheduler.run());
  EXPECT_GE(watch.seconds(), 0.095);
  EXPECT_LT(watch.seconds(), 0.5);
  EXPECT_TRUE(unwound);
  EXPECT_TRUE(sleeper->is_cancelled());
  EXPECT_TRUE(scheduler.failed_time_out());
  EXPECT_FALSE(scheduler.failed_critical());
  EXPECT_EQ(scheduler.why(), "TIMED OUT after 0.1s");
}

TEST_F(SchedulerTest, CriticalSchedulerThrowsTimeoutError) {
  Scheduler scheduler({make_job([] { sleep_for(absl::Seconds(10)); })},
                      {.timeout = absl::Milliseconds(50)});
  Watch watch;
  try {
    scheduler.run();
    FAIL() << "run() did not throw";
  } catch (const TimeoutError& error) {
    EXPECT_STREQ(error.what(), "critical scheduler took too long");
  }
  EXPECT_GE(watch.seconds(), 0.045);
  EXPECT_LT(watch.seconds(), 0.5);
  EXPECT_TRUE(scheduler.failed_time_out());
}

TEST_F(SchedulerTest, TimeoutIsOneDeadlineForTheWholeRun) {
  // Each step is shorter than the timeout, the chain is not: with a deadline per job every
  // step would end; with one for the run, d (due at 1.5s) is cancelled at 1s.
  std::string trace;
  auto d = step(&trace, "d", 700);
  Scheduler scheduler({Sequence{step(&trace, "a", 50), step(&trace, "b", 50),
                                step(&trace, "c", 700), d}},
                      {.critical = false, .timeout = absl::Seconds(1)});
  Watch watch;
  EXPECT_FALSE(scheduler.run());
  EXPECT_GE(watch.seconds(), 0.99);
  EXPECT_LT(watch.seconds(), 30);
  EXPECT_EQ(trace.substr(0, 2), "ab");
  EXPECT_EQ(trace.find('d'), std::string::npos);
  EXPECT_TRUE(d->is_cancelled());
  EXPECT_EQ(scheduler.why(), "TIMED OUT after 1s");
}

TEST_F(SchedulerTest, ZeroTimeoutTimesOutAtOnce) {
  std::string trace;
  Scheduler scheduler({step(&trace, "a", 0)}, {.critical = false, .timeout = absl::ZeroDuration()});
  Watch watch;
  EXPECT_FALSE(scheduler.run());
  EXPECT_LT(watch.seconds(), 0.5);
  EXPECT_EQ(trace, "");
  EXPECT_TRUE(scheduler.failed_time_out());
  EXPECT_EQ(scheduler.why(), "TIMED OUT after 0s");
}

TEST_F(SchedulerTest, WhyFormatsTheTimeoutAsShortestDecimal) {
  Scheduler scheduler({make_job([] { sleep_for(absl::Seconds(10)); })},
                      {.critical = false, .timeout = absl::Milliseconds(250)});
  EXPECT_EQ(scheduler.why(), "FINE");  // before the run
  EXPECT_FALSE(scheduler.run());
  EXPECT_EQ(scheduler.why(), "TIMED OUT after 0.25s");
}

TEST_F(SchedulerTest, NegativeWindowOrTimeoutThrowsAtConstruction) {
  EXPECT_THROW(Scheduler({.jobs_window = -1}), std::invalid_argument);
  EXPECT_THROW(Scheduler({.timeout = absl::Milliseconds(-1)}), std::invalid_argument);
  EXPECT_THROW(make_scheduler({.jobs_window = -3}), std::invalid_argument);
  EXPECT_NO_THROW(Scheduler({.jobs_window = 0, .timeout = absl::ZeroDuration()}));
}

// --- Windows, parameterised over the window like marl over worker counts.

class WindowTest : public testing::NothingLeftRunning<::testing::TestWithParam<int>> {};

// Most jobs running at once while `count` jobs of `ms` milliseconds run in `window`.
struct WindowRun {
  int most_running = 0;
  double seconds = 0;
  std::string starts;
};

WindowRun run_in_window(int window, int count, int ms) {
  WindowRun outcome;
  int running = 0;
  Scheduler scheduler({.jobs_window = window});
  for (int i = 0; i < count; ++i) {
    scheduler.add(make_job([&, i] {
      outcome.starts += static_cast<char>('a' + i);
      outcome.most_running = std::max(outcome.most_running, ++running);
      sleep_for(absl::Milliseconds(ms));
      --running;
    }));
  }
  Watch watch;
  EXPECT_TRUE(scheduler.run());
  outcome.seconds = watch.seconds();
  return outcome;
}

// The same for 10 jobs that each yield 20 times (or until all have started) instead of
// sleeping: each yield lets every ready fiber take a turn, so any job the window admits
// starts while the others are still there, however slow the machine.
WindowRun peak_in_window(int window) {
  constexpr int kCount = 10;
  WindowRun outcome;
  int running = 0, started = 0;
  Scheduler scheduler({.jobs_window = window});
  for (int i = 0; i < kCount; ++i) {
    scheduler.add(make_job([&, i] {
      outcome.starts += static_cast<char>('a' + i);
      ++started;
      outcome.most_running = std::max(outcome.most_running, ++running);
      for (int turn = 0; turn < 2 * kCount && started < kCount; ++turn) yield();
      --running;
    }));
  }
  EXPECT_TRUE(scheduler.run());
  return outcome;
}

TEST_P(WindowTest, NeverMoreThanTheWindowRunAtOnce) {
  const int window = GetParam();
  const WindowRun outcome = peak_in_window(window);
  EXPECT_EQ(outcome.most_running, window == 0 ? 10 : std::min(window, 10));
  EXPECT_EQ(outcome.starts, "abcdefghij");  // free slots go FIFO
}

TEST_P(WindowTest, DurationFollowsTheWindow) {
  const int window = GetParam();
  const int count = 8, ms = 50;
  const int waves = window == 0 ? 1 : (count + window - 1) / window;
  const WindowRun outcome = run_in_window(window, count, ms);
  EXPECT_GE(outcome.seconds, waves * ms * 0.001 - 0.005);
  EXPECT_LT(outcome.seconds, waves * ms * 0.001 * 2 + 0.1);
}

TEST_P(WindowTest, RaisingFreesTheSlot) {
  const int window = GetParam();
  std::string trace;
  Scheduler scheduler({.jobs_window = window});
  for (int i = 0; i < 4; ++i) scheduler.add(boom("failing", 5, /*critical=*/false));
  scheduler.add(step(&trace, "after", 0));
  EXPECT_TRUE(scheduler.run());
  EXPECT_EQ(trace, "after");
}

TEST_P(WindowTest, NestedSchedulerTakesOneSlot) {
  const int window = GetParam();
  int running = 0, most_running = 0;
  auto counted = [&] {
    return make_job([&] {
      most_running = std::max(most_running, ++running);
      sleep_for(absl::Milliseconds(10));
      --running;
    });
  };
  // Three jobs inside one nested scheduler (no window of its own) plus two outside.
  auto nested = make_scheduler({counted(), counted(), counted()});
  Scheduler scheduler({nested, counted(), counted()}, {.jobs_window = window});
  EXPECT_TRUE(scheduler.run());
  // The nested scheduler holds one slot and runs its three jobs at once within it.
  const int expected = window == 0 ? 5 : window == 1 ? 3 : window == 2 ? 4 : 5;
  EXPECT_EQ(most_running, expected);
}

INSTANTIATE_TEST_SUITE_P(Windows, WindowTest, ::testing::Values(0, 1, 2, 8),
                         [](const auto& info) { return "Window" + std::to_string(info.param); });

TEST_F(SchedulerTest, FifteenJobsInWindowThreeTakeFiveRounds) {
  const WindowRun windowed = run_in_window(3, 15, 100);
  EXPECT_EQ(windowed.most_running, 3);
  EXPECT_GE(windowed.seconds, 0.495);
  EXPECT_LT(windowed.seconds, 1.2);
  const WindowRun unlimited = run_in_window(0, 15, 100);
  EXPECT_EQ(unlimited.most_running, 15);
  EXPECT_GE(unlimited.seconds, 0.095);
  EXPECT_LT(unlimited.seconds, 0.3);
}

TEST_F(SchedulerTest, ScheduledJobsTakeFreeSlotsInOrder) {
  // Window 2: a(50) b(20) start; c takes b's slot at 20, d takes c's at 40, e a's at 50.
  std::string trace;
  auto starter = [&](std::string name, int ms) {
    return make_job([&trace, name, ms] {
      trace += name;
      sleep_for(absl::Milliseconds(ms));
    });
  };
  Scheduler scheduler({starter("a", 50), starter("b", 20), starter("c", 20), starter("d", 30),
                       starter("e", 5)},
                      {.jobs_window = 2});
  EXPECT_TRUE(scheduler.run());
  EXPECT_EQ(trace, "abcde");
}

TEST_F(SchedulerTest, CancelledJobFreesItsSlot) {
  // A job that ends cancelled (here it throws Cancelled itself) gives its slot back: the
  // next scheduled job must start.
  std::string trace;
  auto cancelled = make_job([] {
    sleep_for(absl::Milliseconds(10));
    throw Cancelled();
  });
  auto next = step(&trace, "next", 0);
  Scheduler scheduler({cancelled, next},
                      {.critical = false, .jobs_window = 1, .timeout = absl::Milliseconds(500)});
  Watch watch;
  scheduler.run();
  EXPECT_TRUE(cancelled->is_cancelled());
  EXPECT_FALSE(cancelled->is_done());
  EXPECT_EQ(trace, "next");
  EXPECT_LT(watch.seconds(), 0.4);
}

TEST_F(SchedulerTest, AJobThatEndedCancelledMakesTheRunFail) {
  // run() is true iff every non-forever job is done; a job that ended cancelled is not,
  // and neither is its successor, which can never start.
  std::string trace;
  auto cancelled = make_job([]() -> int { throw Cancelled(); });
  auto successor = step(&trace, "successor", 0, {.required = {cancelled}});
  auto independent = step(&trace, "independent", 0);
  Scheduler scheduler({cancelled, successor, independent},
                      {.critical = false, .timeout = absl::Milliseconds(500)});
  Watch watch;
  EXPECT_FALSE(scheduler.run());
  EXPECT_LT(watch.seconds(), 0.4);
  EXPECT_EQ(trace, "independent");
  EXPECT_TRUE(cancelled->is_cancelled());
  EXPECT_FALSE(successor->is_done());
}

// --- Reactors

TEST_F(SchedulerTest, RunFromPlainCodeMakesItsOwnReactor) {
  Reactor* seen = nullptr;
  EXPECT_EQ(Reactor::current(), nullptr);
  Scheduler scheduler{make_job([&] { seen = Reactor::current(); })};
  EXPECT_TRUE(scheduler.run());
  EXPECT_NE(seen, nullptr);
  EXPECT_EQ(Reactor::current(), nullptr);
}

TEST_F(SchedulerTest, RunInsideAJobRunsOnThatJobsReactor) {
  std::string trace;
  Reactor* outer_reactor = nullptr;
  Reactor* inner_reactor = nullptr;
  auto inner_job = make_job([&] {
    inner_reactor = Reactor::current();
    sleep_for(absl::Milliseconds(100));
    trace += "i";
  });
  auto runner = make_job([&] {
    outer_reactor = Reactor::current();
    Scheduler inner{inner_job};
    return inner.run();
  });
  // Runs meanwhile: the inner run suspends only `runner`.
  auto sibling = step(&trace, "s", 50);
  Scheduler scheduler{runner, sibling};
  Watch watch;
  EXPECT_TRUE(scheduler.run());
  EXPECT_GE(watch.seconds(), 0.095);
  EXPECT_LT(watch.seconds(), 0.3);  // not 0.15: the two overlapped
  EXPECT_EQ(trace, "si");
  EXPECT_NE(outer_reactor, nullptr);
  EXPECT_EQ(outer_reactor, inner_reactor);
  EXPECT_TRUE(runner->result<bool>());
}

TEST_F(SchedulerTest, RunInsideAJobIsCancelledWithThatJob) {
  bool unwound = false;
  bool inner_returned = false;
  auto inner_job = make_job([&] {
    SetOnDestruction probe(&unwound);
    sleep_for(absl::Seconds(10));
  });
  auto runner = make_job([&] {
    Scheduler inner{inner_job};  // on the runner's stack
    inner.run();
    inner_returned = true;
  });
  Scheduler scheduler({runner}, {.critical = false, .timeout = absl::Milliseconds(50)});
  Watch watch;
  EXPECT_FALSE(scheduler.run());
  EXPECT_LT(watch.seconds(), 0.5);
  EXPECT_TRUE(unwound);
  EXPECT_FALSE(inner_returned);
  EXPECT_TRUE(inner_job->is_cancelled());
  EXPECT_TRUE(runner->is_cancelled());
}

// --- Deadlock

TEST_F(SchedulerTest, JobsWaitingForNothingAreADeadlockNotAHang) {
  Queue<int> queue;
  bool unwound = false;
  auto reader = make_job([&] {
    SetOnDestruction probe(&unwound);
    return queue.get();
  });
  auto other_reader = make_job([&] { return queue.get(); });
  Scheduler scheduler{reader, other_reader};
  Watch watch;
  try {
    scheduler.run();
    FAIL() << "run() did not throw";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("deadlock"), std::string::npos) << error.what();
  }
  EXPECT_LT(watch.seconds(), 1.0);
  EXPECT_TRUE(unwound);
  EXPECT_TRUE(reader->is_cancelled());
  EXPECT_TRUE(other_reader->is_cancelled());
  EXPECT_FALSE(reader->is_done());
}

// One verdict per run, read by why() and the exceptions; the first that applies decides.
TEST(RunOutcomeTest, OneVerdictReadByWhyAndTheExceptions) {
  Scheduler fine{make_job([] {})};
  EXPECT_EQ(fine.outcome(), RunOutcome::kNotRun);
  EXPECT_TRUE(fine.run());
  EXPECT_EQ(fine.outcome(), RunOutcome::kFine);

  Scheduler late({make_job([] { sleep_for(absl::Seconds(10)); })},
                 {.critical = false, .timeout = absl::Milliseconds(10)});
  EXPECT_FALSE(late.run());
  EXPECT_EQ(late.outcome(), RunOutcome::kTimedOut);
  EXPECT_EQ(late.why(), "TIMED OUT after 0.01s");

  // A critical job raises while another is cancelled: the critical failure decides.
  auto doomed = make_job([] { sleep_for(absl::Seconds(10)); });
  auto boom = make_job([&] {
    doomed->cancel();
    throw std::runtime_error("boom");
  });
  Scheduler critical({doomed, boom}, {.critical = false});
  EXPECT_FALSE(critical.run());
  EXPECT_EQ(critical.outcome(), RunOutcome::kCriticalRaised);
  EXPECT_EQ(critical.why(), "a CRITICAL job has raised an exception");

  auto cancelled = make_job([] { sleep_for(absl::Seconds(10)); });
  Scheduler abandoned({cancelled, make_job([&] { cancelled->cancel(); })});
  EXPECT_FALSE(abandoned.run());  // critical, yet nothing to throw
  EXPECT_EQ(abandoned.outcome(), RunOutcome::kAbandoned);

  Scheduler stopped{make_job([] {})};
  stopped.request_cancel();
  EXPECT_THROW(stopped.run(), RunCancelled);
  EXPECT_EQ(stopped.outcome(), RunOutcome::kCancelled);
  EXPECT_EQ(stopped.why(), "CANCELLED");
}

}  // namespace
}  // namespace asyncjobs
