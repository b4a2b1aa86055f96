// LocalNode: Node's vocabulary on this machine, through process jobs and file copies.
#include "asyncjobs/ssh/local_node.h"

#include <string.h>  // sigabbrev_np

#include <filesystem>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "asyncjobs/fiber_calls.h"
#include "asyncjobs/internal/jobs/job_output.h"
#include "asyncjobs/process_job.h"
#include "asyncjobs/ssh/remote_command.h"

namespace asyncjobs::ssh::internal {
namespace {

namespace fs = std::filesystem;

std::function<void(std::string_view)> line_callback(const Node& node,
                                                    const decltype(RunOptions::on_stdout)& user,
                                                    std::ostream& default_stream) {
  // run_process reports each line as the job's output (a kOutput event) before this.
  if (user) return [&node, &user](std::string_view line) { user(node, line); };
  return [&node, &default_stream](std::string_view line) {
    asyncjobs::internal::print_line(default_stream, node.name() + ":" + std::string(line));
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

// Copies `from` to `target` through a temporary name beside it, with its mode (and time).
void copy_file(const fs::path& from, const fs::path& target, const TransferOptions& options) {
  const fs::path to_dir = target.parent_path();
  const fs::path temporary =
      to_dir / absl::StrCat(".", from.filename().string(), ".asyncjobs-part");
  try {
    fs::copy_file(from, temporary, fs::copy_options::overwrite_existing);
    fs::permissions(temporary, fs::status(from).permissions());
    if (options.preserve_times) fs::last_write_time(temporary, fs::last_write_time(from));
    fs::rename(temporary, target);
  } catch (...) {
    std::error_code ignored;
    fs::remove(temporary, ignored);
    throw;
  }
}

// A directory and what it holds, as the remote side does: modes kept, symlinks copied as
// symlinks, other special files skipped. Paths are made relative lexically: fs::relative
// would follow a symlink to its target.
void copy_tree(const fs::path& from, const fs::path& target, const TransferOptions& options) {
  fs::create_directories(target);
  for (const fs::directory_entry& entry : fs::recursive_directory_iterator(from)) {
    const fs::path to = target / entry.path().lexically_relative(from);
    if (entry.is_symlink()) {
      std::error_code ignored;
      fs::remove(to, ignored);
      fs::copy_symlink(entry.path(), to);
    } else if (entry.is_directory()) {
      fs::create_directories(to);
    } else if (entry.is_regular_file()) {
      copy_file(entry.path(), to, options);
    }
  }
  // Modes and times of directories last: copying into them changed their times.
  for (const fs::directory_entry& entry : fs::recursive_directory_iterator(from)) {
    if (entry.is_symlink() || !entry.is_directory()) continue;
    const fs::path to = target / entry.path().lexically_relative(from);
    fs::permissions(to, entry.status().permissions());
    if (options.preserve_times) fs::last_write_time(to, fs::last_write_time(entry.path()));
  }
  fs::permissions(target, fs::status(from).permissions());
  if (options.preserve_times) fs::last_write_time(target, fs::last_write_time(from));
}

void copy_files(const std::vector<std::string>& paths, const std::string& dir,
                const TransferOptions& options) {
  run_in_thread([&] {
    fs::create_directories(dir);
    for (const std::string& path : paths) {
      const fs::path from = fs::path(path).lexically_normal();
      const fs::path name = from.has_filename() ? from.filename() : from.parent_path().filename();
      if (fs::is_directory(from)) {
        if (!options.recursive) {
          throw fs::filesystem_error("not copied: a directory needs TransferOptions::recursive",
                                     from, std::make_error_code(std::errc::is_a_directory));
        }
        copy_tree(from, fs::path(dir) / name, options);
      } else {
        copy_file(from, fs::path(dir) / name, options);
      }
    }
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
  return checked_result(*this, command, options, command_result(run_process(process)));
}

void LocalNode::push(const std::vector<std::string>& local_paths, const std::string& remote_dir,
                     const TransferOptions& options) {
  copy_files(local_paths, remote_dir, options);
}

void LocalNode::pull(const std::vector<std::string>& remote_paths, const std::string& local_dir,
                     const TransferOptions& options) {
  copy_files(remote_paths, local_dir, options);
}

}  // namespace asyncjobs::ssh::internal
