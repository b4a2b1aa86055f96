#ifndef ASYNCJOBS_INTERNAL_HUGE_PAGES_H_
#define ASYNCJOBS_INTERNAL_HUGE_PAGES_H_

// When the job allocators ask for transparent huge pages (madvise MADV_HUGEPAGE).

#include <cstddef>

namespace asyncjobs::internal {

// Asks for huge pages on [start, start + bytes), a fresh mapping of a job allocator, when
// they pay: a huge page fault may stall on memory compaction (hundreds of microseconds), so
// a program gets them only once its allocators have mapped kHugePagesFrom bytes (a large
// graph, where they save page faults and TLB misses), never for its first jobs. The
// environment variable ASYNCJOBS_HUGE_PAGES=0 (never) or =1 (from the first mapping)
// overrides that, read once per process.
inline constexpr size_t kHugePagesFrom = size_t{64} << 20;
void advise_huge_pages(void* start, size_t bytes);

}  // namespace asyncjobs::internal

#endif  // ASYNCJOBS_INTERNAL_HUGE_PAGES_H_
