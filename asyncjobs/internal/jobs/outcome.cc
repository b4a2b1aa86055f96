// Outcome: keeping a job's value or exception in the job pool, and letting it go.
#include "asyncjobs/internal/jobs/outcome.h"

#include <new>

#include "asyncjobs/internal/memory/job_pool.h"

namespace asyncjobs::internal {

const std::any Outcome::kOutOfMemory = std::make_exception_ptr(std::bad_alloc());

void Outcome::store(std::any value) {
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

void Outcome::set_error(std::exception_ptr error) noexcept {
  try {
    store(std::any(std::move(error)));
  } catch (const std::bad_alloc&) {
    reset();
    value_ = const_cast<std::any*>(&kOutOfMemory);
  }
}

void Outcome::release() {
  if (value_ != &kOutOfMemory) {
    value_->~any();
    pool_free(value_, sizeof(std::any));
  }
  value_ = nullptr;
}

}  // namespace asyncjobs::internal
