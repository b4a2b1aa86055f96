#ifndef ASYNCJOBS_INTERNAL_HUGE_PAGE_ALLOCATOR_H_
#define ASYNCJOBS_INTERNAL_HUGE_PAGE_ALLOCATOR_H_

#include <cstddef>

namespace asyncjobs::internal {

// For the arrays that grow with the number of jobs (a scheduler's member list, a runner's
// queue). malloc gives large blocks fresh 4 KiB pages, each a page fault (1.4 us here):
// growing a million-job list cost thousands of them per run. Blocks of kLargeBlock bytes
// and more are mapped on their own, in whole huge pages (transparent huge pages), and a
// few freed ones are kept per thread for the next arrays of the same size, so that a
// program building graph after graph stops faulting. Smaller blocks come from operator
// new; under AddressSanitizer, all of them.
inline constexpr size_t kLargeBlock = size_t{256} << 10;

void* allocate_large(size_t bytes);
void free_large(void* block, size_t bytes) noexcept;

template <class T>
struct HugePageAllocator {
  using value_type = T;
  HugePageAllocator() = default;
  template <class U>
  HugePageAllocator(const HugePageAllocator<U>&) {}
  T* allocate(size_t n) { return static_cast<T*>(allocate_large(n * sizeof(T))); }
  void deallocate(T* block, size_t n) noexcept { free_large(block, n * sizeof(T)); }
  template <class U>
  bool operator==(const HugePageAllocator<U>&) const {
    return true;
  }
};

}  // namespace asyncjobs::internal

#endif  // ASYNCJOBS_INTERNAL_HUGE_PAGE_ALLOCATOR_H_
