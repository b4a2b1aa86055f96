#ifndef ASYNCJOBS_INTERNAL_MEMORY_TYPED_ALLOCATOR_H_
#define ASYNCJOBS_INTERNAL_MEMORY_TYPED_ALLOCATOR_H_

// TypedAllocator: a standard allocator over an allocate/free pair.

#include <cstddef>

namespace asyncjobs::internal {

// A standard allocator (for containers and std::allocate_shared) over a pair of untyped
// functions: the job pool's, or the huge-page blocks'.
template <class T, void* (*Allocate)(size_t), void (*Free)(void*, size_t) noexcept>
struct TypedAllocator {
  using value_type = T;
  template <class U>
  struct rebind {
    using other = TypedAllocator<U, Allocate, Free>;
  };

  TypedAllocator() = default;
  template <class U>
  TypedAllocator(const TypedAllocator<U, Allocate, Free>&) {}
  T* allocate(size_t n) { return static_cast<T*>(Allocate(n * sizeof(T))); }
  void deallocate(T* block, size_t n) noexcept { Free(block, n * sizeof(T)); }
  template <class U>
  bool operator==(const TypedAllocator<U, Allocate, Free>&) const {
    return true;
  }
};

}  // namespace asyncjobs::internal

#endif  // ASYNCJOBS_INTERNAL_MEMORY_TYPED_ALLOCATOR_H_
