// The huge-page policy of the job allocators: on, unless ASYNCJOBS_HUGE_PAGES=0.
#include "asyncjobs/internal/memory/huge_pages.h"

#include <sys/mman.h>

#include <cstdlib>
#include <cstring>

namespace asyncjobs::internal {
namespace {

bool enabled() {
  static const bool on = [] {
    const char* setting = std::getenv("ASYNCJOBS_HUGE_PAGES");
    return setting == nullptr || std::strcmp(setting, "0") != 0;
  }();
  return on;
}

}  // namespace

void advise_huge_pages(void* start, size_t bytes) {
  if (enabled()) madvise(start, bytes, MADV_HUGEPAGE);
}

}  // namespace asyncjobs::internal
