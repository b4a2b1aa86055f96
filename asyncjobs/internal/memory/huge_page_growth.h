#ifndef ASYNCJOBS_INTERNAL_MEMORY_HUGE_PAGE_GROWTH_H_
#define ASYNCJOBS_INTERNAL_MEMORY_HUGE_PAGE_GROWTH_H_

// grow(): how an array on huge-page blocks grows, reusing the blocks a previous run kept.

#include <cstddef>
#include <iterator>

#include "asyncjobs/internal/memory/huge_page_allocator.h"

namespace asyncjobs::internal {

// The capacity a full array of `capacity` elements should grow to: twice as large, or, once
// that is a kept block's size, all of the largest kept block if it holds more. A run that
// repeats a graph then grows its array once, into memory still resident from the last run,
// instead of through every smaller size (each faulted in and zeroed again).
size_t grown_capacity(size_t capacity, size_t element_size);

// Gives the pages of a block from allocate_large(bytes) back to the system; the block stays
// usable (it reads as zeros). No-op for a block from operator new.
void release_pages(void* block, size_t bytes) noexcept;

// Grows a full vector to grown_capacity(). The block it outgrew is kept for a later array,
// without its pages: kept resident, every block a million-job array grew through would
// double its memory (a scheduler's member list: 16 MB more, 17 B per job). Throws
// std::bad_alloc, leaving the vector unchanged, if the larger block cannot be had.
template <class T>
void grow(HugePageVector<T>& vector) {
  HugePageVector<T> larger;
  larger.reserve(grown_capacity(vector.capacity(), sizeof(T)));
  larger.insert(larger.end(), std::make_move_iterator(vector.begin()),
                std::make_move_iterator(vector.end()));
  vector.clear();
  release_pages(vector.data(), vector.capacity() * sizeof(T));
  vector.swap(larger);
}

}  // namespace asyncjobs::internal

#endif  // ASYNCJOBS_INTERNAL_MEMORY_HUGE_PAGE_GROWTH_H_
