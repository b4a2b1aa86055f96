#ifndef ASYNCJOBS_SEQUENCE_H_
#define ASYNCJOBS_SEQUENCE_H_

// Sequence (jobs in a chain) and Schedulable (what schedulers accept).

#include <initializer_list>
#include <memory>
#include <type_traits>
#include <vector>

#include "absl/types/span.h"
#include "asyncjobs/job.h"

namespace asyncjobs {

class Sequence;

// What schedulers and sequences accept: a job (any AbstractJob subclass), a Sequence (its
// jobs) or a vector of jobs. Built implicitly; holds the jobs, not the sequence.
class Schedulable {
 public:
  template <class J, class = std::enable_if_t<std::is_base_of_v<AbstractJob, J>>>
  Schedulable(std::shared_ptr<J> job) : one_(std::move(job)), is_one_(true) {}
  Schedulable(const Sequence& sequence);
  Schedulable(const std::vector<JobPtr>& jobs) : many_(jobs) {}

  absl::Span<const JobPtr> jobs() const {
    return is_one_ ? absl::Span<const JobPtr>(&one_, 1) : absl::Span<const JobPtr>(many_);
  }

 private:
  friend class Scheduler;  // moves the jobs out
  absl::Span<JobPtr> mutable_jobs() {
    return is_one_ ? absl::Span<JobPtr>(&one_, 1) : absl::Span<JobPtr>(many_);
  }

  JobPtr one_;  // a single job, the common case, allocates nothing
  bool is_one_ = false;
  std::vector<JobPtr> many_;
};

// Jobs chained in order: each item requires the previous one. Nested sequences flatten
// (their own chain is kept, and their first job requires the item before). A sequence is a
// builder: it holds the jobs; add it (or its jobs) to a Scheduler to run them.
class Sequence {
 public:
  // `required`: requirements of the first job.
  Sequence(std::initializer_list<Schedulable> items, std::vector<JobPtr> required = {});
  // Chains every new item after the current last job.
  Sequence& append(std::initializer_list<Schedulable> items);
  Sequence& append(const Schedulable& item);
  // Adds requirements to the first job.
  template <class... R>
  Sequence& require(const R&... requirements) {
    if (!jobs_.empty()) jobs_.front()->require(requirements...);
    return *this;
  }
  const std::vector<JobPtr>& jobs() const { return jobs_; }

 private:
  std::vector<JobPtr> jobs_;
};

}  // namespace asyncjobs

#endif  // ASYNCJOBS_SEQUENCE_H_
