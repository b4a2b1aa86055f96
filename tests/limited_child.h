// Running a test scenario in a forked child whose RLIMIT_NOFILE the test sets: the child's
// stderr is kept in a file, and the scenario reports what went wrong through another one.
// The parent must not run a reactor before forking, so that each child still raises its soft
// limit once (internal/reactor/descriptor_admission.h).
#ifndef ASYNCJOBS_TESTS_LIMITED_CHILD_H_
#define ASYNCJOBS_TESTS_LIMITED_CHILD_H_

#include <fcntl.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <exception>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"

namespace asyncjobs::testing {

struct ChildOutcome {
  std::string failure;  // what the scenario found wrong; empty when everything held
  std::string errors;   // the child's stderr
};

inline std::string read_whole_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

inline std::string temporary_path(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return absl::StrCat(dir == nullptr ? "/tmp" : dir, "/", name, ".", ::getpid());
}

// Sets RLIMIT_NOFILE in the child; exits it with status 100 when that fails.
inline void set_nofile_limit(rlim_t soft, rlim_t hard) {
  const rlimit limit{soft, hard};
  if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) _exit(100);
}

// Runs `scenario` in a child whose RLIMIT_NOFILE is soft = hard = `limit` (0: unchanged).
// The scenario returns what went wrong, or "" when all held; an exception it lets out, or
// the child ending otherwise than by returning, is a failure too.
inline ChildOutcome in_limited_child(rlim_t limit, const std::function<std::string()>& scenario) {
  const std::string report = temporary_path("report"), errors = temporary_path("stderr");
  const pid_t child = ::fork();
  if (child < 0) return {"fork failed", ""};
  if (child == 0) {
    const int err = ::open(errors.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (err < 0 || ::dup2(err, STDERR_FILENO) < 0) _exit(101);
    ::close(err);
    if (limit != 0) set_nofile_limit(limit, limit);
    std::string failure;
    try {
      failure = scenario();
    } catch (const std::exception& error) {
      failure = absl::StrCat("unexpected exception: ", error.what());
    }
    std::ofstream(report) << failure;
    _exit(0);
  }
  int status = 0;
  if (::waitpid(child, &status, 0) != child) return {"waitpid failed", ""};
  ChildOutcome outcome{read_whole_file(report), read_whole_file(errors)};
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    outcome.failure += absl::StrCat(" [child ended with status ", status, "]");
  }
  ::unlink(report.c_str());
  ::unlink(errors.c_str());
  return outcome;
}

}  // namespace asyncjobs::testing

#endif  // ASYNCJOBS_TESTS_LIMITED_CHILD_H_
