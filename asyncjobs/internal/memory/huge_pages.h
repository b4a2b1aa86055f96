#ifndef ASYNCJOBS_INTERNAL_MEMORY_HUGE_PAGES_H_
#define ASYNCJOBS_INTERNAL_MEMORY_HUGE_PAGES_H_

// When the job allocators ask for transparent huge pages (madvise MADV_HUGEPAGE).

#include <cstddef>

namespace asyncjobs::internal {

// Asks for huge pages on [start, start + bytes), a fresh mapping of a job allocator, unless
// the environment variable ASYNCJOBS_HUGE_PAGES=0 (read once per process) says never. A huge
// page fault may stall on memory compaction, but a 4 KiB fault costs far more per byte
// (docs/fibers.md, "What things cost"), so huge pages won at 10k and 1M jobs alike, first
// build included; =0 trades that speed for less memory per job (docs/profiling.md).
void advise_huge_pages(void* start, size_t bytes);

}  // namespace asyncjobs::internal

#endif  // ASYNCJOBS_INTERNAL_MEMORY_HUGE_PAGES_H_
