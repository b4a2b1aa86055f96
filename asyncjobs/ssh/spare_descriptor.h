// A descriptor kept free for libssh while a session connects. libssh opens files of its own
// (known_hosts, key files) out of the descriptor admission's sight: with every descriptor
// taken by sockets, those calls would fail. So a connecting session holds a spare, made in
// the same step as its socket (both or neither: sessions holding a socket and waiting for a
// spare would block each other), closed just before each libssh call and made again after
// it, in the same turn of the reactor, so nothing else can take its place meanwhile.
#ifndef ASYNCJOBS_SSH_SPARE_DESCRIPTOR_H_
#define ASYNCJOBS_SSH_SPARE_DESCRIPTOR_H_

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "asyncjobs/internal/reactor/descriptor_admission.h"

namespace asyncjobs::ssh::internal {

// Not counted by the admission (it is never held while its session waits for descriptors
// of its own); its final close is reported as a release.
class SpareDescriptor {
 public:
  SpareDescriptor() = default;
  ~SpareDescriptor() { close(); }
  SpareDescriptor(const SpareDescriptor&) = delete;
  SpareDescriptor& operator=(const SpareDescriptor&) = delete;

  // `create` (a socket's creation, for Fd::open or Fd::open_pair), also making the spare
  // unless it is made already: fails, closing what it made, when either fails.
  template <class Create>
  auto with(Create create) {
    return [this, create](auto... pair) {
      const int result = create(pair...);
      if (result < 0 || fd_ >= 0 || (fd_ = open_null()) >= 0) return result;
      const int error = errno;
      undo(result, pair...);
      errno = error;
      return -1;
    };
  }

  // Calls `call` with the spare closed, so that a file it opens finds a free descriptor.
  template <class Call>
  decltype(auto) lend(Call&& call) {
    if (fd_ >= 0) ::close(std::exchange(fd_, -1));
    const absl::Cleanup retake = [this] { fd_ = open_null(); };  // libssh's files are closed
    return call();
  }

  // Connected: the spare goes to whoever waits for descriptors.
  void close() {
    if (fd_ < 0) return;
    ::close(std::exchange(fd_, -1));
    asyncjobs::internal::DescriptorAdmission::released();
  }

 private:
  static int open_null() { return ::open("/dev/null", O_RDONLY | O_CLOEXEC); }
  static void undo(int fd) { ::close(fd); }
  static void undo(int, int* pair) {
    ::close(pair[0]);
    ::close(pair[1]);
  }

  int fd_ = -1;
};

}  // namespace asyncjobs::ssh::internal

#endif  // ASYNCJOBS_SSH_SPARE_DESCRIPTOR_H_
