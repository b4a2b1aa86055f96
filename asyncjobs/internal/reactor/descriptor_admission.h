// Admission by file descriptors: a task whose descriptor cannot be made because the process
// (EMFILE) or the system (ENFILE) has none left waits, suspending only itself, until another
// holder releases some, then tries again. Waiters take their turn in the order they came,
// those already holding part of what they need first; while any wait, a newcomer holding
// none queues behind them. It raises only when nothing else holds descriptors that could be
// released. Also: the soft RLIMIT_NOFILE raised to the hard limit once per process.
//
// Holders are `DescriptorLease`s (something that holds descriptors for a while and closes
// them all before it ends: a process job's run) and *loose* descriptors, made without a lease
// and counted until closed (an SSH connection's socket). The state is per thread: one reactor
// runs on a thread at a time, and loose descriptors may outlive the run that made them.
// Everything here is called on the reactor's thread. Until a creation fails, the cost is a
// check of the call's result and of the (empty) wait list.
#ifndef ASYNCJOBS_INTERNAL_REACTOR_DESCRIPTOR_ADMISSION_H_
#define ASYNCJOBS_INTERNAL_REACTOR_DESCRIPTOR_ADMISSION_H_

#include <cerrno>
#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>

#include "absl/functional/function_ref.h"

namespace asyncjobs {
class Task;
}

namespace asyncjobs::internal {

// A descriptor was needed, none was left, and none can be released (no other holder, or the
// run cannot progress). code() is EMFILE or ENFILE; what() names the call, the limit and
// the fix: raise `ulimit -n`, or run fewer jobs at once.
class DescriptorsExhausted : public std::system_error {
 public:
  // `call`: the system call that failed ("pipe2"); `subject`: who needed it ("job `x`"),
  // empty when unknown.
  DescriptorsExhausted(int error, std::string call, std::string subject = "");
  const std::string& call() const { return call_; }

 private:
  std::string call_;
};

// Something holding descriptors while it lives; every descriptor made under it must be
// closed before it is destroyed. It counts as a holder from its first descriptor on.
class DescriptorLease {
 public:
  DescriptorLease() = default;
  ~DescriptorLease();
  DescriptorLease(const DescriptorLease&) = delete;
  DescriptorLease& operator=(const DescriptorLease&) = delete;

 private:
  friend class DescriptorAdmission;
  bool holding_ = false;
  bool waiting_ = false;  // its task waits for descriptors
};

// The calls below, and the per-thread state they share.
class DescriptorAdmission {
 public:
  // Makes descriptors with `create` (which returns a value >= 0, or -1 with errno set, like
  // the system call it wraps) and returns what it returned. On EMFILE or ENFILE in a task,
  // waits for a release and tries again, while other holders can release; otherwise throws
  // DescriptorsExhausted. Other errors return -1 with errno as `create` left it. The
  // `descriptors` made are charged to `lease`, or counted as loose when it is nullptr (then
  // each must be reported by `forget_loose` when closed). `call` names the system call.
  static int create(absl::FunctionRef<int()> create, std::string_view call,
                    DescriptorLease* lease, int descriptors = 1) {
    // While others wait, a job holding none joins them rather than take what they wait for.
    if (state_.first_ != nullptr && (lease == nullptr || !lease->holding_)) [[unlikely]] {
      return create_waiting(create, call, lease, descriptors, 0);
    }
    const int result = create();
    if (result >= 0) [[likely]] {
      note_created(lease, descriptors);
      return result;
    }
    if (!out_of_descriptors(errno)) return result;
    return create_waiting(create, call, lease, descriptors, errno);
  }

  // A descriptor was closed (or handed over) by its owner: the first waiter tries again.
  static void released() {
    if (state_.first_ != nullptr) [[unlikely]] wake_next();
  }
  // A loose descriptor was closed or handed over: no longer counted.
  static void forget_loose() { --state_.loose_; }
  // Whether a task of this thread waits for descriptors.
  static bool awaited() { return state_.first_ != nullptr; }
  // Sets this thread's way to get descriptors back on demand (idle SSH connections): called
  // when a creation fails for want of descriptors, before waiting; returns whether it closed
  // any (then the creation is tried again).
  static void set_reclaimer(bool (*reclaim)()) { state_.reclaim_ = reclaim; }

  // For the reactor. Once per process: raises the soft RLIMIT_NOFILE to the hard limit,
  // unless the environment sets ASYNCJOBS_KEEP_NOFILE_LIMIT=1.
  static void raise_limit_once();
  // At the start of a run: the next wait warns again (once per run).
  static void start_run() { state_.warned_ = false; }
  // The run cannot progress: the first waiter tries once more and, failing, raises. False
  // when nothing waits for descriptors.
  static bool give_up_on_stall();

 private:
  friend class DescriptorLease;
  struct Waiter {
    Task* task;
    DescriptorLease* lease;
    Waiter* previous = nullptr;
    Waiter* next = nullptr;
    bool woken = false;    // a release was handed to it: it will try again
    bool give_up = false;  // the run cannot progress: its next failure raises
  };
  struct State {
    Waiter* first_ = nullptr;
    Waiter* last_ = nullptr;
    size_t holding_ = 0;  // leases holding descriptors
    size_t waiting_ = 0;  // of them, those whose task waits (and was not woken since)
    size_t loose_ = 0;
    bool warned_ = false;
    bool (*reclaim_)() = nullptr;
  };

  static void note_created(DescriptorLease* lease, int descriptors) {
    if (lease == nullptr) {
      state_.loose_ += descriptors;
    } else if (!lease->holding_) [[unlikely]] {
      lease->holding_ = true;
      ++state_.holding_;
    }
  }
  // `error`: what `create` failed with, 0 when not tried yet.
  static int create_waiting(absl::FunctionRef<int()> create, std::string_view call,
                            DescriptorLease* lease, int descriptors, int error);
  static int create_reclaiming(absl::FunctionRef<int()> create);
  static int create_charged(absl::FunctionRef<int()> create, DescriptorLease* lease,
                            int descriptors);
  static bool out_of_descriptors(int error) { return error == EMFILE || error == ENFILE; }
  static bool others_hold(const DescriptorLease* lease);
  static void warn_once(int error);
  static void wait_for_release(Waiter& waiter);
  static bool holds(const Waiter& waiter) {
    return waiter.lease != nullptr && waiter.lease->holding_;
  }
  static bool holds_first() { return state_.first_ != nullptr && holds(*state_.first_); }
  static void link(Waiter& waiter);
  static void unlink(Waiter& waiter);
  static void wake(Waiter& waiter);
  static void wake_next();

  static thread_local State state_;
};

// Constant-initialized, so the fast paths read it without a thread_local guard.
inline constinit thread_local DescriptorAdmission::State DescriptorAdmission::state_{};

}  // namespace asyncjobs::internal

#endif  // ASYNCJOBS_INTERNAL_REACTOR_DESCRIPTOR_ADMISSION_H_
