// The job pool: per-thread free lists by size class, carved from large mappings.
#include "asyncjobs/internal/memory/job_pool.h"

#include <sys/mman.h>

#include <new>

#include "asyncjobs/internal/base/fault_injection.h"
#include "asyncjobs/internal/base/prefetch.h"
#include "asyncjobs/internal/base/sanitizers.h"
#include "asyncjobs/internal/memory/huge_pages.h"

namespace asyncjobs::internal {
#if !ASYNCJOBS_ASAN
namespace {

// Sizes in 8-byte steps (a plain job with its control block is 200 bytes). A block whose size
// is a multiple of 16 is aligned to 16 (alignof(std::max_align_t): a type's size is a
// multiple of its alignment): those are carved from a region of their own.
constexpr size_t kGranule = 8;
constexpr size_t kClasses = kMaxPooledSize / kGranule;
constexpr size_t kRegionSize = size_t{64} << 20;  // reserved; only touched pages cost memory

struct FreeBlock {
  FreeBlock* next;
};

struct Region {  // bump allocation
  char* next = nullptr;
  char* end = nullptr;

  void* carve(size_t size) {
    if (next == nullptr || static_cast<size_t>(end - next) < size) {
      void* region = mmap(nullptr, kRegionSize, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
      if (region == MAP_FAILED) throw std::bad_alloc();
      advise_huge_pages(region, kRegionSize);
      next = static_cast<char*>(region);
      end = next + kRegionSize;
    }
    void* block = next;
    next += size;
    return block;
  }
};

struct ThreadBlocks {  // this thread's free lists and the regions it carves
  FreeBlock* free[kClasses] = {};
  Region aligned;  // sizes that are multiples of 16
  Region packed;   // the others: 8 mod 16

  void* carve(size_t size) { return (size % 16 == 0 ? aligned : packed).carve(size); }
};

thread_local ThreadBlocks pool;

size_t size_class(size_t bytes) { return (bytes + kGranule - 1) / kGranule - 1; }

}  // namespace
#endif

void* pool_allocate(size_t bytes) {
  if (should_fail(Fault::kJobPool)) throw std::bad_alloc();
#if ASYNCJOBS_ASAN
  return ::operator new(bytes);
#else
  if (bytes > kMaxPooledSize) return ::operator new(bytes);
  const size_t index = size_class(bytes);
  if (FreeBlock* block = pool.free[index]) {
    FreeBlock* next = block->next;
    pool.free[index] = next;
    // Freed blocks come back in whatever order their jobs died, so the list jumps around:
    // fetch the block after next now (the previous call fetched `next`), so that building
    // the next jobs does not wait for their lines.
    if (next != nullptr && next->next != nullptr) {
      prefetch_lines(next->next, (index + 1) * kGranule);
    }
    return block;
  }
  return pool.carve((index + 1) * kGranule);
#endif
}

void pool_free(void* block, size_t bytes) noexcept {
#if ASYNCJOBS_ASAN
  ::operator delete(block);
#else
  if (bytes > kMaxPooledSize) {
    ::operator delete(block);
    return;
  }
  const size_t index = size_class(bytes);
  auto* free_block = static_cast<FreeBlock*>(block);
  free_block->next = pool.free[index];
  pool.free[index] = free_block;
#endif
}

}  // namespace asyncjobs::internal
