// PrintJob, make_job with a shutdown callable, and the Watch's message and wall clock.

#include "asyncjobs/print_job.h"

#include <regex>
#include <sstream>
#include <string>

#include "absl/time/clock.h"
#include "asyncjobs/asyncjobs.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace asyncjobs {
namespace {

using PrintJobTest = testing::NothingLeftRunning<>;

TEST_F(PrintJobTest, PrintsItsMessagesJoinedBySpaces) {
  std::ostringstream out;
  auto job = make_print_job({"hello", "world", "42"}, {.out = &out});
  Scheduler scheduler{job};
  EXPECT_TRUE(scheduler.run());
  EXPECT_EQ(out.str(), "hello world 42\n");
  EXPECT_EQ(job->type_name(), "PrintJob");
}

TEST_F(PrintJobTest, PrintsStampedThenSaysItSleepsThenSleeps) {
  std::ostringstream out;
  Watch watch;
  auto job = make_print_job({"early"}, {.sleep = absl::Milliseconds(50), .out = &out});
  auto after = make_print_job({"after"}, {.out = &out}, {.required = {job}});
  Scheduler scheduler({job, after}, {.watch = &watch});
  EXPECT_TRUE(scheduler.run());
  std::smatch match;
  const std::string text = out.str();
  ASSERT_TRUE(std::regex_match(
      text, match, std::regex(R"((\d{3}\.\d{3}) early\nSleeping for 0\.05s\n(\d{3}\.\d{3}) after\n)")))
      << text;
  EXPECT_LT(std::stod(match[1]), 0.05);  // printed before the sleep
  EXPECT_GE(std::stod(match[2]), 0.05);  // the sleep came after
}

TEST_F(PrintJobTest, TheBannerAndASpaceComeFirstOnTheLine) {
  std::ostringstream out;
  Scheduler scheduler{make_print_job({"a", "b"}, {.banner = "-->", .out = &out})};
  EXPECT_TRUE(scheduler.run());
  EXPECT_EQ(out.str(), "--> a b\n");

  std::ostringstream stamped;
  Watch watch;
  Scheduler second({make_print_job({"x"}, {.banner = "step 1", .out = &stamped})},
                   {.watch = &watch});
  EXPECT_TRUE(second.run());
  EXPECT_TRUE(std::regex_match(stamped.str(), std::regex(R"(step 1 \d{3}\.\d{3} x\n)")))
      << stamped.str();
}

TEST_F(PrintJobTest, DetailsAreTheOriginals) {
  EXPECT_EQ(make_print_job({"one"})->details(), "msg= one");
  EXPECT_EQ(make_print_job({"one", "two"})->details(), "msg= one...");
  EXPECT_EQ(make_print_job({"one"}, {.sleep = absl::Milliseconds(500)})->details(),
            "[+ sleep 0.5s] msg= one");
  EXPECT_EQ(make_print_job({"one", "two"}, {.sleep = absl::Seconds(2)})->details(),
            "[+ sleep 2s] msg= one...");
}

TEST_F(PrintJobTest, MakeJobWithAShutdownCallsItOnceAtTheEnd) {
  std::string trace;
  auto job = make_job([&] { trace += "run "; }, [&] { trace += "shutdown"; }, {.label = "j"});
  EXPECT_EQ(job->label(), "j");
  Scheduler scheduler{job};
  EXPECT_TRUE(scheduler.run());
  EXPECT_EQ(trace, "run shutdown");
  EXPECT_TRUE(scheduler.shutdown());
  EXPECT_EQ(trace, "run shutdown");
}

TEST(WatchTest, AMessagePrintsTheElapsedTimeAtConstruction) {
  ::testing::internal::CaptureStdout();
  Watch watch("start");
  Watch both("clock", /*show_elapsed=*/true, /*show_wall_clock=*/true);
  Watch silent("quiet", /*show_elapsed=*/false);
  const std::string out = ::testing::internal::GetCapturedStdout();
  EXPECT_TRUE(std::regex_match(
      out, std::regex(R"(start 000\.\d{3}\nclock 000\.\d{3}\nclock \d\d:\d\d:\d\d\.\d{3}\n)")))
      << out;
}

TEST(WatchTest, PrintWallClockWritesHoursMinutesSecondsMillis) {
  Watch watch;
  std::ostringstream out;
  watch.print_wall_clock("tick", out);
  EXPECT_TRUE(std::regex_match(out.str(), std::regex(R"(\d\d:\d\d:\d\d\.\d{3} tick)")))
      << out.str();
}

}  // namespace
}  // namespace asyncjobs
