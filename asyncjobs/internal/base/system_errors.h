#ifndef ASYNCJOBS_INTERNAL_BASE_SYSTEM_ERRORS_H_
#define ASYNCJOBS_INTERNAL_BASE_SYSTEM_ERRORS_H_

// System calls for every layer: reporting a failed one (throw_errno), and the argv array
// an exec-family call takes.

#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace asyncjobs::internal {

// Throws std::system_error with `error` (an errno value) and `what` (the call, or what the
// call was for): what() reads "<what>: <strerror(error)>".
[[noreturn]] inline void throw_errno(int error, std::string_view what) {
  throw std::system_error(error, std::generic_category(), std::string(what));
}

// `strings` as the null-terminated array of C strings that exec and posix_spawn take; valid
// while `strings` is unchanged.
inline std::vector<char*> c_strings(const std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (const std::string& s : strings) pointers.push_back(const_cast<char*>(s.c_str()));
  pointers.push_back(nullptr);
  return pointers;
}

}  // namespace asyncjobs::internal

#endif  // ASYNCJOBS_INTERNAL_BASE_SYSTEM_ERRORS_H_
