// One SSH connection: connected, host key checked and authenticated in non-blocking mode,
// then shared by the channels of every job that uses its node.
#ifndef ASYNCJOBS_SSH_SESSION_H_
#define ASYNCJOBS_SSH_SESSION_H_

#include <libssh/libssh.h>

#include <algorithm>
#include <memory>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "asyncjobs/event.h"
#include "asyncjobs/internal/process/fd.h"
#include "asyncjobs/ssh.h"
#include "asyncjobs/ssh/channel_slots.h"
#include "asyncjobs/ssh/pump.h"
#include "asyncjobs/ssh/spare_descriptor.h"

namespace asyncjobs::ssh::internal {

// The SSH handshake failed after the TCP connection was made: the server dropped it (sshd's
// MaxStartups drops connections at random when many arrive at once) or reset it. Worth
// trying again, unlike the other ConnectionErrors.
class HandshakeError : public ConnectionError {
 public:
  using ConnectionError::ConnectionError;
};

// Owned by its Node (and by the tunnels of nodes using it as their gateway). Waits suspend
// the calling job only; the destructor never suspends.
class Session {
 public:
  // Connects (directly, or through `gateway` when not null), checks the host key and
  // authenticates, all before `options.connect_timeout`. Throws ConnectionError naming `name`
  // (HandshakeError when the server dropped the connection before the key exchange ended).
  Session(const NodeOptions& options, std::string name, std::shared_ptr<Session> gateway);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  ssh_session get() const { return session_; }
  const std::string& name() const { return name_; }
  bool connected() const { return ssh_is_connected(session_) != 0; }
  // The channels open on this session, at most max_sessions.
  ChannelSlots& slots() { return slots_; }

  // Suspends until the session may have progressed; false at `deadline` (see Pump::wait).
  bool wait(absl::Time deadline = absl::InfiniteFuture(), Event* activity = nullptr) {
    return pump_->wait(deadline, activity);
  }
  // Calls `step` (a libssh call) until it returns something else than `again`, waiting in
  // between; returns its last result (`again` if `deadline` passed first). The answers it
  // waits for (connect, auth, channel open, exec) have no libssh callback, so another job's
  // call may read them unseen: each wait also ends after kRecheck, to look again.
  // While the session connects, each step is given its spare descriptor (libssh may open a
  // file).
  template <class Step>
  int until_done(Step step, int again = SSH_AGAIN, absl::Time deadline = absl::InfiniteFuture()) {
    int rc;
    while ((rc = connecting_ ? spare_.lend(step) : step()) == again) {
      if (!wait(std::min(deadline, absl::Now() + kRecheck)) && absl::Now() >= deadline) {
        return again;
      }
    }
    return rc;
  }
  static constexpr absl::Duration kRecheck = absl::Milliseconds(50);
  // Held while connecting: lent to each libssh call that may open a file of its own
  // (known_hosts, key files).
  SpareDescriptor& spare() { return spare_; }

 private:
  void open_transport(const NodeOptions& options, std::shared_ptr<Session> gateway,
                      absl::Time& deadline);
  void set_options(const NodeOptions& options);
  void handshake(absl::Time deadline, const absl::Duration& timeout);
  [[noreturn]] void fail(const std::string& cause) const;

  std::string name_;
  ChannelSlots slots_;
  std::unique_ptr<Transport> transport_;
  asyncjobs::internal::Fd socket_;  // given to libssh with SSH_OPTIONS_FD, which never closes it
  ssh_session session_ = nullptr;
  std::unique_ptr<Pump> pump_;
  SpareDescriptor spare_;   // made with the socket, closed once authenticated
  bool connecting_ = true;  // until authenticated
};

}  // namespace asyncjobs::ssh::internal

#endif  // ASYNCJOBS_SSH_SESSION_H_
