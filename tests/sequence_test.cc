// Sequences: chaining, flattening, requirements on the first job, append; and how they run.

#include "asyncjobs/sequence.h"

#include <cctype>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "asyncjobs/asyncjobs.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace asyncjobs {
namespace {

using testing::step;

using SequenceTest = testing::NothingLeftRunning<>;

std::shared_ptr<Job> idle(const std::string& label) {
  return make_job([] {}, {.label = label});
}

using Jobs = std::vector<JobPtr>;

TEST_F(SequenceTest, ChainsItemsInOrder) {
  auto a = idle("a"), b = idle("b"), c = idle("c");
  Sequence sequence{a, b, c};
  EXPECT_EQ(sequence.jobs(), (Jobs{a, b, c}));
  EXPECT_TRUE(a->required().empty());
  EXPECT_EQ(b->required(), (Jobs{a}));
  EXPECT_EQ(c->required(), (Jobs{b}));
}

TEST_F(SequenceTest, NestedSequencesAreFlattened) {
  auto a = idle("a"), b = idle("b"), c = idle("c"), d = idle("d");
  Sequence sequence{a, Sequence{b, c}, d};
  EXPECT_EQ(sequence.jobs(), (Jobs{a, b, c, d}));
  EXPECT_EQ(b->required(), (Jobs{a}));
  EXPECT_EQ(c->required(), (Jobs{b}));
  EXPECT_EQ(d->required(), (Jobs{c}));
}

TEST_F(SequenceTest, RequiredGoesOnTheFirstJob) {
  auto x = idle("x"), y = idle("y"), a = idle("a"), b = idle("b");
  Sequence sequence({a, b}, {x});
  EXPECT_EQ(a->required(), (Jobs{x}));
  sequence.require(y);
  EXPECT_EQ(a->required(), (Jobs{x, y}));
  EXPECT_EQ(b->required(), (Jobs{a}));
}

TEST_F(SequenceTest, AppendChainsEveryNewItem) {
  auto a = idle("a"), b = idle("b"), c = idle("c"), d = idle("d"), e = idle("e");
  Sequence sequence{a};
  sequence.append({b, c}).append({Sequence{d, e}});
  EXPECT_EQ(sequence.jobs(), (Jobs{a, b, c, d, e}));
  EXPECT_EQ(b->required(), (Jobs{a}));
  EXPECT_EQ(c->required(), (Jobs{b}));
  EXPECT_EQ(d->required(), (Jobs{c}));
  EXPECT_EQ(e->required(), (Jobs{d}));
}

TEST_F(SequenceTest, AppendToAnEmptySequence) {
  auto a = idle("a"), b = idle("b");
  Sequence sequence{};
  sequence.require(idle("ignored"));  // no first job: nothing to do
  EXPECT_TRUE(sequence.jobs().empty());
  sequence.append({a, b});
  EXPECT_TRUE(a->required().empty());
  EXPECT_EQ(b->required(), (Jobs{a}));
}

TEST_F(SequenceTest, RunsOneAfterTheOther) {
  std::string trace;
  // Shortest last: in parallel they would end "cba".
  Sequence sequence{step(&trace, "a", 60), step(&trace, "b", 40), step(&trace, "c", 20)};
  Scheduler scheduler{sequence};
  EXPECT_EQ(scheduler.size(), 3u);
  Watch watch;
  EXPECT_TRUE(scheduler.run());
  EXPECT_EQ(trace, "abc");
  EXPECT_GE(watch.seconds(), 0.115);
  EXPECT_LT(watch.seconds(), 0.4);
}

TEST_F(SequenceTest, TwoSequencesRunSideBySide) {
  std::string trace;
  Sequence left{step(&trace, "a", 30), step(&trace, "b", 30)};
  Sequence right{step(&trace, "X", 20), step(&trace, "Y", 20), step(&trace, "Z", 20)};
  // Ends: X@20 a@30 Y@40, then b and Z both @60: check each side's order and the start.
  Scheduler scheduler{left, right};
  Watch watch;
  EXPECT_TRUE(scheduler.run());
  std::string lefts, rights;
  for (char ch : trace) (std::islower(static_cast<unsigned char>(ch)) ? lefts : rights) += ch;
  EXPECT_EQ(lefts, "ab");
  EXPECT_EQ(rights, "XYZ");
  EXPECT_EQ(trace.substr(0, 2), "Xa");
  EXPECT_GE(watch.seconds(), 0.058);
  EXPECT_LT(watch.seconds(), 0.3);
}

TEST_F(SequenceTest, ASequenceCanRequireAnotherOne) {
  std::string trace;
  Sequence first{step(&trace, "a", 20), step(&trace, "b", 0)};
  Sequence second({step(&trace, "c", 0), step(&trace, "d", 0)}, {first.jobs().back()});
  Scheduler scheduler{second, first};  // insertion order does not matter
  EXPECT_TRUE(scheduler.run());
  EXPECT_EQ(trace, "abcd");
}

}  // namespace
}  // namespace asyncjobs
