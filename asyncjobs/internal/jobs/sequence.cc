// Sequence: jobs chained by require(), and what schedulers accept (Schedulable).
#include "asyncjobs/sequence.h"

namespace asyncjobs {

Schedulable::Schedulable(const Sequence& sequence) : many_(sequence.jobs()) {}

Sequence::Sequence(std::initializer_list<Schedulable> items, std::vector<JobPtr> required) {
  append(items);
  if (!jobs_.empty()) jobs_.front()->require(required);
}

Sequence& Sequence::append(std::initializer_list<Schedulable> items) {
  for (const Schedulable& item : items) append(item);
  return *this;
}

Sequence& Sequence::append(const Schedulable& item) {
  // A vector item's jobs are chained one after the other, like a nested sequence.
  for (const JobPtr& job : item.jobs()) {
    if (!jobs_.empty()) job->require(jobs_.back());
    jobs_.push_back(job);
  }
  return *this;
}

}  // namespace asyncjobs
