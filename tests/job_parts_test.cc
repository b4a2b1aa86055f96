// The parts a job is made of (internal/jobs): its list of requirements (RequiredLinks) and
// what its run left (Outcome), each small so that a million jobs stay small.

#include <any>
#include <exception>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "asyncjobs/internal/jobs/outcome.h"
#include "asyncjobs/internal/jobs/required_links.h"
#include "gtest/gtest.h"

namespace asyncjobs::internal {
namespace {

// Stand-ins for jobs: the list only stores their addresses (aligned as jobs are: it keeps its
// size in their low bits).
AbstractJob* fake_job(int i) {
  alignas(void*) static char jobs[64 * sizeof(void*)];
  return reinterpret_cast<AbstractJob*>(&jobs[i * sizeof(void*)]);
}

std::vector<std::pair<AbstractJob*, uint32_t>> entries(const RequiredLinks& links) {
  std::vector<std::pair<AbstractJob*, uint32_t>> all;
  for (const RequiredLinks::Entry entry : links) all.emplace_back(entry.job, entry.mirror);
  return all;
}

TEST(RequiredLinksTest, IsTwentyFourBytesWithTwoLinksInline) {
  EXPECT_EQ(sizeof(RequiredLinks), 24u);
  RequiredLinks links;
  EXPECT_EQ(links.size(), 0u);
  links.push_back({fake_job(1), 7});
  links.push_back({fake_job(2), 8});
  ASSERT_EQ(links.size(), 2u);
  EXPECT_EQ(links[0].job, fake_job(1));
  EXPECT_EQ(links[0].mirror, 7u);
  EXPECT_EQ(links[1].job, fake_job(2));
  EXPECT_EQ(links[1].mirror, 8u);
  for (size_t i : {0, 1}) {
    links.set_mirror(i, 9);
    links.set_job(i, nullptr);
    EXPECT_EQ(links[i].job, nullptr);
    EXPECT_EQ(links[i].mirror, 9u);
  }
  EXPECT_EQ(links.size(), 2u);
}

TEST(RequiredLinksTest, GrowingKeepsEveryEntryInOrder) {
  RequiredLinks links;
  std::vector<std::pair<AbstractJob*, uint32_t>> expected;
  for (int i = 0; i < 40; ++i) {
    links.push_back({fake_job(i), static_cast<uint32_t>(100 + i)});
    expected.emplace_back(fake_job(i), 100 + i);
    ASSERT_EQ(entries(links), expected) << "after " << i + 1 << " pushes";
  }
}

TEST(RequiredLinksTest, SetAndTruncateWorkInlineAndOnTheHeap) {
  for (int size : {1, 2, 3, 5}) {
    RequiredLinks links;
    for (int i = 0; i < size; ++i) links.push_back({fake_job(i), static_cast<uint32_t>(i)});
    links.set(size - 1, {fake_job(50), 50});
    EXPECT_EQ(links[size - 1].job, fake_job(50));
    EXPECT_EQ(links[size - 1].mirror, 50u);
    links.truncate(size - 1);
    EXPECT_EQ(links.size(), static_cast<size_t>(size - 1));
    links.push_back({fake_job(60), 60});  // reuses the room left
    EXPECT_EQ(links[size - 1].job, fake_job(60));
    if (size > 1) {
      EXPECT_EQ(links[0].job, fake_job(0));
    }
  }
}

TEST(OutcomeTest, HoldsNothingUntilAValueOrAnError) {
  Outcome outcome;
  EXPECT_FALSE(outcome.get().has_value());
  outcome.set(std::any());
  EXPECT_FALSE(outcome.get().has_value());
  outcome.set(std::string("forty-two"));
  EXPECT_EQ(std::any_cast<std::string>(outcome.get()), "forty-two");
  outcome.set(42);  // replaces the value in place
  EXPECT_EQ(std::any_cast<int>(outcome.get()), 42);
  outcome.set(std::any());  // an empty value empties it
  EXPECT_FALSE(outcome.get().has_value());

  outcome.set_error(std::make_exception_ptr(std::runtime_error("boom")));
  const auto* error = std::any_cast<std::exception_ptr>(&outcome.get());
  ASSERT_NE(error, nullptr);
  EXPECT_THROW(std::rethrow_exception(*error), std::runtime_error);
  outcome.reset();
  EXPECT_FALSE(outcome.get().has_value());
}

}  // namespace
}  // namespace asyncjobs::internal
