#ifndef ASYNCJOBS_INTERNAL_JOBS_REQUIRED_LINKS_H_
#define ASYNCJOBS_INTERNAL_JOBS_REQUIRED_LINKS_H_

// RequiredLinks: what a job requires, in insertion order, in 16 bytes of the job: one link
// inline (a chain's), more in a buffer from the job pool (docs/design.md, "Requirements").

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

  // Reads entries by value (the inline one is not stored as an Entry).
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
    if (on_heap_) pool_free(many_, capacity_ * sizeof(Entry));
  }

  size_t size() const { return size_; }
  Entry operator[](size_t i) const { return on_heap_ ? many_[i] : Entry{one_job_, one_mirror_}; }
  Iterator begin() const { return Iterator(*this, 0); }
  Iterator end() const { return Iterator(*this, size_); }

  void set(size_t i, Entry entry) {
    if (on_heap_) {
      many_[i] = entry;
    } else {
      one_job_ = entry.job;
      one_mirror_ = entry.mirror;
    }
  }
  void set_job(size_t i, AbstractJob* job) { set(i, {job, (*this)[i].mirror}); }
  void set_mirror(size_t i, uint32_t mirror) { set(i, {(*this)[i].job, mirror}); }
  // Throws std::bad_alloc if the list must grow and cannot; then nothing changed.
  void push_back(Entry entry) {
    if (size_ == (on_heap_ ? capacity_ : 1)) grow();
    set(size_++, entry);
  }
  void truncate(size_t size) { size_ = static_cast<uint32_t>(size); }

 private:
  void grow();  // doubles the buffer (the first holds two)

  union {
    AbstractJob* one_job_ = nullptr;
    Entry* many_;
  };
  union {
    uint32_t one_mirror_ = 0;
    uint32_t capacity_;
  };
  uint32_t size_ : 31 = 0;
  uint32_t on_heap_ : 1 = 0;
};

}  // namespace asyncjobs::internal

#endif  // ASYNCJOBS_INTERNAL_JOBS_REQUIRED_LINKS_H_
