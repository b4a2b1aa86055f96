#ifndef ASYNCJOBS_INTERNAL_JOBS_REQUIRED_LINKS_H_
#define ASYNCJOBS_INTERNAL_JOBS_REQUIRED_LINKS_H_

// RequiredLinks: what a job requires, in insertion order, in 24 bytes of the job: two links
// inline (a chain's one, a layered graph's two), more in a buffer from the job pool
// (docs/design.md, "Requirements").

#include <cstddef>
#include <cstdint>

#include "asyncjobs/internal/memory/job_pool.h"

namespace asyncjobs {
class AbstractJob;
}

namespace asyncjobs::internal {

class RequiredLinks {
 public:
  // The required job (nullptr once it died: "a deleted job"), and where this link's mirror
  // is in that job's dependents.
  struct Entry {
    AbstractJob* job;
    uint32_t mirror;
  };

  // Reads entries by value (the inline ones are not stored as Entries).
  class Iterator {
   public:
    Iterator(const RequiredLinks& links, size_t index) : links_(links), index_(index) {}
    Entry operator*() const { return links_[index_]; }
    Iterator& operator++() {
      ++index_;
      return *this;
    }
    bool operator!=(const Iterator& other) const { return index_ != other.index_; }

   private:
    const RequiredLinks& links_;
    size_t index_;
  };

  RequiredLinks() = default;
  RequiredLinks(const RequiredLinks&) = delete;
  RequiredLinks& operator=(const RequiredLinks&) = delete;
  ~RequiredLinks() {
    if (on_heap()) pool_free(many(), mirrors_[0] * sizeof(Entry));
  }

  size_t size() const { return on_heap() ? mirrors_[1] : words_[1] & kTagMask; }
  Entry operator[](size_t i) const {
    if (on_heap()) return many()[i];
    return {reinterpret_cast<AbstractJob*>(words_[i] & ~kTagMask), mirrors_[i]};
  }
  Iterator begin() const { return Iterator(*this, 0); }
  Iterator end() const { return Iterator(*this, size()); }

  void set(size_t i, Entry entry) {
    set_job(i, entry.job);
    set_mirror(i, entry.mirror);
  }
  void set_job(size_t i, AbstractJob* job) {
    if (on_heap()) {
      many()[i].job = job;
    } else {
      words_[i] = reinterpret_cast<uintptr_t>(job) | (words_[i] & kTagMask);
    }
  }
  void set_mirror(size_t i, uint32_t mirror) {
    if (on_heap()) {
      many()[i].mirror = mirror;
    } else {
      mirrors_[i] = mirror;
    }
  }
  // Throws std::bad_alloc if the list must grow and cannot; then nothing changed.
  void push_back(Entry entry) {
    const uintptr_t tag = words_[1] & kTagMask;
    if (tag < 2) {  // room inline: the entry goes to words_[tag]; the size is one more
      words_[tag] = reinterpret_cast<uintptr_t>(entry.job) | (words_[tag] & kTagMask);
      mirrors_[tag] = entry.mirror;
      ++words_[1];
      return;
    }
    push_back_slow(entry);
  }
  void truncate(size_t size) {
    if (on_heap()) {
      mirrors_[1] = static_cast<uint32_t>(size);
    } else {
      words_[1] = (words_[1] & ~kTagMask) | size;
    }
  }

 private:
  // The low bits of words_[1]: the inline size (0-2; jobs are at least 4-byte aligned), or
  // kHeap.
  static constexpr uintptr_t kTagMask = 3;
  static constexpr uintptr_t kHeap = 3;

  bool on_heap() const { return (words_[1] & kTagMask) == kHeap; }
  Entry* many() const { return reinterpret_cast<Entry*>(words_[0]); }
  void push_back_slow(Entry entry);  // on the heap; the first buffer holds four

  // Inline: the two jobs' addresses, the second's low bits holding the size. On the heap:
  // the buffer's address, then kHeap.
  uintptr_t words_[2] = {};
  uint32_t mirrors_[2] = {};  // inline: the mirrors; on the heap: capacity and size
};

}  // namespace asyncjobs::internal

#endif  // ASYNCJOBS_INTERNAL_JOBS_REQUIRED_LINKS_H_
