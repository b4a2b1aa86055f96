// Push and Pull: remote shell snippets around streamed exec channels.
#include "asyncjobs/ssh/transfer.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "asyncjobs/fiber_calls.h"
#include "asyncjobs/internal/base/system_errors.h"
#include "asyncjobs/ssh/local_files.h"
#include "asyncjobs/ssh/node_access.h"
#include "asyncjobs/ssh/remote_command.h"
#include "asyncjobs/ssh/shell.h"

namespace asyncjobs::ssh::internal {
namespace {

namespace fs = std::filesystem;
using asyncjobs::internal::throw_errno;

// Read from a local file per step: with the channel's window (about 2 MiB) and libssh's
// buffers, what one transfer holds.
constexpr size_t kChunkSize = 1 << 20;

// A command whose output is only captured, not printed.
RunOptions quiet(std::string stdin_data = "") {
  RunOptions options;
  options.stdin_data = std::move(stdin_data);
  options.on_stdout = options.on_stderr = [](const Node&, std::string_view) {};
  return options;
}

CommandResult run_streamed(Node& node, const std::string& command, const Streams& streams) {
  const std::shared_ptr<Session> session = NodeAccess::session(node);
  return run_command(*session, node, command, quiet(), &streams);
}

std::string join(const std::string& dir, const std::string& relative) {
  return (fs::path(dir) / relative).string();
}

// The directory holding `path` ("." for a bare name), also for "dir/".
std::string parent_of(const std::string& path) {
  fs::path normal = fs::path(path).lexically_normal();
  if (!normal.has_filename()) normal = normal.parent_path();
  const std::string parent = normal.parent_path().string();
  return parent.empty() ? "." : parent;
}

// Writes stdin to a temporary file beside `target`, checks its size, sets its mode (and
// time), renames it; a TERM (the kill of a cancelled transfer) or a failure removes it.
std::string push_command(const std::string& target, const Entry& file,
                         const TransferOptions& options) {
  const std::string parent = parent_of(target);
  const std::string temporary = absl::StrCat(parent, "/.", base_name(target), ".ajtmp.XXXXXX");
  std::string command = absl::StrCat(
      "mkdir -p -- ", quote(parent), " && t=$(mktemp ", quote(temporary), ") || exit 1\n",
      "trap 'rm -f -- \"$t\"' EXIT; trap 'exit 143' HUP INT TERM PIPE\n",
      "cat > \"$t\" && [ \"$(wc -c < \"$t\")\" -eq ", file.size, " ] || ",
      "{ echo ", quote(target), ": incomplete >&2; exit 1; }\n",
      absl::StrFormat("chmod %o \"$t\"", file.mode));
  if (options.preserve_times) {
    absl::StrAppend(&command, " && touch -m -d ", format_time(file.mtime), " \"$t\"");
  }
  absl::StrAppend(&command, " && mv -fT -- \"$t\" ", quote(target));
  return command;
}

void push_file(Node& node, const std::string& local_path, const std::string& target,
               const Entry& file, const TransferOptions& options) {
  std::optional<LocalReader> reader;
  run_in_thread([&] { reader.emplace(local_path); });
  Streams streams{.next_input = [&](std::string& chunk) {
    run_in_thread([&] { reader->read(chunk, kChunkSize); });
  }};
  run_streamed(node, push_command(target, file, options), streams);
}

// A shell script making the directories (writable by their owner until the end, so that
// their files can be written) and the symlinks of `entries` under `remote_dir`.
std::string remote_tree_script(const std::vector<Entry>& entries, const std::string& remote_dir) {
  std::string script = absl::StrCat("set -e\nmkdir -p -- ", quote(remote_dir), "\n");
  for (const Entry& entry : entries) {
    const std::string path = quote(join(remote_dir, entry.path));
    if (entry.type == Entry::Type::kDirectory) {
      absl::StrAppend(&script, "mkdir -p -- ", path, " && chmod u+rwx -- ", path, "\n");
    } else if (entry.type == Entry::Type::kSymlink) {
      absl::StrAppend(&script, "ln -sfn -- ", quote(entry.link_target), " ", path, "\n");
    }
  }
  return script;
}

// Then the directories' own modes and times, children first (writing in a directory changes
// its time).
std::string remote_finish_script(const std::vector<Entry>& entries, const std::string& remote_dir,
                                 const TransferOptions& options) {
  std::string script = "set -e\n";
  for (auto entry = entries.rbegin(); entry != entries.rend(); ++entry) {
    if (entry->type != Entry::Type::kDirectory) continue;
    const std::string path = quote(join(remote_dir, entry->path));
    absl::StrAppend(&script, absl::StrFormat("chmod %o -- ", entry->mode), path, "\n");
    if (options.preserve_times) {
      absl::StrAppend(&script, "touch -m -d ", format_time(entry->mtime), " -- ", path, "\n");
    }
  }
  return script;
}

void push_path(Node& node, const std::string& local_path, const std::string& remote_dir,
               const TransferOptions& options) {
  const std::vector<Entry> entries =
      run_in_thread([&] { return list_local(local_path, options.recursive); });
  const bool tree = entries.size() > 1 || entries[0].type != Entry::Type::kFile;
  if (tree) node.run("sh -s", quiet(remote_tree_script(entries, remote_dir)));
  const std::string local_base = parent_of(local_path);
  for (const Entry& entry : entries) {
    if (entry.type != Entry::Type::kFile) continue;
    const std::string source = entries.size() == 1 ? local_path : join(local_base, entry.path);
    push_file(node, source, join(remote_dir, entry.path), entry, options);
  }
  if (tree) node.run("sh -s", quiet(remote_finish_script(entries, remote_dir, options)));
}

// Stdout carries "mode size mtime" on a first line, then the file's bytes, written to a
// temporary local file renamed once all `size` bytes arrived.
class PulledFile {
 public:
  explicit PulledFile(const std::string& target)
      : writer_(run_in_thread([&] { return std::make_unique<LocalWriter>(target); })) {}

