// Local files for transfers: chunked reads, writes under a temporary name, tree listings.
#include "asyncjobs/ssh/local_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "asyncjobs/internal/base/system_errors.h"

namespace asyncjobs::ssh::internal {
namespace {

namespace fs = std::filesystem;
using asyncjobs::internal::throw_errno;

Entry entry_of(const std::string& path, const std::string& relative, bool follow) {
  struct stat status;
  if ((follow ? ::stat(path.c_str(), &status) : ::lstat(path.c_str(), &status)) != 0) {
    throw_errno(errno, "cannot read " + path);
  }
  Entry entry{.path = relative, .mode = status.st_mode & 07777, .mtime = status.st_mtim};
  if (S_ISDIR(status.st_mode)) {
    entry.type = Entry::Type::kDirectory;
  } else if (S_ISLNK(status.st_mode)) {
    entry.type = Entry::Type::kSymlink;
    entry.link_target = fs::read_symlink(path).string();
  } else {
    entry.size = status.st_size;
  }
  return entry;
}

}  // namespace

std::string base_name(const std::string& path) {
  fs::path normal = fs::path(path).lexically_normal();
  if (!normal.has_filename()) normal = normal.parent_path();  // "dir/"
  return normal.filename().string();
}

std::vector<Entry> list_local(const std::string& path, bool recursive) {
  std::vector<Entry> entries{entry_of(path, base_name(path), /*follow=*/true)};
  if (entries[0].type != Entry::Type::kDirectory) return entries;
  if (!recursive) throw_errno(EISDIR, path + " (not recursive)");
  const fs::path top(entries[0].path);
  for (const fs::directory_entry& item : fs::recursive_directory_iterator(path)) {
    const std::string relative = (top / item.path().lexically_relative(path)).string();
    entries.push_back(entry_of(item.path().string(), relative, /*follow=*/false));
  }
  return entries;
}

timespec parse_time(std::string_view text) {
  timespec time{};
  const size_t dot = text.find('.');
  std::from_chars(text.data(), text.data() + std::min(dot, text.size()), time.tv_sec);
  if (dot == std::string_view::npos) return time;
  std::string nanoseconds(text.substr(dot + 1, 9));
  nanoseconds.resize(9, '0');
  std::from_chars(nanoseconds.data(), nanoseconds.data() + 9, time.tv_nsec);
  return time;
}

std::string format_time(const timespec& time) {
  return absl::StrFormat("@%d.%09d", time.tv_sec, time.tv_nsec);
}

LocalReader::LocalReader(const std::string& path)
    : path_(path), fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {
  if (!fd_.is_open()) throw_errno(errno, "cannot read " + path);
}

void LocalReader::read(std::string& chunk, size_t max) {
  chunk.resize(max);
  ssize_t count;
  do {
    count = ::read(fd_.get(), chunk.data(), max);
  } while (count < 0 && errno == EINTR);
  if (count < 0) throw_errno(errno, "cannot read " + path_);
  chunk.resize(count);
}

LocalWriter::LocalWriter(std::string final_path) : final_path_(std::move(final_path)) {
  const fs::path final(final_path_);
  const std::string name = absl::StrCat(".", final.filename().string(), ".ajtmp.XXXXXX");
  std::string pattern = (final.parent_path() / name).string();
  fd_.reset(::mkostemp(pattern.data(), O_CLOEXEC));
  if (!fd_.is_open()) throw_errno(errno, "cannot write in " + final.parent_path().string());
  temporary_path_ = std::move(pattern);
}

LocalWriter::~LocalWriter() {
  if (!temporary_path_.empty()) ::unlink(temporary_path_.c_str());
}

void LocalWriter::write(std::string_view data) {
  while (!data.empty()) {
    const ssize_t count = ::write(fd_.get(), data.data(), data.size());
    if (count < 0 && errno == EINTR) continue;
    if (count < 0) throw_errno(errno, "cannot write " + temporary_path_);
    data.remove_prefix(count);
    written_ += count;
  }
}

void LocalWriter::commit(mode_t mode, const std::optional<timespec>& mtime) {
  if (::fchmod(fd_.get(), mode) != 0) throw_errno(errno, "cannot chmod " + temporary_path_);
  if (mtime) {
    const timespec times[2] = {{.tv_sec = 0, .tv_nsec = UTIME_OMIT}, *mtime};
    if (::futimens(fd_.get(), times) != 0) {
      throw_errno(errno, "cannot set times of " + temporary_path_);
    }
  }
  const int fd = fd_.release();
  if (::close(fd) != 0) throw_errno(errno, "cannot write " + temporary_path_);
  if (::rename(temporary_path_.c_str(), final_path_.c_str()) != 0) {
    throw_errno(errno, "cannot rename to " + final_path_);
  }
  temporary_path_.clear();
}

void finish_local_directory(const std::string& path, mode_t mode,
                            const std::optional<timespec>& mtime) {
  if (::chmod(path.c_str(), mode) != 0) throw_errno(errno, "cannot chmod " + path);
  if (!mtime) return;
  const timespec times[2] = {{.tv_sec = 0, .tv_nsec = UTIME_OMIT}, *mtime};
  if (::utimensat(AT_FDCWD, path.c_str(), times, 0) != 0) {
    throw_errno(errno, "cannot set times of " + path);
  }
}

}  // namespace asyncjobs::ssh::internal
