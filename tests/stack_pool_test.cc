// StackPool::trim: which free stacks keep their pages when a run ends (mincore tells).
#include "asyncjobs/internal/fiber/stack.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace asyncjobs::internal {
namespace {

// Whether the page just below the stack's top (the first one a fiber writes) is resident.
bool top_page_resident(const Stack& stack) {
  const size_t page = sysconf(_SC_PAGESIZE);
  unsigned char resident = 0;
  char* top_page = static_cast<char*>(stack.top()) - page;
  EXPECT_EQ(mincore(top_page, page, &resident), 0);
  return (resident & 1) != 0;
}

// Acquires `count` stacks (the pool's LIFO order), writes their top page, releases them.
std::vector<Stack> use_stacks(StackPool& pool, size_t count) {
  std::vector<Stack> stacks;
  for (size_t i = 0; i < count; ++i) {
    stacks.push_back(pool.acquire());
    static_cast<volatile char*>(stacks.back().top())[-1] = 1;
  }
  for (const Stack& stack : stacks) pool.release(stack);
  return stacks;
}

size_t resident_count(const std::vector<Stack>& stacks) {
  size_t count = 0;
  for (const Stack& stack : stacks) count += top_page_resident(stack);
  return count;
}

class StackPoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    saved_ = stack_options();
    set_stack_options({.guard_page = false, .warm_stacks = 10});
    pool().trim();  // forget the peak of whatever ran before
    pool().trim();
  }
  void TearDown() override { set_stack_options(saved_); }
  static StackPool& pool() { return StackPool::for_this_thread(); }

  StackOptions saved_;
};

TEST_F(StackPoolTest, ARunRepeatedAtTheSameSizeFindsItsStacksWarm) {
  constexpr size_t kStacks = 1000;
  const std::vector<Stack> used = use_stacks(pool(), kStacks);
  pool().trim();
  EXPECT_EQ(resident_count(used), kStacks);  // beyond warm_stacks, kept: the run used them
}

TEST_F(StackPoolTest, ASmallerRunGivesBackWhatItDidNotUse) {
  constexpr size_t kStacks = 1000, kSmaller = 100;
  const std::vector<Stack> used = use_stacks(pool(), kStacks);
  pool().trim();
  use_stacks(pool(), kSmaller);
  pool().trim();
  // Kept: the smaller run's stacks (it used them at once), more than warm_stacks = 10.
  EXPECT_EQ(resident_count(used), kSmaller);
}

TEST_F(StackPoolTest, AColdStackComesWithItsTopPageResident) {
  constexpr size_t kStacks = 100;
  use_stacks(pool(), kStacks);  // now warm: trim them all (warm_stacks 0, peak forgotten)
  set_stack_options({.guard_page = false, .warm_stacks = 0});
  pool().trim();
  pool().trim();
  std::vector<Stack> stacks;
  for (size_t i = 0; i < kStacks; ++i) stacks.push_back(pool().acquire());
  EXPECT_EQ(resident_count(stacks), kStacks);  // populated in one call each, not faulted
  for (const Stack& stack : stacks) pool().release(stack);
}

// One-page mappings with no access: guard pages (a thread's stack has one too). Counted
// rather than all mappings, which sanitizers add to on their own.
size_t guard_page_count() {
  const uintptr_t page = sysconf(_SC_PAGESIZE);
  std::ifstream maps("/proc/self/maps");
  size_t count = 0;
  for (std::string line; std::getline(maps, line);) {
    uintptr_t begin = 0, end = 0;
    char permissions[5] = {};
    if (std::sscanf(line.c_str(), "%lx-%lx %4s", &begin, &end, permissions) != 3) continue;
    count += end - begin == page && std::string_view(permissions) == "---p";
  }
  return count;
}

// A fresh slab's stacks are guarded when first acquired, not all when it is mapped: a run of
// two tasks pays two mprotect calls, not one per stack of the slab.
TEST_F(StackPoolTest, AStackIsGuardedWhenFirstAcquired) {
  set_stack_options({.guard_page = true, .warm_stacks = 10});
  std::thread([] {  // a thread of its own: an empty pool, so the first acquire maps a slab
    StackPool& fresh = StackPool::for_this_thread();
    const size_t before = guard_page_count();
    const Stack first = fresh.acquire();
    EXPECT_EQ(guard_page_count(), before + 1);  // guarding the whole slab makes 16
    const Stack second = fresh.acquire();
    EXPECT_EQ(guard_page_count(), before + 2);
    EXPECT_TRUE(first.guarded);
    EXPECT_TRUE(second.guarded);
    fresh.release(second);
    fresh.release(first);
  }).join();
}

// Stacks a power of two apart would put every top in the same cache sets: guarded or not,
// a stack's top is a page further than the stack's size from its neighbour's.
TEST_F(StackPoolTest, UnguardedStacksKeepAPageBetweenThem) {
  constexpr size_t kStacks = 64;
  const size_t page = sysconf(_SC_PAGESIZE);
  const std::vector<Stack> stacks = use_stacks(pool(), kStacks);
  std::vector<char*> tops;
  for (const Stack& stack : stacks) {
    EXPECT_FALSE(stack.guarded);
    tops.push_back(static_cast<char*>(stack.top()));
  }
  std::sort(tops.begin(), tops.end());
  const size_t size = stacks[0].size;
  size_t neighbours = 0;  // (or the first of another slab)
  for (size_t i = 1; i < tops.size(); ++i) {
    neighbours += static_cast<size_t>(tops[i] - tops[i - 1]) == size + page;
  }
  EXPECT_GT(neighbours, kStacks / 2);
}

}  // namespace
}  // namespace asyncjobs::internal
