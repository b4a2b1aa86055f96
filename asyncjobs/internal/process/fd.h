// An owned file descriptor, closed on destruction (the process and SSH internals).
#ifndef ASYNCJOBS_INTERNAL_PROCESS_FD_H_
#define ASYNCJOBS_INTERNAL_PROCESS_FD_H_

#include <unistd.h>

#include <utility>

namespace asyncjobs::internal {

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(other.release()) {}
  Fd& operator=(Fd&& other) noexcept {
    reset(other.release());
    return *this;
  }
  ~Fd() { reset(); }

  int get() const { return fd_; }
  bool is_open() const { return fd_ >= 0; }
  // Hands the descriptor over (e.g. to libssh, which closes it): this object forgets it.
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

}  // namespace asyncjobs::internal

#endif  // ASYNCJOBS_INTERNAL_PROCESS_FD_H_
