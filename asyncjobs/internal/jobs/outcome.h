#ifndef ASYNCJOBS_INTERNAL_JOBS_OUTCOME_H_
#define ASYNCJOBS_INTERNAL_JOBS_OUTCOME_H_

// Outcome: what a job's run left, in one pointer of the job: nothing (most jobs return
// nothing), or a std::any in the job pool holding the value co_run() returned or the
// exception it raised (docs/design.md, "What a job costs").

#include <any>
#include <exception>
#include <new>
#include <utility>

#include "asyncjobs/internal/memory/job_pool.h"

namespace asyncjobs::internal {

class Outcome {
 public:
  Outcome() = default;
  Outcome(const Outcome&) = delete;
  Outcome& operator=(const Outcome&) = delete;
  ~Outcome() { reset(); }

  static inline const std::any kNothing{};  // what an empty outcome reads as

  const std::any& get() const { return value_ != nullptr ? *value_ : kNothing; }

  // An empty `value` leaves nothing. Throws std::bad_alloc if there is no memory for it.
  void set(std::any value) {
    if (!value.has_value()) {
      reset();
    } else if (value_ != nullptr && value_ != &kOutOfMemory) {
      *value_ = std::move(value);
    } else {
      std::any* kept = new (pool_allocate(sizeof(std::any))) std::any(std::move(value));
      reset();
      value_ = kept;
    }
  }
  // Keeps `error`, or std::bad_alloc if there is no memory for it.
  void set_error(std::exception_ptr error) noexcept {
    try {
      set(std::any(std::move(error)));
    } catch (const std::bad_alloc&) {
      reset();
      value_ = const_cast<std::any*>(&kOutOfMemory);
    }
  }
  void reset() {
    if (value_ == nullptr) return;
    if (value_ != &kOutOfMemory) {
      value_->~any();
      pool_free(value_, sizeof(std::any));
    }
    value_ = nullptr;
  }

 private:
  static const std::any kOutOfMemory;  // holds a std::bad_alloc (job.cc)
  std::any* value_ = nullptr;
};

}  // namespace asyncjobs::internal

#endif  // ASYNCJOBS_INTERNAL_JOBS_OUTCOME_H_
