#include "gtest/gtest.h"
#include "asyncjobs/asyncjobs.h"
namespace aj = asyncjobs;
struct T { aj::Task task; std::string* log; char c; T(std::string* l, char c) : task(&T::run, this), log(l), c(c) {}
 static void run(void* self) { auto* t = static_cast<T*>(self); for (int i = 0; i < 3; ++i) { *t->log += t->c; aj::yield(); } } };
TEST(Smoke, Yield) { std::string log; aj::Reactor r; T a(&log, 'a'), b(&log, 'b'); r.spawn(&a.task); r.spawn(&b.task); r.run(); EXPECT_EQ(log, "ababab"); }
