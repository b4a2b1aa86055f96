#ifndef ASYNCJOBS_INTERNAL_BASE_CHECK_H_
#define ASYNCJOBS_INTERNAL_BASE_CHECK_H_

// ASYNCJOBS_DCHECK(condition, message): in builds without NDEBUG (Bazel's default fastbuild,
// -c dbg, and the asan/tsan configs of .bazelrc) a false condition prints the file, line,
// condition and message to stderr and aborts; with NDEBUG (-c opt) it compiles to nothing
// and the condition is not evaluated. For invariants of the library's own state (a task's
// or a job's state transitions, a run's counters), never for user input: that gets an
// exception.

namespace asyncjobs::internal {
[[noreturn]] void dcheck_failed(const char* file, int line, const char* condition,
                                const char* message);
}  // namespace asyncjobs::internal

#ifdef NDEBUG
#define ASYNCJOBS_DCHECK(condition, message) \
  do {                                        \
    if (false) (void)(condition);             \
  } while (0)
#else
#define ASYNCJOBS_DCHECK(condition, message)                                            \
  do {                                                                                  \
    if (!(condition)) [[unlikely]] {                                                    \
      ::asyncjobs::internal::dcheck_failed(__FILE__, __LINE__, #condition, (message));  \
    }                                                                                   \
  } while (0)
#endif

#endif  // ASYNCJOBS_INTERNAL_BASE_CHECK_H_
