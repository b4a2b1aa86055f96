// The tour of the asynciojobs README (examples/readme.cc), each example with its timing:
// lower bounds tight, upper bounds generous (2 shared cores).

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "asyncjobs/asyncjobs.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace asyncjobs {
namespace {

using ReadmeTest = testing::NothingLeftRunning<>;

// Expects `seconds` in [expected - 5 ms, 2 * expected + 0.15 s].
void expect_about(double seconds, double expected) {
  EXPECT_GE(seconds, expected - 0.005);
  EXPECT_LT(seconds, expected * 2 + 0.15);
}

// The README's in_out(): logs entering and leaving, sleeps in the middle, returns ms.
class InOut {
 public:
  std::shared_ptr<Job> job(double seconds, JobOptions options = {}) {
    return make_job(
        [this, seconds] {
          log += absl::StrCat("->", seconds, " ");
          sleep_for(absl::Seconds(seconds));
          log += absl::StrCat("<-", seconds, " ");
          return 1000 * seconds;
        },
        std::move(options));
  }
  std::string log;
};

void boom(double seconds) {
  sleep_for(absl::Seconds(seconds));
  throw std::runtime_error(absl::StrCat("boom after ", seconds, "s"));
}

TEST_F(ReadmeTest, ExampleARunsInParallel) {
  InOut in_out;
  auto a1 = in_out.job(0.1), a2 = in_out.job(0.2), a3 = in_out.job(0.25);
  Scheduler sa{a1, a2, a3};
  EXPECT_EQ(sa.repr(), "Scheduler with 0 done + 0 ongoing + 3 idle = 3 job(s)");
  Watch watch;
  EXPECT_TRUE(sa.run());
  expect_about(watch.seconds(), 0.25);
  EXPECT_EQ(in_out.log, "->0.1 ->0.2 ->0.25 <-0.1 <-0.2 <-0.25 ");
  EXPECT_EQ(a1->result<double>(), 100);
  EXPECT_EQ(a3->result<double>(), 250);
}

TEST_F(ReadmeTest, ExampleBRequirements) {
  InOut in_out;
  auto b1 = in_out.job(0.1, {.label = "b1"});
  auto b2 = in_out.job(0.2, {.label = "b2"});
  auto b3 = in_out.job(0.25);
  b2->require(b1);
  Scheduler sb{b1, b2, b3};
  Watch watch;
  EXPECT_TRUE(sb.run());
  expect_about(watch.seconds(), 0.3);  // b1 then b2; b3 alongside
  EXPECT_EQ(in_out.log, "->0.1 ->0.25 <-0.1 ->0.2 <-0.25 <-0.2 ");
}

TEST_F(ReadmeTest, ExampleBPrimeSequence) {
  InOut in_out;
  Scheduler sb2{Sequence{in_out.job(0.1, {.label = "bp1"}), in_out.job(0.2, {.label = "bp2"})},
                in_out.job(0.25)};
  Watch watch;
  EXPECT_TRUE(sb2.run());
  expect_about(watch.seconds(), 0.3);
  EXPECT_EQ(in_out.log, "->0.1 ->0.25 <-0.1 ->0.2 <-0.25 <-0.2 ");
}

TEST_F(ReadmeTest, ExampleCForeverJobReadsAMessageBus) {
  Queue<std::string> bus;
  auto in_out_bus = [&bus](double seconds) {
    return [&bus, seconds] {
      bus.put(absl::StrCat("->", seconds));
      sleep_for(absl::Seconds(seconds));
      bus.put(absl::StrCat("<-", seconds));
      return 10 * seconds;
    };
  };
  std::vector<std::string> received;
  auto c1 = make_job(in_out_bus(0.2), {.label = "c1"});
  auto c2 = make_job(in_out_bus(0.4), {.label = "c2"});
  auto c3 = make_job(in_out_bus(0.3), {.label = "c3", .required = {c1}});
  auto monitor = make_job(
      [&] {
        for (;;) received.push_back(bus.get());
      },
      {.label = "monitor", .forever = true});
  Scheduler sc{c1, c2, c3, monitor};
  Watch watch;
  EXPECT_TRUE(sc.run());
  expect_about(watch.seconds(), 0.5);  // c1 then c3; c2 alongside
  EXPECT_EQ(received, (std::vector<std::string>{"->0.2", "->0.4", "<-0.2", "->0.3", "<-0.4",
                                                "<-0.3"}));
  EXPECT_FALSE(monitor->is_done());
  EXPECT_TRUE(monitor->is_cancelled());
  EXPECT_DOUBLE_EQ(c3->result<double>(), 3.0);
}

TEST_F(ReadmeTest, ExampleDGlobalTimeout) {
  int ticks = 0;
  auto forever = make_job(
      [&] {
        for (;;) {
          ++ticks;
          sleep_for(absl::Milliseconds(100));
        }
      },
      {.forever = true});
  Scheduler sd{{forever}, {.label = "sd", .critical = false, .timeout = absl::Seconds(0.25)}};
  Watch watch;
  EXPECT_FALSE(sd.run());
  expect_about(watch.seconds(), 0.25);
  EXPECT_EQ(ticks, 3);  // at 0, 0.1 and 0.2
  EXPECT_EQ(sd.why(), "TIMED OUT after 0.25s");
  EXPECT_TRUE(forever->is_cancelled());
}

TEST_F(ReadmeTest, ExampleENonCriticalFailureLetsSuccessorsRun) {
  InOut in_out;
  auto e1 = in_out.job(0.2, {.label = "begin"});
  auto e2 = make_job([] { boom(0.2); }, {.label = "boom", .critical = false});
  auto e3 = in_out.job(0.3, {.label = "end"});
  Scheduler se{{Sequence{e1, e2, e3}}, {.critical = false}};
  Watch watch;
  EXPECT_TRUE(se.run());
  expect_about(watch.seconds(), 0.7);
  EXPECT_EQ(se.why(), "FINE");
  try {
    e2->result();
    ADD_FAILURE() << "boom's result() did not rethrow";
  } catch (const std::runtime_error& error) {
    EXPECT_STREQ(error.what(), "boom after 0.2s");
  }
  EXPECT_EQ(e3->result<double>(), 300);
}

TEST_F(ReadmeTest, ExampleFCriticalFailureBailsOut) {
  InOut in_out;
  auto f1 = in_out.job(0.2, {.label = "begin"});
  auto f2 = make_job([] { boom(0.2); }, {.label = "boom", .critical = true});
  auto f3 = in_out.job(0.3, {.label = "end"});
  Scheduler sf{{Sequence{f1, f2, f3}}, {.label = "sf", .critical = false}};
  Watch watch;
  EXPECT_FALSE(sf.run());
  expect_about(watch.seconds(), 0.4);
  EXPECT_EQ(sf.why(), "a CRITICAL job has raised an exception");
  EXPECT_TRUE(f3->is_idle());
  EXPECT_EQ(in_out.log, "->0.2 <-0.2 ");
}

TEST_F(ReadmeTest, ExampleFCriticalSchedulerThrowsTheJobsException) {
  auto f1 = make_job([] { sleep_for(absl::Milliseconds(50)); });
  auto f2 = make_job([] { boom(0.05); }, {.label = "boom"});
  Scheduler sf{Sequence{f1, f2}};
  Watch watch;
  EXPECT_THROW(sf.run(), std::runtime_error);
  expect_about(watch.seconds(), 0.1);
}

TEST_F(ReadmeTest, JobsWindowEightJobsFourAtATime) {
  int running = 0, most_running = 0;
  Scheduler s{{.jobs_window = 4}};
  for (int i = 1; i <= 8; ++i) {
    s.add(make_job([&] {
      most_running = std::max(most_running, ++running);
      sleep_for(absl::Seconds(0.5));
      --running;
    }));
  }
  Watch watch;
  EXPECT_TRUE(s.run());
  expect_about(watch.seconds(), 1.0);
  EXPECT_EQ(most_running, 4);
}

TEST_F(ReadmeTest, JobsWindowFifteenJobsThreeAtATime) {
  auto fifteen = [](int window) {
    Scheduler s{{.jobs_window = window}};
    for (int i = 0; i < 15; ++i) s.add(make_job([] { sleep_for(absl::Seconds(0.1)); }));
    Watch watch;
    EXPECT_TRUE(s.run());
    return watch.seconds();
  };
  expect_about(fifteen(3), 0.5);
  expect_about(fifteen(0), 0.1);
}

TEST_F(ReadmeTest, NestingASchedulerIsAJob) {
  std::string trace;
  auto aprint = [&trace](std::string message, double delay) {
    return [&trace, message, delay] {
      trace += message + " ";
      sleep_for(absl::Seconds(delay));
    };
  };
  auto sub = make_scheduler(SchedulerOptions{.label = "critical nested"});
  auto subj1 = make_job(aprint("subj1", 0.1), {.label = "subj1"});
  auto subj2 = make_job(aprint("subj2", 0.1), {.label = "subj2", .required = {subj1}});
  auto subj3 = make_job(aprint("subj3", 0.1), {.label = "subj3", .required = {subj1}});
  auto subj4 = make_job(aprint("subj4", 0.1), {.label = "subj4", .required = {subj2, subj3}});
  sub->update({subj1, subj2, subj3, subj4});
  Scheduler main_sched{Sequence{
      make_job(aprint("main-start", 0.1), {.label = "main-start"}),
      sub,
      make_job(aprint("main-end", 0.1), {.label = "main-end"}),
  }};
  EXPECT_EQ(main_sched.size(), 3u);
  EXPECT_EQ(main_sched.iterate_jobs().size(), 6u);
  Watch watch;
  EXPECT_TRUE(main_sched.run());
  expect_about(watch.seconds(), 0.5);  // 0.1 + (0.1 + 0.1 + 0.1) + 0.1
  EXPECT_EQ(trace, "main-start subj1 subj2 subj3 subj4 main-end ");
  EXPECT_TRUE(sub->is_done());
}

}  // namespace
}  // namespace asyncjobs
