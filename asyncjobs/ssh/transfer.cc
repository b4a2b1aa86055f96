// Push and Pull over exec channels.
#include "asyncjobs/ssh/transfer.h"

#include <sys/stat.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "asyncjobs/fiber_calls.h"
#include "asyncjobs/internal/base/system_errors.h"
#include "asyncjobs/ssh/shell.h"

namespace asyncjobs::ssh::internal {
namespace {

using asyncjobs::internal::throw_errno;

// A command whose output is only captured, not printed.
RunOptions quiet(std::string stdin_data = "") {
  RunOptions options;
  options.stdin_data = std::move(stdin_data);
  options.on_stdout = options.on_stderr = [](const Node&, std::string_view) {};
  return options;
}

void write_local(const std::string& path, const std::string& content) {
  run_in_thread([&] {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
    out.close();
    if (!out) throw_errno(errno, "cannot write " + path);
  });
}

std::string base_name(const std::string& path) {
  return std::filesystem::path(path).filename().string();
}

}  // namespace

LocalFile read_local_file(const std::string& path) {
  return run_in_thread([&] {
    std::ifstream in(path, std::ios::binary);
    struct stat status;
    if (!in || ::stat(path.c_str(), &status) != 0) throw_errno(errno, "cannot read " + path);
    std::ostringstream content;
    content << in.rdbuf();
    return LocalFile{content.str(), status.st_mode & 07777};
  });
}

void push_files(Node& node, const std::vector<std::string>& local_paths,
                const std::string& remote_dir) {
  node.run(absl::StrCat("mkdir -p ", quote(remote_dir)), quiet());
  for (const std::string& path : local_paths) {
    LocalFile file = read_local_file(path);
    const std::string target = quote(absl::StrCat(remote_dir, "/", base_name(path)));
    node.run(absl::StrFormat("cat > %s && chmod %o %s", target, file.mode, target),
             quiet(std::move(file.content)));
  }
}

void pull_files(Node& node, const std::vector<std::string>& remote_paths,
                const std::string& local_dir) {
  for (const std::string& path : remote_paths) {
    const CommandResult result = node.run(absl::StrCat("cat ", quote(path)), quiet());
    write_local((std::filesystem::path(local_dir) / base_name(path)).string(), result.out);
  }
}

std::string push_temporary_script(Node& node, const std::string& content) {
  const CommandResult made = node.run(
      "f=$(mktemp \"${TMPDIR:-/tmp}/asyncjobs-XXXXXX\") && cat > \"$f\" && chmod 700 \"$f\" && "
      "echo \"$f\"",
      quiet(content));
  return std::string(absl::StripSuffix(made.out, "\n"));
}

}  // namespace asyncjobs::ssh::internal
