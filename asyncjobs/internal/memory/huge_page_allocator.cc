// Blocks mapped for arrays that grow with the job count (huge pages when large); freed ones
// kept for reuse.
#include "asyncjobs/internal/memory/huge_page_allocator.h"
#include "asyncjobs/internal/memory/huge_page_growth.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdint>
#include <new>

#include "asyncjobs/internal/memory/huge_pages.h"
#include "asyncjobs/internal/base/sanitizers.h"

namespace asyncjobs::internal {
namespace {

constexpr size_t kPage = size_t{4} << 10;
constexpr size_t kHugePage = size_t{2} << 20;
constexpr size_t kMaxCachedBytes = size_t{64} << 20;  // kept per thread, in all

size_t mapped_size(size_t bytes) {
  const size_t unit = bytes >= kLargeBlock ? kHugePage : kPage;
  return (bytes + unit - 1) / unit * unit;
}

bool is_mapped(size_t bytes) {
#if ASYNCJOBS_ASAN
  (void)bytes;
  return false;
#else
  return bytes >= kKeptBlock;
#endif
}

void* map_pages(size_t size) {
  void* block = mmap(nullptr, size, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (block == MAP_FAILED) throw std::bad_alloc();
  return block;
}

// Maps `size` bytes (a multiple of kHugePage) starting on a huge-page boundary.
void* map_huge_aligned(size_t size) {
  char* const start = static_cast<char*>(map_pages(size + kHugePage));
  const auto misalignment = reinterpret_cast<uintptr_t>(start) % kHugePage;
  char* const block = misalignment == 0 ? start : start + (kHugePage - misalignment);
  if (block != start) munmap(start, block - start);
  char* const end = block + size;
  char* const mapped_end = start + size + kHugePage;
  if (mapped_end != end) munmap(end, mapped_end - end);
  advise_huge_pages(block, size);
  return block;
}

// Freed blocks kept for reuse, looked up by exact mapped size (arrays grow by doubling, so
// the same sizes come back run after run). Given back when the thread exits; a block freed
// after that (a static scheduler destroyed at exit) is unmapped at once.
class BlockCache {
 public:
  ~BlockCache() {
    for (Entry& entry : entries_) {
      if (entry.block != nullptr) munmap(entry.block, entry.size);
      entry.block = nullptr;
    }
    closed_ = true;
  }
  void* take(size_t size) {
    for (Entry& entry : entries_) {
      if (entry.block != nullptr && entry.size == size) {
        cached_bytes_ -= size;
        void* block = entry.block;
        entry.block = nullptr;
        return block;
      }
    }
    return nullptr;
  }
  size_t largest() const {
    size_t size = 0;
    for (const Entry& entry : entries_) {
      if (entry.block != nullptr && entry.size > size) size = entry.size;
    }
    return size;
  }
  bool keep(void* block, size_t size) {
    if (closed_ || cached_bytes_ + size > kMaxCachedBytes) return false;
    for (Entry& entry : entries_) {
      if (entry.block == nullptr) {
        entry = {block, size};
        cached_bytes_ += size;
        return true;
      }
    }
    return false;
  }

 private:
  struct Entry {
    void* block = nullptr;
    size_t size = 0;
  };
  Entry entries_[32];  // a run's arrays grow by doubling: a few sizes each
  size_t cached_bytes_ = 0;
  bool closed_ = false;
};

thread_local BlockCache cache;

}  // namespace

void* allocate_large(size_t bytes) {
  if (!is_mapped(bytes)) return ::operator new(bytes);
  const size_t size = mapped_size(bytes);
  if (void* block = cache.take(size)) return block;
  return bytes >= kLargeBlock ? map_huge_aligned(size) : map_pages(size);
}

size_t grown_capacity(size_t capacity, size_t element_size) {
  const size_t doubled = std::max<size_t>(1, 2 * capacity);
  if (!is_mapped(doubled * element_size)) return doubled;
  return std::max(doubled, cache.largest() / element_size);
}

void release_pages(void* block, size_t bytes) noexcept {
  if (is_mapped(bytes)) madvise(block, mapped_size(bytes), MADV_DONTNEED);
}

void free_large(void* block, size_t bytes) noexcept {
  if (!is_mapped(bytes)) {
    ::operator delete(block);
    return;
  }
  const size_t size = mapped_size(bytes);
  // A kept block keeps its memory, as the job pool keeps its jobs': giving it back
  // (MADV_DONTNEED) made every later run zero its huge pages again, 3-5% of a warm
  // million-job chain or fan-out (a block grow() outgrew has given its pages back already).
  // What stays is bounded by kMaxCachedBytes per thread (a million-job run leaves about
  // 190 MB of jobs in the pool beside it).
  if (!cache.keep(block, size)) munmap(block, size);
}

}  // namespace asyncjobs::internal
