// LocalNode: Node's vocabulary on this machine, through process jobs and file copies.
#include "asyncjobs/ssh/local_node.h"

#include <string.h>  // sigabbrev_np

#include <algorithm>
#include <filesystem>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "asyncjobs/fiber_calls.h"
#include "asyncjobs/process_job.h"

namespace asyncjobs::ssh::internal {
namespace {

namespace fs = std::filesystem;

std::function<void(std::string_view)> line_callback(const Node& node,
                                                    const decltype(RunOptions::on_stdout)& user,
                                                    std::ostream& default_stream) {
  if (user) return [&node, &user](std::string_view line) { user(node, line); };
  return [&node, &default_stream](std::string_view line) {
    default_stream << node.name() << ":" << line << "\n";
  };
}

CommandResult command_result(ProcessResult process) {
  CommandResult result{process.exit_code, "", std::move(process.out), std::move(process.err)};
  if (process.signal != 0) {
    const char* name = sigabbrev_np(process.signal);
    result.signal = name != nullptr ? name : absl::StrCat(process.signal);
  }
  return result;
}

// Copies `from` to `to_dir`/its base name through a temporary name, then sets the mode.
void copy_file(const fs::path& from, const fs::path& to_dir) {
  fs::create_directories(to_dir);
  const fs::path target = to_dir / from.filename();
  const fs::path temporary =
      to_dir / absl::StrCat(".", from.filename().string(), ".asyncjobs-part");
  try {
    fs::copy_file(from, temporary, fs::copy_options::overwrite_existing);
    fs::permissions(temporary, fs::status(from).permissions());
    fs::rename(temporary, target);
  } catch (...) {
    std::error_code ignored;
    fs::remove(temporary, ignored);
    throw;
  }
}

void copy_files(const std::vector<std::string>& paths, const std::string& dir) {
  run_in_thread([&] {
    for (const std::string& path : paths) copy_file(path, dir);
  });
}

}  // namespace

LocalNode::LocalNode() : Node(NodeOptions{.host = "localhost"}) {}

CommandResult LocalNode::run(const std::string& command, const RunOptions& options) {
  ProcessOptions process;
  process.argv = {"/bin/sh", "-c", command};
  process.stdin_data = options.stdin_data;
  process.on_stdout = line_callback(*this, options.on_stdout, std::cout);
  process.on_stderr = line_callback(*this, options.on_stderr, std::cerr);
  process.check = false;
  CommandResult result = command_result(run_process(process));
  const auto& allowed = options.allowed_exits;
  const bool allowed_exit =
      result.signal.empty() &&
      std::find(allowed.begin(), allowed.end(), result.exit_code) != allowed.end();
  if (options.check && !allowed_exit) throw CommandFailedError(name(), command, std::move(result));
  return result;
}

void LocalNode::push(const std::vector<std::string>& local_paths, const std::string& remote_dir) {
  copy_files(local_paths, remote_dir);
}

void LocalNode::pull(const std::vector<std::string>& remote_paths, const std::string& local_dir) {
  copy_files(remote_paths, local_dir);
}

}  // namespace asyncjobs::ssh::internal
