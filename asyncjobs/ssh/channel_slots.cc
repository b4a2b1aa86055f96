// The FIFO queue of jobs waiting for a channel of their session.
#include "asyncjobs/ssh/channel_slots.h"

#include <algorithm>
#include <stdexcept>

namespace asyncjobs::ssh::internal {

ChannelSlots::ChannelSlots(int limit) : limit_(limit) {
  if (limit < 1) throw std::invalid_argument("asyncjobs::ssh: max_sessions must be at least 1");
}

ChannelSlots::Slot& ChannelSlots::Slot::operator=(Slot&& other) noexcept {
  if (this != &other) {
    release();
    owner_ = std::exchange(other.owner_, nullptr);
  }
  return *this;
}

void ChannelSlots::Slot::release() {
  if (owner_ != nullptr) std::exchange(owner_, nullptr)->release_one();
}

ChannelSlots::Slot ChannelSlots::acquire(Use use) {
  Waiter waiter{use, {}};
  enqueue(waiter);
  dispatch();
  try {
    while (!waiter.granted.is_set()) waiter.granted.wait();
  } catch (...) {  // Cancelled: leave the queue, or give back what was just granted
    if (waiter.granted.is_set()) {
      release_one();
    } else {
      queue_.erase(std::find(queue_.begin(), queue_.end(), &waiter));
    }
    throw;
  }
  return Slot(this);
}

void ChannelSlots::learn_limit(int others) {
  limit_ = std::max(1, std::min(limit_, others));
}

bool ChannelSlots::has_room(Use use) const {
  const int reserve = use == Use::kKill || limit_ == 1 ? 0 : 1;
  return open_ < limit_ - reserve;
}

void ChannelSlots::enqueue(Waiter& waiter) {
  const auto later = std::find_if(queue_.begin(), queue_.end(),
                                  [&](const Waiter* other) { return other->use > waiter.use; });
  queue_.insert(later, &waiter);
}

// Strict order: a command never overtakes an earlier one, even when a kill could go.
void ChannelSlots::dispatch() {
  while (!queue_.empty() && has_room(queue_.front()->use)) {
    Waiter* first = queue_.front();
    queue_.pop_front();
    ++open_;
    first->granted.set();
  }
}

void ChannelSlots::release_one() {
  --open_;
  dispatch();
}

}  // namespace asyncjobs::ssh::internal
