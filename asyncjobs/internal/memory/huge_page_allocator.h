#ifndef ASYNCJOBS_INTERNAL_MEMORY_HUGE_PAGE_ALLOCATOR_H_
#define ASYNCJOBS_INTERNAL_MEMORY_HUGE_PAGE_ALLOCATOR_H_

// HugePageAllocator: for the arrays that grow with the number of jobs.

#include <cstddef>
#include <vector>

#include "asyncjobs/internal/memory/typed_allocator.h"

namespace asyncjobs::internal {

// For the arrays that grow with the number of jobs (a scheduler's member list, a runner's
// queue). malloc gives large blocks fresh 4 KiB pages, each a page fault (docs/fibers.md,
// "What things cost"), and gives them back when they are freed, so every run faulted them in
// again: thousands of faults per million-job run, and at 10k jobs a large part of a warm
// fan-out's time (docs/profiling.md). Blocks of kKeptBlock bytes and more are mapped on their own
// (from kLargeBlock on, in whole transparent huge pages), and freed ones (64 MB at most)
// are kept per thread, with their memory, for the next arrays of the same size or larger
// (grow()): no fault, map or unmap when a run repeats. Smaller blocks come from operator
// new; under AddressSanitizer, all of them.
inline constexpr size_t kKeptBlock = size_t{32} << 10;
inline constexpr size_t kLargeBlock = size_t{256} << 10;

void* allocate_large(size_t bytes);
void free_large(void* block, size_t bytes) noexcept;

template <class T>
using HugePageAllocator = TypedAllocator<T, allocate_large, free_large>;

// A vector on those blocks: for an array a run grows with its jobs.
template <class T>
using HugePageVector = std::vector<T, HugePageAllocator<T>>;

}  // namespace asyncjobs::internal

#endif  // ASYNCJOBS_INTERNAL_MEMORY_HUGE_PAGE_ALLOCATOR_H_
