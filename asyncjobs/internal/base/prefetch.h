#ifndef ASYNCJOBS_INTERNAL_BASE_PREFETCH_H_
#define ASYNCJOBS_INTERNAL_BASE_PREFETCH_H_

// Cache hints: prefetch a range of lines, and find a shared object's control block.

#include <cstddef>
#include <cstdint>

namespace asyncjobs::internal {

// Asks the cache for every line of [start, start + bytes), to be written soon. A hint only:
// it never faults, so the memory may be gone already.
inline void prefetch_lines(const void* start, size_t bytes) {
  constexpr uintptr_t kLine = 64;
  const auto begin = reinterpret_cast<uintptr_t>(start);
  for (uintptr_t line = begin & ~(kLine - 1); line < begin + bytes; line += kLine) {
    __builtin_prefetch(reinterpret_cast<const void*>(line), 1);
  }
}

// Where std::make_shared and std::allocate_shared (libstdc++) put the control block of
// `object`: just before it. For an object allocated otherwise, a harmless address to prefetch.
inline const char* shared_control_block(const void* object) {
  return static_cast<const char*>(object) - 2 * sizeof(void*);
}

}  // namespace asyncjobs::internal

#endif  // ASYNCJOBS_INTERNAL_BASE_PREFETCH_H_
