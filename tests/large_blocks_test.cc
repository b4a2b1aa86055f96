// The containers behind a scheduler's per-job arrays: RingQueue (a runner's queue) and the
// huge-page allocator with its per-thread block cache.
#include <sys/mman.h>
#include <sys/resource.h>

#include <cstdint>
#include <cstring>
#include <thread>
#include <utility>
#include <vector>

#include "asyncjobs/internal/memory/huge_page_allocator.h"
#include "asyncjobs/internal/memory/huge_page_growth.h"
#include "asyncjobs/internal/memory/ring_queue.h"
#include "gtest/gtest.h"

namespace asyncjobs::internal {
namespace {

TEST(RingQueue, KeepsFifoOrderAcrossWrapAndGrowth) {
  RingQueue<int> queue;
  int next_in = 0, next_out = 0;
  // Interleave pushes and pops so that the ring wraps before each growth.
  for (int round = 0; round < 12; ++round) {
    for (int i = 0; i < 50 + round * 40; ++i) queue.push_back(next_in++);
    for (int i = 0; i < 30 + round * 10; ++i) {
      ASSERT_EQ(queue.front(), next_out);
      queue.pop_front();
      ++next_out;
    }
  }
  ASSERT_EQ(queue.size(), static_cast<size_t>(next_in - next_out));
  for (size_t i = 0; i < queue.size(); ++i) EXPECT_EQ(queue[i], next_out + static_cast<int>(i));
  while (!queue.empty()) {
    EXPECT_EQ(queue.front(), next_out++);
    queue.pop_front();
  }
  EXPECT_EQ(next_out, next_in);
}

TEST(RingQueue, StartsEmpty) {
  RingQueue<int> queue;
  EXPECT_TRUE(queue.empty());
  queue.push_back(7);
  EXPECT_FALSE(queue.empty());
  EXPECT_EQ(queue.front(), 7);
}

TEST(HugePageAllocator, LargeBlocksAreUsableAndAligned) {
  const size_t bytes = kLargeBlock * 3 + 123;
  auto* block = static_cast<unsigned char*>(allocate_large(bytes));
  std::memset(block, 0xab, bytes);
  EXPECT_EQ(block[0], 0xab);
  EXPECT_EQ(block[bytes - 1], 0xab);
#if !defined(__SANITIZE_ADDRESS__)
  EXPECT_EQ(reinterpret_cast<uintptr_t>(block) % (size_t{2} << 20), 0u);
#endif
  free_large(block, bytes);
}

TEST(HugePageAllocator, VectorsOfManySizesKeepTheirContents) {
  for (int round = 0; round < 3; ++round) {  // later rounds reuse cached blocks
    std::vector<uint64_t, HugePageAllocator<uint64_t>> values;
    for (uint64_t i = 0; i < 2'000'000; ++i) values.push_back(i * 3);
    for (uint64_t i = 0; i < values.size(); i += 9973) ASSERT_EQ(values[i], i * 3);
  }
}

#if !defined(__SANITIZE_ADDRESS__)
TEST(HugePageAllocator, AFreedBlockServesTheNextArrayOfItsSize) {
  const size_t bytes = size_t{5} << 20;
  void* first = allocate_large(bytes);
  free_large(first, bytes);
  void* second = allocate_large(bytes);
  EXPECT_EQ(second, first);
  free_large(second, bytes);
}

// A kept block keeps its memory: the next run reuses its pages instead of zeroing fresh
// ones (a block given back with MADV_DONTNEED, by munmap or by malloc's trimming would
// read as zeros here). Both kinds: 4 KiB pages (a 10k-job run's arrays) and huge pages.
TEST(HugePageAllocator, AFreedBlockKeepsItsMemoryForTheNextArray) {
  for (const size_t bytes : {kKeptBlock + 100, size_t{3} << 20}) {
    auto* first = static_cast<unsigned char*>(allocate_large(bytes));
    std::memset(first, 0xA5, bytes);
    free_large(first, bytes);
    auto* second = static_cast<unsigned char*>(allocate_large(bytes));
    ASSERT_EQ(second, first) << bytes;
    EXPECT_EQ(second[0], 0xA5) << bytes;
    EXPECT_EQ(second[bytes - 1], 0xA5) << bytes;
    free_large(second, bytes);
  }
}

// The block cache is per thread: a new thread starts with an empty one.
template <class Body>
void in_new_thread(Body body) {
  std::thread(body).join();
}

// An array grown with grow() keeps the block it outgrew for later arrays, but not its
// pages: kept resident, a million-job member list's old blocks doubled its memory.
TEST(HugePageAllocator, GrowGivesTheOutgrownBlocksPagesBack) {
  in_new_thread([] {
    HugePageVector<uint64_t> values;
    std::vector<std::pair<const void*, size_t>> outgrown;  // block, bytes
    for (uint64_t i = 0; i < (size_t{6} << 20) / sizeof(uint64_t); ++i) {
      if (values.size() == values.capacity()) {
        if (values.capacity() * sizeof(uint64_t) >= kLargeBlock) {
          outgrown.emplace_back(values.data(), values.capacity() * sizeof(uint64_t));
        }
        grow(values);
      }
      values.push_back(i);
    }
    for (uint64_t i = 0; i < values.size(); i += 4099) ASSERT_EQ(values[i], i);
    ASSERT_GE(outgrown.size(), 3u);
    for (const auto& [block, bytes] : outgrown) {
      if (block == values.data()) continue;  // taken from the cache again by a later growth
      std::vector<unsigned char> resident(bytes / 4096);
      ASSERT_EQ(mincore(const_cast<void*>(block), bytes, resident.data()), 0);
      for (unsigned char page : resident) ASSERT_EQ(page & 1, 0) << bytes;
    }
  });
}

TEST(HugePageAllocator, AGrowingArrayTakesTheLargestKeptBlockAtOnce) {
  in_new_thread([] {
    EXPECT_EQ(grown_capacity(10, sizeof(uint64_t)), 20u);  // small arrays just double
    const size_t first_mapped = kKeptBlock / sizeof(uint64_t);
    EXPECT_EQ(grown_capacity(first_mapped / 2, sizeof(uint64_t)), first_mapped);
    const size_t bytes = size_t{8} << 20;
    free_large(allocate_large(bytes), bytes);  // kept for the next array
    EXPECT_EQ(grown_capacity(first_mapped / 2, sizeof(uint64_t)), bytes / sizeof(uint64_t));
  });
}
#endif

TEST(HugePageAllocator, SmallBlocksComeFromOperatorNew) {
  void* block = allocate_large(64);
  ASSERT_NE(block, nullptr);
  std::memset(block, 0, 64);
  free_large(block, 64);
}

#if !defined(__SANITIZE_ADDRESS__)
long page_faults() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt + usage.ru_majflt;
}

// A 10k-job run's arrays (tens to hundreds of KiB): from malloc, they were given back when
// freed (munmap, or trimming the heap) and faulted in again by the next run.
TEST(HugePageAllocator, AMediumBlockIsFaultedInOnce) {
  const size_t bytes = kLargeBlock - 4096;  // 63 pages
  long faults_after_first = 0;
  for (int round = 0; round < 3; ++round) {
    if (round == 1) faults_after_first = page_faults();
    auto* block = static_cast<unsigned char*>(allocate_large(bytes));
    std::memset(block, round, bytes);
    EXPECT_EQ(block[bytes - 1], round);
    free_large(block, bytes);
  }
  EXPECT_LT(page_faults() - faults_after_first, 8);
}
#endif

}  // namespace
}  // namespace asyncjobs::internal
