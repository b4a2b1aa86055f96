// Waiting for file descriptors: the FIFO of waiting tasks, who holds descriptors, the
// once-per-run warning, the error when none can be released, and the raised soft limit.
#include "asyncjobs/internal/reactor/descriptor_admission.h"

#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "asyncjobs/internal/reactor/reactor.h"

namespace asyncjobs::internal {
namespace {

rlimit descriptor_limit() {
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  return limit;
}

std::string limit_text(rlim_t limit) {
  return limit == RLIM_INFINITY ? "unlimited" : absl::StrCat(limit);
}

// Why none is left: the process's limit (EMFILE) or the system's table (ENFILE).
std::string shortage(int error) {
  if (error == ENFILE) return "the system's table of open files is full (sysctl fs.file-max)";
  return absl::StrCat("this process is at its limit of ", limit_text(descriptor_limit().rlim_cur),
                      " open files");
}

std::string fix(int error) {
  if (error == ENFILE) return "close other programs' files or raise fs.file-max";
  const rlimit limit = descriptor_limit();
  const std::string hard =
      limit.rlim_cur < limit.rlim_max
          ? absl::StrCat("the hard limit is ", limit_text(limit.rlim_max))
          : "it is also the hard limit: raising that needs privileges";
  return absl::StrCat("raise `ulimit -n` (", hard, ")");
}

std::string exhausted_message(int error, const std::string& call, const std::string& subject) {
  return absl::StrCat("asyncjobs: ", subject.empty() ? "" : absl::StrCat(subject, " "),
                      "cannot create a file descriptor (", call, "): ", shortage(error),
                      ", and no other job holds any that it could release; ", fix(error),
                      " or run fewer jobs at once (a jobs window)");
}

}  // namespace

DescriptorsExhausted::DescriptorsExhausted(int error, std::string call, std::string subject)
    : std::system_error(error, std::generic_category(), exhausted_message(error, call, subject)),
      call_(std::move(call)) {}

DescriptorLease::~DescriptorLease() {
  if (!holding_) return;
  if (waiting_) --DescriptorAdmission::state_.waiting_;
  --DescriptorAdmission::state_.holding_;
  DescriptorAdmission::released();  // a holder less: the first waiter looks again
}

int DescriptorAdmission::create_waiting(absl::FunctionRef<int()> create, std::string_view call,
                                        DescriptorLease* lease, int descriptors, int error) {
  if (error != 0 && state_.reclaim_ != nullptr && state_.reclaim_()) {
    const int result = create_charged(create, lease, descriptors);
    if (result >= 0 || !out_of_descriptors(errno)) return result;
    error = errno;
  }
  Task* task = Task::current();
  const bool can_wait = task != nullptr && others_hold(lease);
  if (error == 0 && !can_wait) {  // others wait, but nothing will wake them: try at once
    const int result = create_charged(create, lease, descriptors);
    if (result >= 0 || !out_of_descriptors(errno)) return result;
    error = errno;
  }
  if (!can_wait) throw DescriptorsExhausted(error, std::string(call));
  if (error != 0) warn_once(error);
  Waiter waiter{task, lease};
  link(waiter);
  // A release handed to this waiter and not used up (it got its descriptor, raised or was
  // cancelled) goes to the next one: more may be free.
  const absl::Cleanup leave = [&waiter] {
    const bool handed = waiter.woken;
    unlink(waiter);
    if (handed) wake_next();
  };
  for (;;) {
    wait_for_release(waiter);
    // A job holding part of what it needs goes first: two half-served jobs could block
    // each other.
    if (!waiter.give_up && !holds(waiter) && holds_first()) {
      waiter.woken = false;
      continue;
    }
    const int result = create_charged(create, lease, descriptors);
    if (result >= 0 || !out_of_descriptors(errno)) return result;
    error = errno;
    if (waiter.give_up || !others_hold(lease)) throw DescriptorsExhausted(error, std::string(call));
    waiter.woken = false;
  }
}

// `create_reclaiming`, its descriptors charged to `lease` when it succeeds.
int DescriptorAdmission::create_charged(absl::FunctionRef<int()> create,
                                        DescriptorLease* lease, int descriptors) {
  const int result = create_reclaiming(create);
  if (result >= 0) note_created(lease, descriptors);
  return result;
}

// `create`, tried again while something idle gives descriptors back (see set_reclaimer).
int DescriptorAdmission::create_reclaiming(absl::FunctionRef<int()> create) {
  for (;;) {
    const int result = create();
    if (result >= 0 || !out_of_descriptors(errno)) return result;
    const int error = errno;
    if (state_.reclaim_ == nullptr || !state_.reclaim_()) {
      errno = error;
      return result;
    }
  }
}

// Whether anything but `lease` (the caller's) holds descriptors it will release: a lease
// whose task is not itself waiting for descriptors, or a loose descriptor.
bool DescriptorAdmission::others_hold(const DescriptorLease* lease) {
  const size_t own = lease != nullptr && lease->holding_ ? 1 : 0;
  return state_.holding_ - state_.waiting_ - own + state_.loose_ > 0;
}

void DescriptorAdmission::warn_once(int error) {
  if (std::exchange(state_.warned_, true)) return;
  const std::string loose =
      state_.loose_ == 0 ? "" : absl::StrCat(" (and ", state_.loose_, " other descriptors)");
  std::fprintf(stderr,
               "asyncjobs: out of file descriptors: %s, reached with %zu jobs holding "
               "descriptors at once%s; the others wait their turn. To run more at once, %s\n",
               shortage(error).c_str(), state_.holding_, loose.c_str(), fix(error).c_str());
}

void DescriptorAdmission::wait_for_release(Waiter& waiter) {
  DescriptorLease* lease = waiter.lease;
  if (lease != nullptr && lease->holding_) {
    lease->waiting_ = true;
    ++state_.waiting_;
  }
  // Woken by cancellation rather than by wake(): no longer waiting either.
  const absl::Cleanup resume = [lease] {
    if (lease != nullptr && std::exchange(lease->waiting_, false)) --state_.waiting_;
  };
  waiter.task->reactor()->wait(absl::InfiniteFuture());
}

// In arrival order, except that waiters already holding descriptors come first.
void DescriptorAdmission::link(Waiter& waiter) {
  Waiter* before = nullptr;  // the last holder when `waiter` holds, else the last waiter
  if (holds(waiter)) {
    for (Waiter* next = state_.first_; next != nullptr && holds(*next); next = next->next) {
      before = next;
    }
  } else {
    before = state_.last_;
  }
  Waiter*& after = before == nullptr ? state_.first_ : before->next;
  waiter.previous = before;
  waiter.next = after;
  (after == nullptr ? state_.last_ : after->previous) = &waiter;
  after = &waiter;
}

void DescriptorAdmission::unlink(Waiter& waiter) {
  (waiter.previous == nullptr ? state_.first_ : waiter.previous->next) = waiter.next;
  (waiter.next == nullptr ? state_.last_ : waiter.next->previous) = waiter.previous;
}

void DescriptorAdmission::wake(Waiter& waiter) {
  waiter.woken = true;
  DescriptorLease* lease = waiter.lease;
  if (lease != nullptr && std::exchange(lease->waiting_, false)) --state_.waiting_;
  waiter.task->reactor()->wake(waiter.task);
}

// Every waiter holding descriptors (few: each needs different amounts, whoever fits goes
// on), else the first waiter not already woken. A woken waiter that fails again keeps its
// place and waits for the next release.
void DescriptorAdmission::wake_next() {
  Waiter* waiter = state_.first_;
  if (waiter != nullptr && holds(*waiter)) {
    for (; waiter != nullptr && holds(*waiter); waiter = waiter->next) {
      if (!waiter->woken) wake(*waiter);
    }
    return;
  }
  for (; waiter != nullptr; waiter = waiter->next) {
    if (!waiter->woken) return wake(*waiter);
  }
}

bool DescriptorAdmission::give_up_on_stall() {
  for (Waiter* waiter = state_.first_; waiter != nullptr; waiter = waiter->next) {
    if (waiter->woken) continue;
    waiter->give_up = true;
    wake(*waiter);
    return true;
  }
  return false;
}

void DescriptorAdmission::raise_limit_once() {
  static const bool raised = [] {
    const char* keep = std::getenv("ASYNCJOBS_KEEP_NOFILE_LIMIT");
    if (keep != nullptr && keep[0] != '\0' && keep[0] != '0') return false;
    rlimit limit = descriptor_limit();
    if (limit.rlim_cur >= limit.rlim_max) return false;
    limit.rlim_cur = limit.rlim_max;
    return setrlimit(RLIMIT_NOFILE, &limit) == 0;
  }();
  (void)raised;
}

}  // namespace asyncjobs::internal
