// A job that overflows its guarded stack dies with "stack overflow in job <name>".

#include <string>

#include "asyncjobs/internal/reactor/reactor.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace asyncjobs {
namespace {

// Not a tail call, and the frame is used, so no compiler can turn it into a loop.
int recurse_forever(int depth) {
  if (depth < 0) return 0;  // never: keeps -Winfinite-recursion quiet
  volatile char frame[256];
  frame[0] = static_cast<char>(depth);
  return recurse_forever(depth + 1) + frame[0];
}

void overflow_in_task(const std::string& name) {
  testing::TestTask task([] { recurse_forever(0); }, name);
  Reactor reactor;
  reactor.spawn(task.task());
  reactor.run();
}

class StackOverflowTest : public ::testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

TEST_F(StackOverflowTest, DeepRecursionNamesTheJob) {
  EXPECT_DEATH(overflow_in_task("deep"), "stack overflow in job deep");
}

TEST_F(StackOverflowTest, TheMessageNamesTheOverflowingJob) {
  EXPECT_DEATH(overflow_in_task("another one"), "stack overflow in job another one");
}

// A task that ran before the overflowing one does not confuse the report.
TEST_F(StackOverflowTest, OnlyTheOverflowingTaskIsNamed) {
  auto scenario = [] {
    testing::TestTask fine([] { Reactor::current()->yield(); }, "fine");
    testing::TestTask deep([] { recurse_forever(0); }, "deep");
    Reactor reactor;
    reactor.spawn(fine.task());
    reactor.spawn(deep.task());
    reactor.run();
  };
  EXPECT_DEATH(scenario(), "stack overflow in job deep\n");
}

}  // namespace
}  // namespace asyncjobs