  // Gathers a chunk before each write: one trip to the thread pool per chunk, not per packet.
  void take(std::string_view data) {
    if (!header_done_) data = take_header(data);
    pending_.append(data);
    if (pending_.size() >= kChunkSize) flush();
  }
  void commit(const std::string& source, const TransferOptions& options) {
    flush();
    if (!header_done_ || writer_->written() != size_) {
      throw std::runtime_error(absl::StrCat(source, ": incomplete copy (", writer_->written(),
                                            " of ", size_, " bytes)"));
    }
    std::optional<timespec> time;
    if (options.preserve_times) time = mtime_;
    run_in_thread([&] { writer_->commit(mode_, time); });
  }

 private:
  std::string_view take_header(std::string_view data) {
    const size_t newline = data.find('\n');
    header_.append(data.substr(0, newline));
    if (newline == std::string_view::npos) return {};
    const std::vector<std::string> fields = absl::StrSplit(header_, ' ');
    if (fields.size() != 3) throw std::runtime_error("unexpected header: " + header_);
    mode_ = std::stoul(fields[0], nullptr, 8);
    size_ = std::stoll(fields[1]);
    mtime_ = parse_time(fields[2]);
    header_done_ = true;
    return data.substr(newline + 1);
  }

  void flush() {
    if (pending_.empty()) return;
    run_in_thread([&] { writer_->write(pending_); });
    pending_.clear();
  }

