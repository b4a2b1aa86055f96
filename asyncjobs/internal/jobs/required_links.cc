// RequiredLinks: the buffer from the job pool that holds a job's requirements beyond one.
#include "asyncjobs/internal/jobs/required_links.h"

#include <algorithm>

namespace asyncjobs::internal {

void RequiredLinks::grow() {
  const uint32_t capacity = on_heap_ ? 2 * capacity_ : 2;
  auto* entries = static_cast<Entry*>(pool_allocate(capacity * sizeof(Entry)));
  if (on_heap_) {
    std::copy_n(many_, size_, entries);
    pool_free(many_, capacity_ * sizeof(Entry));
  } else {
    entries[0] = {one_job_, one_mirror_};  // full inline: size_ is 1
  }
  many_ = entries;
  capacity_ = capacity;
  on_heap_ = true;
}

}  // namespace asyncjobs::internal
