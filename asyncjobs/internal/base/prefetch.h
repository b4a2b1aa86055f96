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

// The same for a size known at compile time: no loop, a hint per line (the last line may be
// asked twice), for the per-job hints of a run.
template <size_t kBytes>
inline void prefetch_lines(const void* start) {
  static_assert(kBytes > 0);
  const auto* bytes = static_cast<const char*>(start);
  for (size_t offset = 0; offset < kBytes; offset += 64) __builtin_prefetch(bytes + offset, 1);
  __builtin_prefetch(bytes + kBytes - 1, 1);
}

// Where std::make_shared and std::allocate_shared (libstdc++) put the control block of
// `object`: just before it. For an object allocated otherwise, a harmless address to prefetch.
inline constexpr size_t kSharedControlBlockBytes = 2 * sizeof(void*);
inline const char* shared_control_block(const void* object) {
  return static_cast<const char*>(object) - kSharedControlBlockBytes;
}

}  // namespace asyncjobs::internal

#endif  // ASYNCJOBS_INTERNAL_BASE_PREFETCH_H_
