// The huge-page policy of the job allocators: only for large graphs, unless overridden.
#include "asyncjobs/internal/huge_pages.h"

#include <sys/mman.h>

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace asyncjobs::internal {
namespace {

std::atomic<size_t> mapped_bytes{0};

size_t threshold() {
  static const size_t from = [] {
    const char* setting = std::getenv("ASYNCJOBS_HUGE_PAGES");
    if (setting != nullptr && std::strcmp(setting, "0") == 0) return SIZE_MAX;
    if (setting != nullptr && std::strcmp(setting, "1") == 0) return size_t{0};
    return kHugePagesFrom;
  }();
  return from;
}

}  // namespace

void advise_huge_pages(void* start, size_t bytes) {
  const size_t before = mapped_bytes.fetch_add(bytes, std::memory_order_relaxed);
  if (before >= threshold()) madvise(start, bytes, MADV_HUGEPAGE);
}

}  // namespace asyncjobs::internal
