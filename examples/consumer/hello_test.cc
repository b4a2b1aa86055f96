// A consumer's test: the library links and runs from another workspace.
#include "asyncjobs/asyncjobs.h"
#include "gtest/gtest.h"

namespace aj = asyncjobs;

TEST(ConsumerTest, RequirementsAndResults) {
  std::string trace;
  auto a = aj::make_job([&] { trace += "a"; });
  auto b = aj::make_job([&] { trace += "b"; return 42; }, {.required = {a}});
  aj::Scheduler scheduler{b, a};
  EXPECT_TRUE(scheduler.run());
  EXPECT_EQ(trace, "ab");
  EXPECT_EQ(b->result<int>(), 42);
}
