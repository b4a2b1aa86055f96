#include "gtest/gtest.h"
#include "asyncjobs/scheduler.h"
#include "asyncjobs/fiber_calls.h"
namespace aj = asyncjobs;
TEST(SchedSmoke, Basic) {
  std::string log;
  auto a = aj::make_job([&] { aj::sleep_for(absl::Milliseconds(20)); log += "a"; return 1; });
  auto b = aj::make_job([&] { log += "b"; return 2; });
  auto c = aj::make_job([&] { log += "c"; });
  c->require(a, b);
  aj::Scheduler s{a, b, c};
  EXPECT_TRUE(s.run());
  EXPECT_EQ(log, "bac");
  EXPECT_EQ(a->result<int>(), 1);
  EXPECT_EQ(s.why(), "FINE");
}
