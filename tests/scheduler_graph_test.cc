// A scheduler's graph: queries, edits, checks, and the GraphError of bad input.

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "asyncjobs/asyncjobs.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace asyncjobs {
namespace {

using GraphTest = testing::NothingLeftRunning<>;
using Jobs = std::vector<JobPtr>;

// A job that counts its runs in `*runs` (may be null).
std::shared_ptr<Job> job(const std::string& label, int* runs = nullptr, Jobs required = {}) {
  return make_job(
      [runs] {
        if (runs != nullptr) ++*runs;
      },
      {.label = label, .required = std::move(required)});
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The labels of `jobs`, sorted: for checks that do not depend on order.
std::vector<std::string> labels(const Jobs& jobs) {
  std::vector<std::string> result;
  for (const JobPtr& j : jobs) result.push_back(j->label());
  std::sort(result.begin(), result.end());
  return result;
}
using Labels = std::vector<std::string>;

// Double diamond: a -> {b1, b2} -> c -> {d1, d2} -> e (arrows: "is required by").
struct DoubleDiamond {
  std::shared_ptr<Job> a = job("a");
  std::shared_ptr<Job> b1 = job("b1", nullptr, {a});
  std::shared_ptr<Job> b2 = job("b2", nullptr, {a});
  std::shared_ptr<Job> c = job("c", nullptr, {b1, b2});
  std::shared_ptr<Job> d1 = job("d1", nullptr, {c});
  std::shared_ptr<Job> d2 = job("d2", nullptr, {c});
  std::shared_ptr<Job> e = job("e", nullptr, {d1, d2});
  Scheduler scheduler{e, d2, d1, c, b2, b1, a};  // reversed on purpose
};

// --- Queries

TEST_F(GraphTest, SizeJobsAndIterateJobs) {
  auto a = job("a"), x = job("x"), y = job("y"), z = job("z");
  auto deeper = make_scheduler({z}, {.label = "deeper"});
  auto nested = make_scheduler({x, y, deeper}, {.label = "nested"});
  auto top = make_scheduler({a, nested}, {.label = "top"});
  EXPECT_EQ(top->size(), 2u);  // a nested scheduler counts 1
  EXPECT_EQ(top->jobs(), (Jobs{a, nested}));
  EXPECT_EQ(top->iterate_jobs(), (Jobs{a, x, y, z}));
  EXPECT_EQ(top->iterate_jobs(/*scan_schedulers=*/true), (Jobs{top, a, nested, x, y, deeper, z}));
}

TEST_F(GraphTest, TopologicalOrderPutsRequirementsFirst) {
  DoubleDiamond g;
  const Jobs order = g.scheduler.topological_order();
  ASSERT_EQ(order.size(), 7u);
  auto position = [&](const JobPtr& j) { return std::find(order.begin(), order.end(), j) - order.begin(); };
  for (const JobPtr& j : order) {
    for (const JobPtr& required : j->required()) {
      EXPECT_LT(position(required), position(j)) << required->label() << " before " << j->label();
    }
  }
  EXPECT_EQ(order.front(), g.a);
  EXPECT_EQ(order.back(), g.e);
}

TEST_F(GraphTest, EntryAndExitJobs) {
  DoubleDiamond g;
  EXPECT_EQ(g.scheduler.entry_jobs(), (Jobs{g.a}));
  EXPECT_EQ(g.scheduler.exit_jobs(), (Jobs{g.e}));
  auto forever = make_job([] {}, {.label = "f", .forever = true});
  auto lonely = job("lonely");
  g.scheduler.update({forever, lonely});
  EXPECT_EQ(g.scheduler.entry_jobs(), (Jobs{g.a, forever, lonely}));
  EXPECT_EQ(g.scheduler.exit_jobs(), (Jobs{g.e, lonely}));
  EXPECT_EQ(g.scheduler.exit_jobs(/*discard_forever=*/false), (Jobs{g.e, forever, lonely}));
}

TEST_F(GraphTest, PredecessorsAndSuccessors) {
  DoubleDiamond g;
  EXPECT_EQ(g.scheduler.predecessors(g.c), (Jobs{g.b1, g.b2}));
  EXPECT_EQ(labels(g.scheduler.successors(g.c)), (Labels{"d1", "d2"}));
  EXPECT_TRUE(g.scheduler.predecessors(g.a).empty());
  EXPECT_TRUE(g.scheduler.successors(g.e).empty());
  EXPECT_THROW(g.scheduler.predecessors(job("stranger")), std::invalid_argument);
}

TEST_F(GraphTest, UpstreamAndDownstreamAreTransitive) {
  DoubleDiamond g;
  EXPECT_EQ(labels(g.scheduler.predecessors_upstream(g.d1)), (Labels{"a", "b1", "b2", "c"}));
  EXPECT_EQ(labels(g.scheduler.successors_downstream(g.b2)), (Labels{"c", "d1", "d2", "e"}));
  EXPECT_TRUE(g.scheduler.predecessors_upstream(g.a).empty());
  EXPECT_EQ(labels(g.scheduler.successors_downstream(g.a)),
            (Labels{"b1", "b2", "c", "d1", "d2", "e"}));
}

TEST_F(GraphTest, QueriesFromSeveralStartsGiveTheUnionWithoutTheStarts) {
  DoubleDiamond g;  // inserted e, d2, d1, c, b2, b1, a
  EXPECT_EQ(g.scheduler.predecessors(Jobs{g.c, g.b1}), (Jobs{g.b2, g.a}));
  EXPECT_EQ(g.scheduler.successors(Jobs{g.b1, g.b2}), (Jobs{g.c}));
  EXPECT_EQ(g.scheduler.successors(Jobs{g.a, g.c}), (Jobs{g.d2, g.d1, g.b2, g.b1}));
  EXPECT_EQ(g.scheduler.predecessors_upstream(Jobs{g.d1, g.b2}), (Jobs{g.c, g.b1, g.a}));
  EXPECT_EQ(g.scheduler.successors_downstream(Jobs{g.b1, g.d2}), (Jobs{g.e, g.d1, g.c}));
  EXPECT_TRUE(g.scheduler.successors(Jobs{}).empty());
  EXPECT_THROW(g.scheduler.successors(Jobs{g.a, job("stranger")}), std::invalid_argument);
}

TEST_F(GraphTest, PredecessorsIgnoreRequirementsOutsideTheScheduler) {
  auto outside = job("outside");
  auto inside = job("inside");
  auto b = job("b", nullptr, {outside, inside});
  Scheduler scheduler{inside, b};
  EXPECT_EQ(scheduler.predecessors(b), (Jobs{inside}));
  EXPECT_EQ(scheduler.entry_jobs(), (Jobs{inside}));
}

// --- Edits

TEST_F(GraphTest, BypassAndRemoveHandsRequirementsToSuccessors) {
  DoubleDiamond g;
  g.scheduler.bypass_and_remove(g.c);
  EXPECT_EQ(g.scheduler.size(), 6u);
  EXPECT_EQ(labels(g.d1->required()), (Labels{"b1", "b2"}));
  EXPECT_EQ(labels(g.d2->required()), (Labels{"b1", "b2"}));
  EXPECT_EQ(labels(g.scheduler.successors(g.b1)), (Labels{"d1", "d2"}));
  EXPECT_TRUE(g.scheduler.check_cycles());
  EXPECT_TRUE(g.scheduler.sanitize());  // nothing refers to c any more
  EXPECT_THROW(g.scheduler.bypass_and_remove(g.c), std::invalid_argument);
}

TEST_F(GraphTest, RemoveAnAbsentJobThrowsInvalidArgument) {
  auto a = job("a");
  Scheduler scheduler{a};
  EXPECT_THROW(scheduler.remove(job("b")), std::invalid_argument);
  scheduler.remove(a);
  EXPECT_EQ(scheduler.size(), 0u);
  EXPECT_THROW(scheduler.remove(a), std::invalid_argument);
  Scheduler other{a};  // removed: free to join another scheduler
  EXPECT_EQ(other.size(), 1u);
}

TEST_F(GraphTest, KeepOnlyDropsTheRestAndTheirRequirements) {
  DoubleDiamond g;
  g.scheduler.keep_only({g.a, g.b1, g.c});
  EXPECT_EQ(labels(g.scheduler.jobs()), (Labels{"a", "b1", "c"}));
  EXPECT_EQ(g.c->required(), (Jobs{g.b1}));
  EXPECT_TRUE(g.scheduler.sanitize());
  Scheduler elsewhere{g.e};  // dropped jobs are free again
  EXPECT_EQ(elsewhere.size(), 1u);
}

// Removing members renumbers the rest: a job added afterwards links to them and runs (an
// index left stale would make `b` look like it required itself: a false cycle).
TEST_F(GraphTest, JobsAddedAfterARemovalOrKeepOnlyLinkAndRun) {
  for (const bool by_keep_only : {false, true}) {
    int runs = 0;
    auto x = job("x", &runs), a = job("a", &runs);
    Scheduler scheduler{x, a};
    if (by_keep_only) {
      scheduler.keep_only({a});
    } else {
      scheduler.remove(x);
    }
    scheduler.add(job("b", &runs, {a}));
    EXPECT_TRUE(scheduler.run()) << by_keep_only;
    EXPECT_EQ(runs, 2) << by_keep_only;
  }
}

TEST_F(GraphTest, KeepOnlyBetweenIsSetAlgebraOnTheDoubleDiamond) {
  struct Case {
    const char* name;
    std::vector<std::string> starts, ends;
    bool keep_starts, keep_ends;
    Labels kept;
  };
  const std::vector<Case> cases = {
      {"b1..d2", {"b1"}, {"d2"}, true, true, {"b1", "c", "d2"}},
      {"b1..d2 open start", {"b1"}, {"d2"}, false, true, {"c", "d2"}},
      {"b1..d2 open end", {"b1"}, {"d2"}, true, false, {"b1", "c"}},
      {"b1..d2 open", {"b1"}, {"d2"}, false, false, {"c"}},
      {"from c", {"c"}, {}, true, true, {"c", "d1", "d2", "e"}},
      {"up to c", {}, {"c"}, true, true, {"a", "b1", "b2", "c"}},
      {"after c", {"c"}, {}, false, true, {"d1", "d2", "e"}},
      {"both b to both d", {"b1", "b2"}, {"d1", "d2"}, true, true, {"b1", "b2", "c", "d1", "d2"}},
      {"a..e", {"a"}, {"e"}, true, true, {"a", "b1", "b2", "c", "d1", "d2", "e"}},
      {"no bounds", {}, {}, true, true, {"a", "b1", "b2", "c", "d1", "d2", "e"}},
      {"d1..b1: empty", {"d1"}, {"b1"}, true, true, {}},
  };
  for (const Case& test : cases) {
    SCOPED_TRACE(test.name);
    DoubleDiamond g;
    auto find = [&](const std::vector<std::string>& names) {
      Jobs found;
      for (const std::string& name : names) {
        for (const JobPtr& j : g.scheduler.jobs()) {
          if (j->label() == name) found.push_back(j);
        }
      }
      return found;
    };
    g.scheduler.keep_only_between(find(test.starts), find(test.ends), test.keep_starts,
                                  test.keep_ends);
    EXPECT_EQ(labels(g.scheduler.jobs()), test.kept);
    EXPECT_TRUE(g.scheduler.sanitize());  // no requirement left on a dropped job
  }
}

// --- Checks

TEST_F(GraphTest, CheckCyclesIsRecursive) {
  auto x = job("x"), y = job("y");
  x->require(y);
  auto nested = make_scheduler({x, y});
  Scheduler scheduler{job("a"), nested};
  EXPECT_TRUE(scheduler.check_cycles());
  y->require(x);
  EXPECT_FALSE(nested->check_cycles());
  EXPECT_FALSE(scheduler.check_cycles());
  EXPECT_THROW(nested->topological_order(), GraphError);
}

TEST_F(GraphTest, SanitizeDropsRequirementsOutsideRecursively) {
  auto outside = job("outside"), other_outside = job("other");
  auto a = job("a", nullptr, {outside});
  auto x = job("x", nullptr, {other_outside});
  auto nested = make_scheduler({x});
  Scheduler scheduler{a, nested};
  EXPECT_FALSE(scheduler.sanitize());
  EXPECT_TRUE(a->required().empty());
  EXPECT_TRUE(x->required().empty());
  EXPECT_TRUE(scheduler.sanitize());
}

TEST_F(GraphTest, SanitizeCountsOnNestedSchedulersAlone) {
  auto outside = job("outside");
  auto x = job("x", nullptr, {outside});
  auto nested = make_scheduler({x});
  Scheduler scheduler{job("a"), nested};
  EXPECT_FALSE(scheduler.sanitize());  // only the nested scheduler had something to drop
  EXPECT_TRUE(x->required().empty());
}

TEST_F(GraphTest, SanitizeKeepsRequirementsInside) {
  DoubleDiamond g;
  EXPECT_TRUE(g.scheduler.sanitize());
  EXPECT_EQ(g.c->required(), (Jobs{g.b1, g.b2}));
}

// --- Bad input: GraphError naming the jobs, and nothing started

TEST_F(GraphTest, AddingAJobOfAnotherSchedulerThrows) {
  auto a = job("shared-job");
  Scheduler first({a}, {.label = "first"});
  Scheduler second({.label = "second"});
  try {
    second.add(a);
    FAIL() << "add() did not throw";
  } catch (const GraphError& error) {
    EXPECT_TRUE(contains(error.what(), "shared-job")) << error.what();
    EXPECT_TRUE(contains(error.what(), "first")) << error.what();
  }
  EXPECT_EQ(second.size(), 0u);
  EXPECT_THROW({ Scheduler third{a}; }, GraphError);
  EXPECT_THROW(second.update({job("fresh"), a}), GraphError);
  EXPECT_EQ(second.size(), 0u);  // changed nothing, not even the fresh job
}

TEST_F(GraphTest, AddingAJobToTheSameSchedulerAgainIsANoOp) {
  auto a = job("a");
  Scheduler scheduler{a};
  scheduler.add(a);
  scheduler.update({a, Sequence{a}});
  EXPECT_EQ(scheduler.size(), 1u);
}

TEST_F(GraphTest, RunningACycleThrowsNamingItsJobsAndStartsNothing) {
  int runs = 0;
  auto a = job("alpha", &runs), b = job("beta", &runs), free = job("free", &runs);
  a->require(b);
  b->require(a);
  Scheduler scheduler{free, a, b};
  EXPECT_FALSE(scheduler.check_cycles());
  try {
    scheduler.run();
    FAIL() << "run() did not throw";
  } catch (const GraphError& error) {
    EXPECT_TRUE(contains(error.what(), "alpha")) << error.what();
    EXPECT_TRUE(contains(error.what(), "beta")) << error.what();
  }
  EXPECT_EQ(runs, 0);
  EXPECT_TRUE(free->is_idle());
  EXPECT_THROW(scheduler.topological_order(), GraphError);
}

TEST_F(GraphTest, RunningANestedCycleThrowsAndStartsNothing) {
  int runs = 0;
  auto x = job("x", &runs), y = job("y", &runs);
  x->require(y);
  y->require(x);
  auto nested = make_scheduler({x, y, job("z", &runs)});
  Scheduler scheduler{job("a", &runs), nested};
  EXPECT_THROW(scheduler.run(), GraphError);
  EXPECT_EQ(runs, 0);
}

TEST_F(GraphTest, RunningWithARequirementOutsideThrowsAndSuggestsSanitize) {
  int runs = 0;
  auto outside = job("outsider", &runs);
  auto a = job("insider", &runs, {outside});
  auto free = job("free", &runs);
  Scheduler scheduler({free, a}, {.label = "sched"});
  try {
    scheduler.run();
    FAIL() << "run() did not throw";
  } catch (const GraphError& error) {
    EXPECT_TRUE(contains(error.what(), "outsider")) << error.what();
    EXPECT_TRUE(contains(error.what(), "insider")) << error.what();
    EXPECT_TRUE(contains(error.what(), "sanitize")) << error.what();
  }
  EXPECT_EQ(runs, 0);
  // The failed check did not count as a run: once sanitized, it runs.
  EXPECT_FALSE(scheduler.sanitize());
  EXPECT_TRUE(scheduler.run());
  EXPECT_EQ(runs, 2);
}

TEST_F(GraphTest, RunningASchedulerTwiceThrowsAndStartsNothing) {
  int runs = 0;
  Scheduler scheduler({job("a", &runs)}, {.label = "once"});
  EXPECT_TRUE(scheduler.run());
  EXPECT_EQ(runs, 1);
  try {
    scheduler.run();
    FAIL() << "second run() did not throw";
  } catch (const GraphError& error) {
    EXPECT_TRUE(contains(error.what(), "once")) << error.what();
  }
  EXPECT_EQ(runs, 1);
}

TEST_F(GraphTest, RunningANestedSchedulerThatAlreadyRanThrowsAndStartsNothing) {
  int runs = 0;
  auto nested = make_scheduler({job("x", &runs)}, {.label = "used"});
  EXPECT_TRUE(nested->run());
  EXPECT_EQ(runs, 1);
  Scheduler scheduler{job("a", &runs), nested};
  EXPECT_THROW(scheduler.run(), GraphError);
  EXPECT_EQ(runs, 1);
}

TEST_F(GraphTest, ASchedulerCannotContainItself) {
  auto nested = make_scheduler({.label = "nested"});
  auto top = make_scheduler({nested}, {.label = "top"});
  EXPECT_THROW(nested->add(top), GraphError);
  EXPECT_THROW(nested->add(nested), GraphError);
}

// A run's requirement counts and start plan are counted as jobs are added: what changes after
// an add, or comes from elsewhere, must still be seen.
TEST_F(GraphTest, ARequirementAddedAfterTheJobWasAddedIsWaitedFor) {
  std::string trace;
  auto b = testing::step(&trace, "b", 0), a = testing::step(&trace, "a", 0);
  Scheduler scheduler({b, a}, {.jobs_window = 1});
  b->require(a);
  EXPECT_TRUE(scheduler.run());
  EXPECT_EQ(trace, "ab");
}

TEST_F(GraphTest, ARequirementDroppedAfterTheJobWasAddedIsNotWaitedFor) {
  int runs = 0;
  auto a = job("a", &runs), b = job("b", &runs, {a});
  Scheduler scheduler{a, b};
  b->unrequire(a);
  EXPECT_TRUE(scheduler.run());
  EXPECT_EQ(runs, 2);
}

TEST_F(GraphTest, AJobMadeForeverAfterItWasAddedIsNotWaitedFor) {
  Event never;
  auto a = job("a");
  auto x = make_job([&never] { never.wait(); }, {.label = "x"});
  Scheduler scheduler({a, x}, {.timeout = absl::Seconds(30)});
  x->set_forever(true);
  EXPECT_TRUE(scheduler.run());
  EXPECT_FALSE(scheduler.failed_time_out());
  EXPECT_TRUE(x->is_cancelled());
}

// Many dependents, linked in one order and added in another: they start in insertion order.
TEST_F(GraphTest, ManyDependentsStartInInsertionOrderWhateverTheOrderOfRequireCalls) {
  for (const bool reversed : {false, true}) {
    std::string trace;
    auto root = testing::step(&trace, "-", 0);
    Jobs dependents;
    for (char name = 'a'; name <= 't'; ++name) {
      dependents.push_back(testing::step(&trace, std::string(1, name), 0));
    }
    if (reversed) std::reverse(dependents.begin(), dependents.end());
    for (const JobPtr& dependent : dependents) dependent->require(root);
    if (reversed) std::reverse(dependents.begin(), dependents.end());
    Scheduler scheduler({.jobs_window = 1});
    scheduler.add(root);
    for (const JobPtr& dependent : dependents) scheduler.add(dependent);
    EXPECT_TRUE(scheduler.run());
    EXPECT_EQ(trace, "-abcdefghijklmnopqrst") << reversed;
  }
}

// A job of another scheduler that requires a member is not started by this one's run.
TEST_F(GraphTest, ADependentInAnotherSchedulerIsNotStarted) {
  int runs = 0;
  auto a = job("a", &runs);
  auto other = job("other", &runs, {a});
  Scheduler first{a};
  Scheduler second{other};
  EXPECT_TRUE(first.run());
  EXPECT_EQ(runs, 1);
  EXPECT_TRUE(other->is_idle());
}

// A requirement made while the run goes on does not count in that run: `b` waits for `slow`
// only, not for `fast`, which made `b` require it as it ran.
TEST_F(GraphTest, ARequirementMadeDuringTheRunDoesNotCountInIt) {
  std::string trace;
  auto slow = testing::step(&trace, "s", 50);
  auto b = testing::step(&trace, "b", 0, {.required = {slow}});
  std::shared_ptr<Job> fast;
  fast = make_job([&] {
    b->require(fast);
    trace += "f";
  }, {.label = "fast"});
  Scheduler scheduler{slow, fast, b};
  EXPECT_TRUE(scheduler.run());
  EXPECT_EQ(trace, "fsb");
}

// A required job that expired before its dependent was added: GraphError, as for a job
// outside the scheduler.
TEST_F(GraphTest, RunningWithAnExpiredRequirementThrows) {
  int runs = 0;
  auto a = job("a", &runs);
  a->require(job("gone", &runs));
  Scheduler scheduler{a};
  EXPECT_THROW(scheduler.run(), GraphError);
  EXPECT_EQ(runs, 0);
}

}  // namespace
}  // namespace asyncjobs
