// The library's errors: each can be caught as asyncjobs::Error and as its standard base,
// and what() is the same through both; Cancelled is none of them.

#include "asyncjobs/errors.h"

#include <stdexcept>
#include <string>
#include <type_traits>

#include "asyncjobs/asyncjobs.h"
#include "asyncjobs/slurm.h"
#include "asyncjobs/ssh.h"
#include "gtest/gtest.h"

namespace asyncjobs {
namespace {

template <class E, class Standard>
void expect_caught_as_both(const E& error, const std::string& message) {
  static_assert(std::is_base_of_v<Standard, E> && std::is_base_of_v<Error, E>);
  try {
    throw error;
  } catch (const Error& caught) {
    EXPECT_EQ(caught.what(), message);
  }
  try {
    throw error;
  } catch (const Standard& caught) {
    EXPECT_EQ(caught.what(), message);
  }
}

TEST(ErrorsTest, EveryErrorIsAnErrorAndItsStandardException) {
  expect_caught_as_both<TimeoutError, std::runtime_error>(TimeoutError("late"), "late");
  expect_caught_as_both<RunCancelled, std::runtime_error>(RunCancelled("run cancelled"),
                                                          "run cancelled");
  expect_caught_as_both<GraphError, std::logic_error>(GraphError("a cycle"), "a cycle");
  expect_caught_as_both<ProcessError, std::runtime_error>(
      ProcessError("false", {.exit_code = 1, .signal = 0}), "`false` exited with code 1");
  expect_caught_as_both<ssh::ConnectionError, std::runtime_error>(
      ssh::ConnectionError("h:22: refused"), "h:22: refused");
  expect_caught_as_both<ssh::CommandFailedError, std::runtime_error>(
      ssh::CommandFailedError("u@h:22", "false", {.exit_code = 1}),
      "u@h:22: `false` exited with code 1");
  expect_caught_as_both<slurm::BatchError, std::runtime_error>(
      slurm::BatchError("Slurm job 7 ended FAILED", {.job_id = "7", .state = "FAILED"}),
      "Slurm job 7 ended FAILED");
  static_assert(!std::is_base_of_v<Error, Cancelled>);
}

TEST(ErrorsTest, ACriticalRunsErrorIsCaughtAsOne) {
  Scheduler scheduler({make_job([] { sleep_for(absl::Seconds(10)); })},
                      {.timeout = absl::Milliseconds(20)});
  try {
    scheduler.run();
    FAIL() << "a critical scheduler that timed out throws";
  } catch (const Error& error) {
    EXPECT_NE(dynamic_cast<const TimeoutError*>(&error), nullptr) << error.what();
  }
  Scheduler broken{make_process_job({"false"})};
  try {
    broken.run();
    FAIL() << "a critical job's ProcessError propagates";
  } catch (const Error& error) {
    EXPECT_NE(dynamic_cast<const ProcessError*>(&error), nullptr) << error.what();
  }
}

}  // namespace
}  // namespace asyncjobs