  std::unique_ptr<LocalWriter> writer_;
  std::string pending_;
  std::string header_;
  bool header_done_ = false;
  mode_t mode_ = 0;
  int64_t size_ = 0;
  timespec mtime_{};
};

std::string pull_command(const std::string& source) {
  return absl::StrCat("f=", quote(source),
                      "; if [ -d \"$f\" ]; then echo \"$f: is a directory\" >&2; exit 1; fi; "
                      "stat -L -c '%a %s %.9Y' -- \"$f\" && exec cat -- \"$f\"");
}

void pull_file(Node& node, const std::string& source, const std::string& target,
               const TransferOptions& options) {
  PulledFile file(target);
  Streams streams{.on_output = [&](std::string_view data) { file.take(data); }};
  run_streamed(node, pull_command(source), streams);
  file.commit(source, options);
}

// The entries under a remote path, from find: type, mode, time, path, link target, each
// ended by a NUL (any byte may be in a name but NUL).
std::vector<Entry> list_remote(Node& node, const std::string& parent, const std::string& name) {
  const CommandResult listing = node.run(
      absl::StrCat("cd -- ", quote(parent), " && find -H ", quote(name),
                   " '(' -type d -o -type f -o -type l ')' -printf '%y\\0%m\\0%T@\\0%p\\0%l\\0'"),
      quiet());
  const std::vector<std::string> fields = absl::StrSplit(listing.out, '\0');
  std::vector<Entry> entries;
  for (size_t i = 0; i + 5 <= fields.size(); i += 5) {
    Entry entry{.path = fields[i + 3], .mtime = parse_time(fields[i + 2]),
                .link_target = fields[i + 4]};
    entry.mode = std::stoul(fields[i + 1], nullptr, 8);
    entry.type = fields[i] == "d"   ? Entry::Type::kDirectory
                 : fields[i] == "l" ? Entry::Type::kSymlink
                                    : Entry::Type::kFile;
    entries.push_back(std::move(entry));
  }
  return entries;
}

void make_local_entry(const Entry& entry, const std::string& path) {
  if (entry.type == Entry::Type::kDirectory) {
    const bool made = ::mkdir(path.c_str(), 0700) == 0 || errno == EEXIST;
    if (!made || ::chmod(path.c_str(), entry.mode | 0700) != 0) {
      throw_errno(errno, "cannot make " + path);
    }
  } else if (entry.type == Entry::Type::kSymlink) {
    const bool cleared = ::unlink(path.c_str()) == 0 || errno == ENOENT;
    if (!cleared || ::symlink(entry.link_target.c_str(), path.c_str()) != 0) {
      throw_errno(errno, "cannot make " + path);
    }
  }
}

void pull_tree(Node& node, const std::string& remote_path, const std::string& local_dir,
               const TransferOptions& options) {
  const std::string parent = parent_of(remote_path);
  const std::string name = base_name(remote_path);
  const std::vector<Entry> entries = list_remote(node, parent, name);
  if (entries.empty()) {
    throw std::runtime_error(absl::StrCat(node.name(), ": nothing at ", remote_path));
  }
  run_in_thread([&] {
    for (const Entry& entry : entries) make_local_entry(entry, join(local_dir, entry.path));
  });
  for (const Entry& entry : entries) {
    if (entry.type != Entry::Type::kFile) continue;
    pull_file(node, join(parent, entry.path), join(local_dir, entry.path), options);
  }
  run_in_thread([&] {
    for (auto entry = entries.rbegin(); entry != entries.rend(); ++entry) {
      if (entry->type != Entry::Type::kDirectory) continue;
      std::optional<timespec> time;
      if (options.preserve_times) time = entry->mtime;
      finish_local_directory(join(local_dir, entry->path), entry->mode, time);
    }
  });
}

}  // namespace

void push_files(Node& node, const std::vector<std::string>& local_paths,
                const std::string& remote_dir, const TransferOptions& options) {
  for (const std::string& path : local_paths) push_path(node, path, remote_dir, options);
}

void pull_files(Node& node, const std::vector<std::string>& remote_paths,
                const std::string& local_dir, const TransferOptions& options) {
  for (const std::string& path : remote_paths) {
    if (options.recursive) {
      pull_tree(node, path, local_dir, options);
    } else {
      pull_file(node, path, join(local_dir, base_name(path)), options);
    }
  }
}

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

std::string push_temporary_script(Node& node, const std::string& content) {
  const CommandResult made = node.run(
      "f=$(mktemp \"${TMPDIR:-/tmp}/asyncjobs-XXXXXX\") && cat > \"$f\" && chmod 700 \"$f\" && "
      "echo \"$f\"",
      quiet(content));
  return std::string(absl::StripSuffix(made.out, "\n"));
}

}  // namespace asyncjobs::ssh::internal
