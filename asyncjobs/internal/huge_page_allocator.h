#ifndef ASYNCJOBS_INTERNAL_HUGE_PAGE_ALLOCATOR_H_
#define ASYNCJOBS_INTERNAL_HUGE_PAGE_ALLOCATOR_H_

#include <cstddef>

namespace asyncjobs::internal {

// For the arrays that grow with the number of jobs (a scheduler's member list): blocks of
// kHugeBlock bytes and more are mapped on their own with transparent huge pages and
// unmapped when freed, smaller ones come from operator new. malloc gives such blocks fresh
// 4 KiB pages, each a page fault (1.4 us here): growing a million-job list costs thousands
// of them, against a dozen with huge pages. Under AddressSanitizer everything goes to
// operator new.
inline constexpr size_t kHugeBlock = size_t{2} << 20;

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
