#ifndef ASYNCJOBS_INTERNAL_JOBS_OUTCOME_H_
#define ASYNCJOBS_INTERNAL_JOBS_OUTCOME_H_

// Outcome: what a job's run left, in one pointer of the job: nothing (most jobs return
// nothing), or a std::any in the job pool holding the value co_run() returned or the
// exception it raised (docs/design.md, "What a job costs").

#include <any>
#include <exception>
#include <utility>

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
    if (value.has_value() || value_ != nullptr) store(std::move(value));
  }
  // Keeps `error`, or std::bad_alloc if there is no memory for it.
  void set_error(std::exception_ptr error) noexcept;
  void reset() {
    if (value_ != nullptr) release();
  }

 private:
  void store(std::any value);
  void release();

  static const std::any kOutOfMemory;  // holds a std::bad_alloc
  std::any* value_ = nullptr;
};

}  // namespace asyncjobs::internal

#endif  // ASYNCJOBS_INTERNAL_JOBS_OUTCOME_H_
