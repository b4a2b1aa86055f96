// Cancelling tasks: requests, Cancelled thrown at suspension points (level-triggered, not
// under a CancelShield), the stall that cancels every waiting task, and abandoning a task.
#include <cstdio>
#include <cstdlib>
#include <exception>

#include "asyncjobs/cancelled.h"
#include "asyncjobs/internal/reactor/descriptor_admission.h"
#include "asyncjobs/internal/reactor/reactor.h"

namespace asyncjobs {

CancelShield::CancelShield() : task_(Task::running_) {
  if (task_ != nullptr) ++task_->shield_depth_;
}

CancelShield::~CancelShield() {
  if (task_ != nullptr) --task_->shield_depth_;
}

void Reactor::cancel(Task* task) {
  if (task->state_ == Task::State::kFinished || task->cancel_requested_ || task->abandoned_) {
    return;
  }
  task->cancel_requested_ = true;
  if (task->state_ == Task::State::kWaiting && task->cancellable_wait_ &&
      task->shield_depth_ == 0) {
    make_ready(task, WakeReason::kCancelled);
  }
}

// A task that swallowed Cancelled and suspends again gets it again, but only after the other
// ready tasks have run: a job that refuses to stop cannot starve the loop (and the scheduler
// that waits for it can give up on it, see Reactor::abandon).
void Reactor::throw_if_cancellable() {
  Task* task = Task::running_;
  if (task->shield_depth_ != 0 || std::uncaught_exceptions() != 0) return;
  if (task->cancel_throws_++ > 0) {
    task->reactor_->requeue(task);
  }
  throw_cancelled();
}

void Reactor::throw_cancelled() { throw Cancelled(); }

// Every task blocked and nothing (timer, fd, worker thread) can wake one: cancel them all.
// Tasks waiting for file descriptors go first: with nothing running, none will be released,
// so one of them raises (descriptors its unwinding closes go to the next).
void Reactor::on_stall() {
  if (internal::DescriptorAdmission::give_up_on_stall()) return;
  stalled_ = true;
  size_t woken = 0;
  live_.for_each([&](Task* task) {
    if (task->state_ == Task::State::kWaiting && !task->cancel_requested_) {
      cancel(task);
      if (task->state_ == Task::State::kReady) ++woken;
    }
  });
  if (woken == 0) {
    std::fprintf(stderr,
                 "asyncjobs: deadlock: %zu job(s) wait for something that no job can "
                 "provide, even after cancellation\n",
                 live_count_);
    std::abort();
  }
}

void Reactor::abandon(Task* task) {
  if (task->state_ == Task::State::kFinished || task->abandoned_) return;
  task->abandoned_ = true;
  for (uint32_t* slot : {&task->timer_slot_, &task->alarm_slot_}) {
    if (*slot != internal::TimerHeap::kNoSlot) timers_.cancel(*slot);
  }
  forget_fd_waits(task);
  internal::IntrusiveList<Task>::remove(task);
  --live_count_;
}

}  // namespace asyncjobs
