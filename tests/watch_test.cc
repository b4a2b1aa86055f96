// Watch: a stopwatch with the original's "%07.3f" time stamps.

#include "asyncjobs/watch.h"

#include <cstdlib>
#include <sstream>
#include <string>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace asyncjobs {
namespace {

using ::testing::MatchesRegex;

TEST(WatchTest, ElapsedIsZeroPaddedWithThreeDecimals) {
  Watch watch;
  EXPECT_THAT(watch.elapsed(), MatchesRegex("[0-9][0-9][0-9]\\.[0-9][0-9][0-9]"));
  EXPECT_LT(std::atof(watch.elapsed().c_str()), 1.0);
}

TEST(WatchTest, SecondsMeasuresElapsedTime) {
  Watch watch;
  absl::SleepFor(absl::Milliseconds(30));
  const double seconds = watch.seconds();
  EXPECT_GE(seconds, 0.030);
  EXPECT_LT(seconds, 1.0);
  const double from_text = std::atof(watch.elapsed().c_str());
  EXPECT_GE(from_text, 0.030);
  EXPECT_LT(from_text, 1.0);
}

TEST(WatchTest, ResetRestarts) {
  Watch watch;
  absl::SleepFor(absl::Milliseconds(30));
  const double before = watch.seconds();
  watch.reset();
  EXPECT_LT(watch.seconds(), before);
  EXPECT_GE(watch.seconds(), 0.0);
}

TEST(WatchTest, PrintElapsedWritesElapsedSpaceSuffix) {
  Watch watch;
  std::ostringstream out;
  watch.print_elapsed("done", out);
  EXPECT_THAT(out.str(), MatchesRegex("[0-9]{3}\\.[0-9]{3} done"));
  std::ostringstream bare;
  watch.print_elapsed("", bare);
  EXPECT_THAT(bare.str(), MatchesRegex("[0-9]{3}\\.[0-9]{3} "));
}

TEST(WatchTest, PrintElapsedDefaultsToStdout) {
  Watch watch;
  ::testing::internal::CaptureStdout();
  watch.print_elapsed("to stdout");
  const std::string printed = ::testing::internal::GetCapturedStdout();
  EXPECT_THAT(printed, MatchesRegex("[0-9]{3}\\.[0-9]{3} to stdout"));
}

}  // namespace
}  // namespace asyncjobs
