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

TEST_F(PrintJobTest, SleepsFirstAndStampsWithTheSchedulersWatch) {
  std::ostringstream out;
  Watch watch;
  auto job = make_print_job({"late"}, {.sleep = absl::Milliseconds(50), .out = &out});
  Scheduler scheduler({job}, {.watch = &watch});
  EXPECT_TRUE(scheduler.run());
  const std::string line = out.str();
  ASSERT_TRUE(std::regex_match(line, std::regex(R"(\d{3}\.\d{3} late\n)"))) << line;
  EXPECT_GE(std::stod(line.substr(0, 7)), 0.05);
}

TEST_F(PrintJobTest, ABannerFramesTheLineWithEquals) {
  std::ostringstream out;
  Scheduler scheduler{make_print_job({"a", "b"}, {.banner = std::string(40, '='), .out = &out})};
  EXPECT_TRUE(scheduler.run());
  const std::string frame(40, '=');
  EXPECT_EQ(out.str(), frame + "\na b\n" + frame + "\n");

  std::ostringstream titled;
  Scheduler second{make_print_job({"x"}, {.banner = "step 1", .out = &titled})};
  EXPECT_TRUE(second.run());
  const std::string top = "==================== step 1 ====================";
  EXPECT_EQ(titled.str(), top + "\nx\n" + std::string(top.size(), '=') + "\n");
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
