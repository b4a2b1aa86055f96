// The local side of transfers: files read and written in chunks, a file that appears under
// its final name only once complete, and the entries of a directory tree. Every call blocks
// (disk I/O): transfers make them through run_in_thread, off the reactor's thread.
#ifndef ASYNCJOBS_SSH_LOCAL_FILES_H_
#define ASYNCJOBS_SSH_LOCAL_FILES_H_

#include <sys/types.h>
#include <time.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "asyncjobs/internal/process/fd.h"

namespace asyncjobs::ssh::internal {

// What a transfer copies: a file, a directory or a symbolic link, by its path relative to
// the directory it is copied into.
struct Entry {
  enum class Type { kFile, kDirectory, kSymlink };
  Type type = Type::kFile;
  std::string path;
  mode_t mode = 0;  // permission bits
  timespec mtime{};
  std::string link_target;  // kSymlink
  int64_t size = 0;         // kFile
};

// `path` itself (followed if a symlink) under its base name; with `recursive`, a directory
// and everything under it, parents before children, symlinks inside as symlinks. Throws
// std::system_error (a directory without `recursive`: EISDIR).
std::vector<Entry> list_local(const std::string& path, bool recursive);

// The last component of `path`, also for "dir/" ("dir").
std::string base_name(const std::string& path);

// "seconds.nanoseconds", as stat's %.9Y and find's %T@ print it (more digits are dropped).
timespec parse_time(std::string_view text);
std::string format_time(const timespec& time);  // "@seconds.nanoseconds", for touch -d

// Reads a file in chunks.
class LocalReader {
 public:
  explicit LocalReader(const std::string& path);  // throws std::system_error
  // Replaces `chunk` with the next bytes, at most `max`; empty at the end.
  void read(std::string& chunk, size_t max);

 private:
  std::string path_;
  asyncjobs::internal::Fd fd_;
};

// Writes a file under a temporary name in its directory; commit() renames it to its final
// name. Destroyed uncommitted, it removes the temporary file.
class LocalWriter {
 public:
  explicit LocalWriter(std::string final_path);  // throws std::system_error
  ~LocalWriter();
  LocalWriter(const LocalWriter&) = delete;
  LocalWriter& operator=(const LocalWriter&) = delete;

  void write(std::string_view data);
  void commit(mode_t mode, const std::optional<timespec>& mtime);
  int64_t written() const { return written_; }

 private:
  std::string final_path_, temporary_path_;
  asyncjobs::internal::Fd fd_;
  int64_t written_ = 0;
};

// Sets a local directory's permission bits and, when given, its modification time.
void finish_local_directory(const std::string& path, mode_t mode,
                            const std::optional<timespec>& mtime);

}  // namespace asyncjobs::ssh::internal

#endif  // ASYNCJOBS_SSH_LOCAL_FILES_H_
