// Non-blocking TCP connect for SSH sessions, and waiting on their socket.
#include "asyncjobs/ssh/tcp.h"

#include <netdb.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "asyncjobs/fiber_calls.h"
#include "asyncjobs/ssh.h"

namespace asyncjobs::ssh::internal {
namespace {

using asyncjobs::internal::Fd;

using AddressList = std::unique_ptr<addrinfo, decltype(&freeaddrinfo)>;

// getaddrinfo may take seconds (DNS): it runs on the reactor's thread pool.
AddressList resolve(const std::string& name, const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  const int error = run_in_thread([&] { return getaddrinfo(host.c_str(), service.c_str(), &hints, &found); });
  if (error != 0) {
    throw ConnectionError(absl::StrCat(name, ": cannot resolve ", host, ": ", gai_strerror(error)));
  }
  return AddressList(found, &freeaddrinfo);
}

absl::Duration time_left(absl::Time deadline) {
  return std::max(deadline - absl::Now(), absl::ZeroDuration());
}

// One attempt: the connected socket, or an errno (ETIMEDOUT once `deadline` passed). Time
// spent waiting for a descriptor is added to `deadline`: the host is not slow for it.
int try_connect(const addrinfo& address, absl::Time& deadline, Fd& socket_fd,
                SpareDescriptor& spare) {
  // Out of descriptors, waits for another job to release some (internal/process/fd.h).
  const absl::Time before = absl::Now();
  socket_fd = Fd::open(spare.with([&] {
                         return ::socket(address.ai_family,
                                         address.ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                                         address.ai_protocol);
                       }),
                       "socket");
  deadline += absl::Now() - before;
  if (!socket_fd.is_open()) return errno;
  if (::connect(socket_fd.get(), address.ai_addr, address.ai_addrlen) == 0) return 0;
  if (errno != EINPROGRESS) return errno;
  if (!wait_writable(socket_fd.get(), time_left(deadline))) return ETIMEDOUT;
  int error = 0;
  socklen_t size = sizeof error;
  if (::getsockopt(socket_fd.get(), SOL_SOCKET, SO_ERROR, &error, &size) != 0) return errno;
  return error;
}

std::string describe_errno(int error) {
  switch (error) {
    case ECONNREFUSED:
      return "connection refused";
    case ETIMEDOUT:
      return "timeout while connecting";
    default:
      return std::strerror(error);
  }
}

}  // namespace

Fd connect_tcp(const std::string& name, const std::string& host, int port, absl::Time& deadline,
               SpareDescriptor& spare) {
  const AddressList addresses = resolve(name, host, port);
  int error = EADDRNOTAVAIL;
  for (const addrinfo* address = addresses.get(); address != nullptr; address = address->ai_next) {
    Fd socket_fd;
    error = try_connect(*address, deadline, socket_fd, spare);
    if (error == 0) return socket_fd;
    if (error == ETIMEDOUT) break;
  }
  throw ConnectionError(absl::StrCat(name, ": ", describe_errno(error)));
}

bool SocketTransport::wait_io(ssh_session session, absl::Time deadline) {
  const int fd = ssh_get_fd(session);
  const absl::Duration timeout = deadline == absl::InfiniteFuture() ? absl::InfiniteDuration()
                                                                    : time_left(deadline);
  if (ssh_get_poll_flags(session) & SSH_WRITE_PENDING) return wait_writable(fd, timeout);
  return wait_readable(fd, timeout);
}

}  // namespace asyncjobs::ssh::internal
