// Words and wrappers for the remote POSIX shell.
#ifndef ASYNCJOBS_SSH_SHELL_H_
#define ASYNCJOBS_SSH_SHELL_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"

namespace asyncjobs::ssh::internal {

// `word` as one shell word: single-quoted, with its own quotes escaped.
std::string quote(const std::string& word);
// `program` followed by each of `args` as one word.
std::string command_line(const std::string& program, const std::vector<std::string>& args);
// Runs `command` after printing the shell's pid on a line of its own: the shell is the
// leader of the process group sshd made for the session, which `kill_group` then reaches
// (sshd ignores channel signals for root). The command replaces the shell (exec), so its
// exit status and signal are the channel's.
std::string with_pid_first(const std::string& command);
std::string kill_group(int pid, const std::string& signal);
// Sends `signal` to the group, then SIGKILL after `grace` if any of it is left.
std::string kill_group_after_grace(int pid, const std::string& signal, absl::Duration grace);

}  // namespace asyncjobs::ssh::internal

#endif  // ASYNCJOBS_SSH_SHELL_H_
