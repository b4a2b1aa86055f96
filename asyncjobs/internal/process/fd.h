// An owned file descriptor, closed on destruction (the process and SSH internals), and making
// descriptors through the admission (internal/reactor/descriptor_admission.h): a job waits its
// turn when none is left.
#ifndef ASYNCJOBS_INTERNAL_PROCESS_FD_H_
#define ASYNCJOBS_INTERNAL_PROCESS_FD_H_

#include <unistd.h>

#include <string_view>
#include <utility>

#include "absl/functional/function_ref.h"
#include "asyncjobs/internal/reactor/descriptor_admission.h"

namespace asyncjobs::internal {

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)), loose_(std::exchange(other.loose_, false)) {}
  Fd& operator=(Fd&& other) noexcept {
    reset();
    fd_ = std::exchange(other.fd_, -1);
    loose_ = std::exchange(other.loose_, false);
    return *this;
  }
  ~Fd() { reset(); }

  // The descriptor `create` makes (or -1 with errno, for errors other than running out),
  // charged to `lease`, or counted as a loose descriptor while this Fd holds it when `lease`
  // is nullptr. Out of descriptors in a job, it waits for another job to release some; when
  // none can, it throws DescriptorsExhausted naming the job, the limit and the fix. `call`
  // names the system call.
  static Fd open(absl::FunctionRef<int()> create, std::string_view call,
                 DescriptorLease* lease = nullptr);
  // The same for calls that make two (pipe2, socketpair), given the array to fill; both
  // are -1 on error.
  static std::pair<Fd, Fd> open_pair(absl::FunctionRef<int(int fds[2])> create,
                                     std::string_view call, DescriptorLease* lease = nullptr);

  int get() const { return fd_; }
  bool is_open() const { return fd_ >= 0; }
  // Hands the descriptor over (e.g. to libssh, which closes it): this object forgets it.
  int release() {
    forget_loose();
    return std::exchange(fd_, -1);
  }
  void reset(int fd = -1) {
    if (fd_ >= 0) {
      ::close(fd_);
      forget_loose();
      DescriptorAdmission::released();
    }
    fd_ = fd;
  }

 private:
  void forget_loose() {
    if (std::exchange(loose_, false)) DescriptorAdmission::forget_loose();
  }

  int fd_ = -1;
  bool loose_ = false;  // counted by the admission until closed or handed over
};

}  // namespace asyncjobs::internal

#endif  // ASYNCJOBS_INTERNAL_PROCESS_FD_H_
