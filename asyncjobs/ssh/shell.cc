// Quoting for the remote shell, and the wrapper that reports a command's pid.
#include "asyncjobs/ssh/shell.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace asyncjobs::ssh::internal {

std::string quote(const std::string& word) {
  return absl::StrCat("'", absl::StrReplaceAll(word, {{"'", "'\\''"}}), "'");
}

std::string command_line(const std::string& program, const std::vector<std::string>& args) {
  std::string line(program);
  for (const std::string& arg : args) absl::StrAppend(&line, " ", quote(arg));
  return line;
}

std::string with_pid_first(const std::string& command) {
  return absl::StrCat("echo $$; exec \"${SHELL:-/bin/sh}\" -c ", quote(command));
}

std::string kill_group(int pid, const std::string& signal) {
  return absl::StrCat("kill -s ", signal, " -- -", pid, " 2>/dev/null; true");
}

std::string kill_group_after_grace(int pid, const std::string& signal, absl::Duration grace) {
  return absl::StrCat(kill_group(pid, signal), "; sleep ", absl::ToDoubleSeconds(grace),
                      "; kill -s KILL -- -", pid, " 2>/dev/null; true");
}

}  // namespace asyncjobs::ssh::internal
