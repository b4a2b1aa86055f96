// Counting this process's open file descriptors (/proc/self/fd), for tests and benchmarks
// that check nothing leaked: equal counts before and after.
#ifndef ASYNCJOBS_TESTS_OPEN_FDS_H_
#define ASYNCJOBS_TESTS_OPEN_FDS_H_

#include <dirent.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <string_view>

namespace asyncjobs::testing {

// Calls `visit` with each open descriptor but the one listing them.
template <typename Visit>
void for_each_open_fd(Visit visit) {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) std::abort();
  while (const dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    const int fd = std::atoi(entry->d_name);
    if (fd != ::dirfd(dir)) visit(fd);
  }
  ::closedir(dir);
}

inline int open_fd_count() {
  int count = 0;
  for_each_open_fd([&](int) { ++count; });
  return count;
}

// Descriptors whose /proc/self/fd link reads `target`, e.g. "anon_inode:[pidfd]".
inline int open_fd_count(std::string_view target) {
  int count = 0;
  for_each_open_fd([&](int fd) {
    char link[64] = {};
    const std::string path = "/proc/self/fd/" + std::to_string(fd);
    if (::readlink(path.c_str(), link, sizeof link - 1) > 0 && std::string_view(link) == target) {
      ++count;
    }
  });
  return count;
}

}  // namespace asyncjobs::testing

#endif  // ASYNCJOBS_TESTS_OPEN_FDS_H_
