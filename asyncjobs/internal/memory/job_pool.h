#ifndef ASYNCJOBS_INTERNAL_MEMORY_JOB_POOL_H_
#define ASYNCJOBS_INTERNAL_MEMORY_JOB_POOL_H_

// The job pool (make_job, make_scheduler) and its standard allocator.

#include <cstddef>

#include "asyncjobs/internal/memory/typed_allocator.h"

namespace asyncjobs::internal {

// Memory for job objects (make_job, make_scheduler): per-thread free lists by size class,
// carved from large mappings (with transparent huge pages unless disabled, see
// huge_pages.h, so that a graph of a million jobs takes fewer page faults), and a freed job's
// block is reused warm. Blocks may be freed on any thread (they join that thread's lists);
// the mappings are never returned to the system. Sizes above kMaxPooledSize, and every size
// under AddressSanitizer, go to operator new.
inline constexpr size_t kMaxPooledSize = 2048;

void* pool_allocate(size_t bytes);
void pool_free(void* block, size_t bytes) noexcept;

template <class T>
using PoolAllocator = TypedAllocator<T, pool_allocate, pool_free>;

}  // namespace asyncjobs::internal

#endif  // ASYNCJOBS_INTERNAL_MEMORY_JOB_POOL_H_
