// The reactor's clock and its timers: deadlines of waits and alarms, on the TimerHeap,
// expired once per loop turn.
#include <time.h>

#include "asyncjobs/internal/reactor/reactor.h"

namespace asyncjobs {

int64_t Reactor::now_nanos() {
  timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  return int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec;
}

int64_t Reactor::to_nanos(absl::Time time) {
  if (time == absl::InfiniteFuture()) return INT64_MAX;
  if (time == absl::InfinitePast()) return INT64_MIN;
  return absl::ToUnixNanos(time);
}

void Reactor::set_alarm(Task* task, absl::Time deadline) {
  clear_alarm(task);
  task->alarm_slot_ = timers_.add(task, to_nanos(deadline), /*alarm=*/true);
}

void Reactor::clear_alarm(Task* task) {
  task->alarm_fired_ = false;
  if (task->alarm_slot_ != internal::TimerHeap::kNoSlot) timers_.cancel(task->alarm_slot_);
}

// A wait's deadline wakes its task (kTimedOut); an alarm cancels its task.
void Reactor::expire_timers() {
  timers_.expire(now_nanos(), [this](Task* task, bool alarm) {
    if (alarm) {
      task->alarm_slot_ = internal::TimerHeap::kNoSlot;
      task->alarm_fired_ = true;
      cancel(task);
    } else {
      task->timer_slot_ = internal::TimerHeap::kNoSlot;
      make_ready(task, WakeReason::kTimedOut);
    }
  });
}

}  // namespace asyncjobs
