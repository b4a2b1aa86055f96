// Leader and followers around one SSH session's transport (see pump.h).
#include "asyncjobs/ssh/pump.h"

#include <algorithm>

#include "absl/cleanup/cleanup.h"
#include "absl/time/clock.h"

namespace asyncjobs::ssh::internal {

Pump::~Pump() {
  if (event_ == nullptr) return;
  ssh_event_remove_session(event_, session_);
  ssh_event_free(event_);
}

void Pump::start_processing() {
  if (event_ != nullptr) return;
  event_ = ssh_event_new();
  if (event_ != nullptr && ssh_event_add_session(event_, session_) != SSH_OK) {
    ssh_event_free(std::exchange(event_, nullptr));
  }
}

bool Pump::wait(absl::Time deadline, Event* activity) {
  if (activity != nullptr && activity->is_set()) return true;
  return leading_ ? follow(deadline, activity) : lead(deadline);
}

bool Pump::lead(absl::Time deadline) {
  leading_ = true;
  const absl::Cleanup hand_over = [this] {  // also when the wait throws: a follower leads
    leading_ = false;
    wake_followers();
  };
  if (!transport_.wait_io(session_, deadline)) return false;
  // Without this, a channel at end of file would never read its exit status and close:
  // libssh's channel calls stop reading the socket once the channel saw EOF.
  if (event_ != nullptr) ssh_event_dopoll(event_, 0);
  return true;
}

bool Pump::follow(absl::Time deadline, Event* activity) {
  transport_.flush();
  Event own;
  Event* woken = activity != nullptr ? activity : &own;
  followers_.push_back(woken);
  const absl::Cleanup leave = [this, woken] {
    followers_.erase(std::find(followers_.begin(), followers_.end(), woken));
  };
  const absl::Duration timeout = deadline == absl::InfiniteFuture()
                                     ? absl::InfiniteDuration()
                                     : std::max(deadline - absl::Now(), absl::ZeroDuration());
  return woken->wait(timeout);
}

void Pump::wake_followers() {
  for (Event* follower : followers_) follower->set();
}

}  // namespace asyncjobs::ssh::internal
