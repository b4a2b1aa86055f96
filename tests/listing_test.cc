// Text views of a scheduler: list, list_safe, debrief, stats, repr, in both encodings.

#include "asyncjobs/listing.h"

#include <unistd.h>

#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "asyncjobs/asyncjobs.h"
#include "gtest/gtest.h"

namespace asyncjobs {
namespace {

// Lines joined, each ending with a newline, so that failures show a line diff.
std::string text(const std::vector<std::string>& lines) {
  return absl::StrCat(absl::StrJoin(lines, "\n"), "\n");
}

std::string listing(const Scheduler& scheduler, bool details = false) {
  std::ostringstream out;
  scheduler.list(details, out);
  return out.str();
}

// Restores the process-wide symbol choice after each test.
class ListingTest : public ::testing::Test {
 protected:
  void TearDown() override { set_ascii_symbols(ascii_); }
  bool ascii_ = ascii_symbols();
};

std::shared_ptr<Job> idle_job(const std::string& label, std::vector<JobPtr> required = {}) {
  return make_job([] {}, {.label = label, .required = std::move(required)});
}

// a; n1{x, n2{y, z <- y}, w <- n2, f forever} <- a; b <- n1.
std::shared_ptr<Scheduler> two_levels(std::string critical_label = "n1") {
  auto y = idle_job("y");
  auto n2 = make_scheduler({y, idle_job("z", {y})}, {.label = "n2"});
  auto f = make_job([] {}, {.label = "f", .forever = true});
  auto a = idle_job("a");
  auto n1 = make_scheduler({idle_job("x"), n2, idle_job("w", {n2}), f},
                           {.label = critical_label, .required = {a}});
  return make_scheduler({a, n1, idle_job("b", {n1})}, {.label = "top"});
}

TEST_F(ListingTest, FlatGraphBeforeRunInBothEncodings) {
  auto b1 = idle_job("b1");
  auto boom = make_job([] {}, {.label = "boom", .critical = false, .required = {b1}});
  Scheduler scheduler{b1, boom, idle_job("end", {boom})};
  set_ascii_symbols(false);
  EXPECT_EQ(listing(scheduler), text({
                                    "1 ⚠   ⚐   <Job `b1`> [not done] ",
                                    "2     ⚐   <Job `boom`> [not done] requires={1}",
                                    "3 ⚠   ⚐   <Job `end`> [not done] requires={2}",
                                }));
  set_ascii_symbols(true);
  EXPECT_EQ(listing(scheduler), text({
                                    "1 !    >   <Job `b1`> [not done] ",
                                    "2      >   <Job `boom`> [not done] requires={1}",
                                    "3 !    >   <Job `end`> [not done] requires={2}",
                                }));
}

TEST_F(ListingTest, IdsArePaddedToTheDigitsOfTheTotal) {
  Scheduler scheduler;
  JobPtr previous;
  for (int i = 1; i <= 10; ++i) {
    std::vector<JobPtr> required;
    if (previous) required.push_back(previous);
    previous = scheduler.add(idle_job(absl::StrCat("j", i), required));
  }
  set_ascii_symbols(false);
  const std::string out = listing(scheduler);
  EXPECT_EQ(out.substr(0, out.find('\n')), "01 ⚠   ⚐   <Job `j1`> [not done] ");
  EXPECT_NE(out.find("\n10 ⚠   ⚐   <Job `j10`> [not done] requires={09}\n"), std::string::npos)
      << out;
}

TEST_F(ListingTest, NestedTwoLevelsInBothEncodings) {
  auto top = two_levels();
  set_ascii_symbols(false);
  EXPECT_EQ(listing(*top), text({
                               "1 ⚠   ⚐   <Job `a`> [not done] ",
                               "2 ⚠   ⚐   <Scheduler `n1`> [not done] requires={1} -> entries={3, 4, 8}",
                               "3 ⚠   ⚐   > <Job `x`> [not done] ",
                               "4 ⚠   ⚐   > <Scheduler `n2`> [not done]  -> entries={5}",
                               "5 ⚠   ⚐   >> <Job `y`> [not done] ",
                               "6 ⚠   ⚐   >> <Job `z`> [not done] requires={5}",
                               "4 --end-- << <Scheduler `n2`> exits={6}",
                               "7 ⚠   ⚐   > <Job `w`> [not done] requires={4}",
                               "8 ⚠   ⚐ ∞ > <Job `f`> [not done] ",
                               "2 --end-- < <Scheduler `n1`> exits={3, 7}",
                               "9 ⚠   ⚐   <Job `b`> [not done] requires={2}",
                           }));
  set_ascii_symbols(true);
  EXPECT_EQ(listing(*top), text({
                               "1 !    >   <Job `a`> [not done] ",
                               "2 !    >   <Scheduler `n1`> [not done] requires={1} -> entries={3, 4, 8}",
                               "3 !    >   > <Job `x`> [not done] ",
                               "4 !    >   > <Scheduler `n2`> [not done]  -> entries={5}",
                               "5 !    >   >> <Job `y`> [not done] ",
                               "6 !    >   >> <Job `z`> [not done] requires={5}",
                               "4 --end-- << <Scheduler `n2`> exits={6}",
                               "7 !    >   > <Job `w`> [not done] requires={4}",
                               "8 !    > 8 > <Job `f`> [not done] ",
                               "2 --end-- < <Scheduler `n1`> exits={3, 7}",
                               "9 !    >   <Job `b`> [not done] requires={2}",
                           }));
}

TEST_F(ListingTest, NestedSchedulerAfterRunShowsItsBoolResult) {
  auto top = two_levels();
  ASSERT_TRUE(top->run());
  set_ascii_symbols(false);
  const std::string out = listing(*top);
  EXPECT_NE(out.find("\n2 ⚠ ☉ ☓   <Scheduler `n1`> [[ -> true]] requires={1} -> entries={3, 4, 8}\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("\n6 ⚠ ☉ ☓   >> <Job `z`> [[ -> None]] requires={5}\n"), std::string::npos)
      << out;
  EXPECT_EQ(top->stats(), "3D + 0R + 0I = 3");
}

// b1 -> boom (non-critical, raises) -> end, and a forever tick, cancelled at the end.
struct NonCriticalRun {
  std::shared_ptr<Job> b1 = make_job(
      [] {
        sleep_for(absl::Milliseconds(5));
        return 100;
      },
      {.label = "b1"});
  std::shared_ptr<Job> boom = make_job([] { throw std::runtime_error("boom"); },
                                       {.label = "boom", .critical = false, .required = {b1}});
  std::shared_ptr<Job> end =
      make_job([] { return std::string("fin"); }, {.label = "end", .required = {boom}});
  std::shared_ptr<Job> tick = make_job(
      [] {
        for (;;) sleep_for(absl::Milliseconds(2));
      },
      {.label = "tick", .forever = true});
  Scheduler scheduler{{b1, boom, end, tick}, {.label = "main"}};
};

TEST_F(ListingTest, AfterRunWithNonCriticalFailureAndForeverJob) {
  NonCriticalRun run;
  EXPECT_EQ(run.scheduler.repr(), "Scheduler with 0 done + 0 ongoing + 4 idle = 4 job(s)");
  ASSERT_TRUE(run.scheduler.run());
  set_ascii_symbols(false);
  EXPECT_EQ(listing(run.scheduler),
            text({
                "1 ⚠ ☉ ☓   <Job `b1`> [[ -> 100]] ",
                "2   ★ ☓   <Job `boom`> !! exception => runtime_error:boom!! requires={1}",
                "3 ⚠ ☉ ☓   <Job `end`> [[ -> fin]] requires={2}",
                "4 ⚠ ☉ ↺ ∞ <Job `tick`> [not done] ",
            }));
  set_ascii_symbols(true);
  EXPECT_EQ(listing(run.scheduler),
            text({
                "1 ! :) x   <Job `b1`> [[ -> 100]] ",
                "2   :( x   <Job `boom`> !! exception => runtime_error:boom!! requires={1}",
                "3 ! :) x   <Job `end`> [[ -> fin]] requires={2}",
                "4 ! :) o 8 <Job `tick`> [not done] ",
            }));
  EXPECT_TRUE(run.tick->is_cancelled());
  EXPECT_EQ(run.scheduler.stats(), "3D + 1R + 0I = 4");
  EXPECT_EQ(run.scheduler.repr(), "Scheduler with 3 done + 1 ongoing + 0 idle = 4 job(s)");
  EXPECT_EQ(run.boom->repr(), "  :( x   <Job `boom`> !! exception => runtime_error:boom!! requires={b1}");
}

TEST_F(ListingTest, DebriefAfterCriticalFailure) {
  auto ok1 = make_job([] { return 1; }, {.label = "ok1"});
  auto slow = make_job([] { sleep_for(absl::Seconds(10)); }, {.label = "slow"});
  auto crash = make_job(
      [] {
        sleep_for(absl::Milliseconds(20));
        throw std::invalid_argument("bad input");
      },
      {.label = "crash", .required = {ok1}});
  auto flaky = make_job([] { throw std::runtime_error("flaked"); },
                        {.label = "flaky", .critical = false});
  Scheduler scheduler{{ok1, slow, crash, make_job([] {}, {.label = "after", .required = {crash}}),
                       flaky},
                      {.label = "crit", .critical = false}};
  EXPECT_FALSE(scheduler.run());
  for (bool ascii : {false, true}) {
    set_ascii_symbols(ascii);
    const std::string frame_title =
        ascii ? "3 ! :( x   <Job `crash`>" : "3 ⚠ ★ ☓   <Job `crash`>";
    std::ostringstream out;
    scheduler.debrief(false, out);
    EXPECT_EQ(out.str(),
              text({
                  "----- a CRITICAL job has raised an exception",
                  ascii ? "1 ! :) x   <Job `ok1`> [[ -> 1]] " : "1 ⚠ ☉ ☓   <Job `ok1`> [[ -> 1]] ",
                  ascii ? "2 ! :) o   <Job `slow`> [not done] "
                        : "2 ⚠ ☉ ↺   <Job `slow`> [not done] ",
                  absl::StrCat(frame_title,
                               " !! CRIT. EXC. => invalid_argument:bad input!! requires={1}"),
                  ascii ? "4 !    >   <Job `after`> [not done] requires={3}"
                        : "4 ⚠   ⚐   <Job `after`> [not done] requires={3}",
                  ascii ? "5   :( x   <Job `flaky`> !! exception => runtime_error:flaked!! "
                        : "5   ★ ☓   <Job `flaky`> !! exception => runtime_error:flaked!! ",
                  "===== 2 job(s) with an exception, including 1 critical",
                  "    ********************",
                  absl::StrCat("    ******************** BEG stack for CRITICAL JOB ", frame_title),
                  "    ********************",
                  "    invalid_argument: bad input",
                  "    ********************",
                  absl::StrCat("    ******************** END stack for CRITICAL JOB ", frame_title),
                  "    ********************",
                  "non-critical: flaky: exception flaked",
              }));
  }
  EXPECT_EQ(scheduler.stats(), "3D + 1R + 1I = 5");
}

TEST_F(ListingTest, DebriefOfAFineRunHasNoExceptionSection) {
  Scheduler scheduler{idle_job("only")};
  ASSERT_TRUE(scheduler.run());
  set_ascii_symbols(false);
  std::ostringstream out;
  scheduler.debrief(false, out);
  EXPECT_EQ(out.str(), text({"----- FINE", "1 ⚠ ☉ ☓   <Job `only`> [[ -> None]] "}));
}

TEST_F(ListingTest, NonStandardExceptionShowsItsTypeOnly) {
  auto odd = make_job([] { throw 42; }, {.label = "odd", .critical = false});
  Scheduler scheduler{odd};
  ASSERT_TRUE(scheduler.run());
  set_ascii_symbols(false);
  EXPECT_EQ(listing(scheduler), text({"1   ★ ☓   <Job `odd`> !! exception => int:!! "}));
}

// A subclass: its own type name, a result without operator<<, and details.
struct Point {
  int x, y;
};
class DetailedJob : public AbstractJob {
 public:
  using AbstractJob::AbstractJob;
  Value co_run() override { return Point{1, 2}; }
  std::string details() const override { return "  host: example\n  port: 22"; }
};

TEST_F(ListingTest, DetailsAndSubclassTypeNames) {
  auto job = std::make_shared<DetailedJob>(JobOptions{.label = "custom"});
  Scheduler scheduler{job};
  ASSERT_TRUE(scheduler.run());
  set_ascii_symbols(false);
  EXPECT_EQ(listing(scheduler, /*details=*/true),
            text({"1 ⚠ ☉ ☓   <DetailedJob `custom`> [[ -> <Point>]] ", "  host: example",
                  "  port: 22"}));
  EXPECT_EQ(listing(scheduler), text({"1 ⚠ ☉ ☓   <DetailedJob `custom`> [[ -> <Point>]] "}));
}

TEST_F(ListingTest, ListSafeWorksOnCycles) {
  auto a = idle_job("a");
  auto b = idle_job("b", {a});
  a->require(b);
  auto inner = make_scheduler({idle_job("c")}, {.label = "inner", .critical = false});
  Scheduler scheduler{a, b, inner};
  EXPECT_THROW(listing(scheduler), GraphError);
  set_ascii_symbols(false);
  std::ostringstream out;
  scheduler.list_safe(out);
  EXPECT_EQ(out.str(), text({
                           "⚠   ⚐   1 <Job `a`> requires={2}",
                           "⚠   ⚐   2 <Job `b`> requires={1}",
                           "    ⚐   3 <Scheduler `inner`> ",
                           "⚠   ⚐   3.1 <Job `c`> ",
                           "--end-- 3",
                       }));
}

TEST_F(ListingTest, RequirementOutsideTheSchedulerShowsQuestionMarks) {
  auto outside = idle_job("outside");
  Scheduler scheduler{idle_job("in", {outside})};
  set_ascii_symbols(false);
  EXPECT_EQ(listing(scheduler), text({"1 ⚠   ⚐   <Job `in`> [not done] requires={??}"}));
}

// Runs this test binary again, in a clean `environment`, for the probe below only.
int probe(const std::string& environment, const std::string& expected) {
  char self[4096];
  const ssize_t size = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (size <= 0) return -1;
  self[size] = '\0';
  return std::system(absl::StrCat("env -i ", environment, " PROBE_EXPECTS=", expected, " ", self,
                                  " --gtest_filter=SymbolDetectionTest.Probe >/dev/null 2>&1")
                         .c_str());
}

TEST(SymbolDetectionTest, Probe) {
  const char* expected = std::getenv("PROBE_EXPECTS");
  if (expected == nullptr) GTEST_SKIP() << "run by DecidedOnceFromTheEnvironment";
  EXPECT_EQ(ascii_symbols(), std::string(expected) == "ascii");
}

TEST(SymbolDetectionTest, DecidedOnceFromTheEnvironment) {
  EXPECT_EQ(probe("LANG=C.UTF-8", "unicode"), 0);
  EXPECT_EQ(probe("LANG=C", "ascii"), 0);
  EXPECT_EQ(probe("LC_ALL=POSIX LANG=C.UTF-8", "ascii"), 0);
  EXPECT_EQ(probe("LANG=C.UTF-8 ASYNCJOBS_ASCII=1", "ascii"), 0);
}

}  // namespace
}  // namespace asyncjobs
