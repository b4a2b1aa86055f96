// Reporting a failed system call: std::system_error from an errno value and what failed.
#ifndef ASYNCJOBS_INTERNAL_PROCESS_THROW_ERRNO_H_
#define ASYNCJOBS_INTERNAL_PROCESS_THROW_ERRNO_H_

#include <string>
#include <string_view>
#include <system_error>

namespace asyncjobs::internal {

// Throws std::system_error with `error` (an errno value) and `what` (the call, or what the
// call was for): what() reads "<what>: <strerror(error)>".
[[noreturn]] inline void throw_errno(int error, std::string_view what) {
  throw std::system_error(error, std::generic_category(), std::string(what));
}

}  // namespace asyncjobs::internal

#endif  // ASYNCJOBS_INTERNAL_PROCESS_THROW_ERRNO_H_
