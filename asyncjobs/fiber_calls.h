#ifndef ASYNCJOBS_FIBER_CALLS_H_
#define ASYNCJOBS_FIBER_CALLS_H_

// Blocking-style calls for job bodies. Inside a job each one suspends only the calling job
// while the reactor runs the others; outside any job it blocks the thread like its plain
// counterpart (sleep, poll, a direct call), so helpers work in both places. Inside a job
// that is being cancelled, each one throws `Cancelled` (see cancelled.h).

#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "absl/functional/function_ref.h"
#include "absl/time/time.h"
#include "asyncjobs/cancelled.h"

namespace asyncjobs {

// Never return early; late by the kernel's wake-up (about 0.1 ms on the machines measured)
// and, on kernels before 5.11, the loop's millisecond poll timeout.
void sleep_for(absl::Duration duration);
void sleep_until(absl::Time deadline);
// Lets every other ready job run first.
void yield();
// Waits until `fd` is readable (or writable); false when `timeout` passed first.
bool wait_readable(int fd, absl::Duration timeout = absl::InfiniteDuration());
bool wait_writable(int fd, absl::Duration timeout = absl::InfiniteDuration());
// True inside a job's fiber.
bool in_job();

namespace internal {
// Runs `work` on a worker thread of the current job's reactor; suspends the job meanwhile.
void call_in_thread(absl::FunctionRef<void()> work);
}  // namespace internal

// Runs `f` on a worker thread of the reactor's pool and suspends this job until it returns,
// then returns its value or rethrows its exception. Not interruptible: a job cancelled
// meanwhile is unwound as soon as `f` returns. Outside a job, calls `f` directly.
template <class F>
std::invoke_result_t<F> run_in_thread(F&& f) {
  using Result = std::invoke_result_t<F>;
  if (!in_job()) return std::forward<F>(f)();
  std::exception_ptr error;
  if constexpr (std::is_void_v<Result>) {
    internal::call_in_thread([&] {
      try {
        f();
      } catch (...) {
        error = std::current_exception();
      }
    });
    if (error) std::rethrow_exception(error);
  } else {
    std::optional<Result> result;
    internal::call_in_thread([&] {
      try {
        result.emplace(f());
      } catch (...) {
        error = std::current_exception();
      }
    });
    if (error) std::rethrow_exception(error);
    return std::move(*result);
  }
}

}  // namespace asyncjobs

#endif  // ASYNCJOBS_FIBER_CALLS_H_
