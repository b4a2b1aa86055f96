#include "asyncjobs/internal/huge_page_allocator.h"

#include <sys/mman.h>

#include <cstdint>
#include <new>

#if defined(__SANITIZE_ADDRESS__)
#define ASYNCJOBS_HUGE_BLOCKS_DISABLED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ASYNCJOBS_HUGE_BLOCKS_DISABLED 1
#endif
#endif

namespace asyncjobs::internal {
namespace {

size_t mapped_size(size_t bytes) { return (bytes + kHugeBlock - 1) / kHugeBlock * kHugeBlock; }

bool is_huge(size_t bytes) {
#if ASYNCJOBS_HUGE_BLOCKS_DISABLED
  (void)bytes;
  return false;
#else
  return bytes >= kHugeBlock;
#endif
}

}  // namespace

void* allocate_large(size_t bytes) {
  if (!is_huge(bytes)) return ::operator new(bytes);
  // Over-map by one huge page, then trim, so that the block starts on a huge-page boundary.
  const size_t size = mapped_size(bytes);
  void* raw = mmap(nullptr, size + kHugeBlock, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  char* const start = static_cast<char*>(raw);
  const auto misalignment = reinterpret_cast<uintptr_t>(start) % kHugeBlock;
  char* const block = misalignment == 0 ? start : start + (kHugeBlock - misalignment);
  if (block != start) munmap(start, block - start);
  char* const end = block + size;
  if (start + size + kHugeBlock != end) munmap(end, start + size + kHugeBlock - end);
  madvise(block, size, MADV_HUGEPAGE);
  return block;
}

void free_large(void* block, size_t bytes) noexcept {
  if (!is_huge(bytes)) {
    ::operator delete(block);
    return;
  }
  munmap(block, mapped_size(bytes));
}

}  // namespace asyncjobs::internal
