// Starting a child with posix_spawnp: the environment and argv arrays, the spawn attributes
// (process group, signals) and file actions (pipes, working directory).
#include "asyncjobs/internal/process/spawn.h"

#include <signal.h>
#include <spawn.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string_view>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "asyncjobs/internal/base/fault_injection.h"
#include "asyncjobs/internal/base/system_errors.h"

extern char** environ;

namespace asyncjobs::internal {
namespace {

// For the posix_spawn_* calls, which return an error number instead of setting errno.
void check_spawn_call(int error) {
  if (error != 0) throw_errno(error, "posix_spawn setup");
}

// The inherited environment with `added` set over it, as "NAME=value" strings.
std::vector<std::string> make_environment(
    const std::vector<std::pair<std::string, std::string>>& added) {
  std::vector<std::string> environment;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string_view variable(*entry);
    const std::string_view name = variable.substr(0, variable.find('='));
    const bool replaced = std::any_of(added.begin(), added.end(),
                                      [&](const auto& variable) { return variable.first == name; });
    if (!replaced) environment.emplace_back(*entry);
  }
  for (const auto& [name, value] : added) environment.push_back(absl::StrCat(name, "=", value));
  return environment;
}

// Its own process group (so that it can be terminated whole), no blocked signal, and SIGPIPE
// at its default even if this process ignores it.
void set_attributes(posix_spawnattr_t& attributes) {
  sigset_t none, pipe;
  sigemptyset(&none);
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  check_spawn_call(posix_spawnattr_setflags(
      &attributes, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF));
  check_spawn_call(posix_spawnattr_setpgroup(&attributes, 0));
  check_spawn_call(posix_spawnattr_setsigmask(&attributes, &none));
  check_spawn_call(posix_spawnattr_setsigdefault(&attributes, &pipe));
}

// The pipes as stdin, stdout and stderr, no other descriptor, then the working directory.
void set_actions(posix_spawn_file_actions_t& actions, const ChildPipes& pipes,
                 const std::string& working_directory) {
  check_spawn_call(posix_spawn_file_actions_adddup2(&actions, pipes.in.read.get(), STDIN_FILENO));
  check_spawn_call(
      posix_spawn_file_actions_adddup2(&actions, pipes.out.write.get(), STDOUT_FILENO));
  check_spawn_call(
      posix_spawn_file_actions_adddup2(&actions, pipes.err.write.get(), STDERR_FILENO));
  check_spawn_call(posix_spawn_file_actions_addclosefrom_np(&actions, STDERR_FILENO + 1));
  if (!working_directory.empty()) {
    check_spawn_call(posix_spawn_file_actions_addchdir_np(&actions, working_directory.c_str()));
  }
}

}  // namespace

std::string command_line(const std::vector<std::string>& argv) { return absl::StrJoin(argv, " "); }

// glibc's posix_spawnp returns the errno of a failed chdir or exec in the child (it waits
// for the exec, vfork-style), so a missing program is an exception here.
pid_t spawn(const ProcessOptions& options, const ChildPipes& pipes) {
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  const absl::Cleanup destroy_attributes = [&attributes] { posix_spawnattr_destroy(&attributes); };
  set_attributes(attributes);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  const absl::Cleanup destroy_actions = [&actions] { posix_spawn_file_actions_destroy(&actions); };
  set_actions(actions, pipes, options.working_directory);
  const std::vector<std::string> environment = make_environment(options.environment);
  pid_t pid;
  const int error =
      should_fail(Fault::kSpawn)
          ? EAGAIN
          : posix_spawnp(&pid, options.argv[0].c_str(), &actions, &attributes,
                         c_strings(options.argv).data(), c_strings(environment).data());
  if (error == 0) return pid;
  const std::string where =
      options.working_directory.empty() ? "" : absl::StrCat(" in ", options.working_directory);
  throw_errno(error, absl::StrCat("cannot run `", command_line(options.argv), "`", where));
}

}  // namespace asyncjobs::internal
