// RequiredLinks: the buffer from the job pool that holds a job's requirements beyond two.
#include "asyncjobs/internal/jobs/required_links.h"

namespace asyncjobs::internal {

void RequiredLinks::push_back_slow(Entry entry) {
  const size_t size = this->size();
  const size_t capacity = on_heap() ? mirrors_[0] : 2;
  if (size == capacity) {  // full: double, or move the two inline entries out
    auto* entries = static_cast<Entry*>(pool_allocate(2 * capacity * sizeof(Entry)));
    for (size_t i = 0; i < size; ++i) entries[i] = (*this)[i];
    if (on_heap()) pool_free(many(), capacity * sizeof(Entry));
    words_[0] = reinterpret_cast<uintptr_t>(entries);
    words_[1] = kHeap;
    mirrors_[0] = static_cast<uint32_t>(2 * capacity);
    mirrors_[1] = static_cast<uint32_t>(size);
  }
  many()[mirrors_[1]++] = entry;
}

}  // namespace asyncjobs::internal
