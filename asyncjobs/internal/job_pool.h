#ifndef ASYNCJOBS_INTERNAL_JOB_POOL_H_
#define ASYNCJOBS_INTERNAL_JOB_POOL_H_

#include <cstddef>

namespace asyncjobs::internal {

// Memory for job objects (make_job, make_scheduler): per-thread free lists by size class,
// carved from large mappings with transparent huge pages, so that building a graph of a
// million jobs takes a few page faults instead of a hundred thousand, and a freed job's
// block is reused warm. Blocks may be freed on any thread (they join that thread's lists);
// the mappings are never returned to the system. Sizes above kMaxPooledSize, and every size
// under AddressSanitizer, go to operator new.
inline constexpr size_t kMaxPooledSize = 2048;

void* pool_allocate(size_t bytes);
void pool_free(void* block, size_t bytes) noexcept;

template <class T>
struct PoolAllocator {
  using value_type = T;
  PoolAllocator() = default;
  template <class U>
  PoolAllocator(const PoolAllocator<U>&) {}
  T* allocate(size_t n) { return static_cast<T*>(pool_allocate(n * sizeof(T))); }
  void deallocate(T* block, size_t n) noexcept { pool_free(block, n * sizeof(T)); }
  template <class U>
  bool operator==(const PoolAllocator<U>&) const {
    return true;
  }
};

}  // namespace asyncjobs::internal

#endif  // ASYNCJOBS_INTERNAL_JOB_POOL_H_
