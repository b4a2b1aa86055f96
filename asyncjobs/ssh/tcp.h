// A session's direct transport: a TCP connection opened without blocking the reactor.
#ifndef ASYNCJOBS_SSH_TCP_H_
#define ASYNCJOBS_SSH_TCP_H_

#include <string>

#include "absl/time/time.h"
#include "asyncjobs/internal/process/fd.h"
#include "asyncjobs/ssh/pump.h"
#include "asyncjobs/ssh/spare_descriptor.h"

namespace asyncjobs::ssh::internal {

// Resolves `host` on a worker thread, then connects a non-blocking socket to each address in
// turn before `deadline`. Throws ConnectionError naming `name` and the cause ("connection
// refused", "timeout", "cannot resolve ...").
// The socket is made together with `spare` (see SpareDescriptor); time spent waiting for
// descriptors (internal/reactor/descriptor_admission.h) is added to `deadline`.
asyncjobs::internal::Fd connect_tcp(const std::string& name, const std::string& host, int port,
                                    absl::Time& deadline, SpareDescriptor& spare);

// Waits on the session's own socket: for writing while libssh has output pending, else for
// reading.
class SocketTransport : public Transport {
 public:
  bool wait_io(ssh_session session, absl::Time deadline) override;
};

}  // namespace asyncjobs::ssh::internal

#endif  // ASYNCJOBS_SSH_TCP_H_
