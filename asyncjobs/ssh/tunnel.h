// A session's transport through a gateway: a direct-tcpip channel of the gateway's session
// relayed to one end of a socketpair, whose other end the inner session uses as its socket.
#ifndef ASYNCJOBS_SSH_TUNNEL_H_
#define ASYNCJOBS_SSH_TUNNEL_H_

#include <libssh/callbacks.h>
#include <libssh/libssh.h>

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "asyncjobs/event.h"
#include "asyncjobs/internal/process/fd.h"
#include "asyncjobs/ssh/pump.h"
#include "asyncjobs/ssh/spare_descriptor.h"

namespace asyncjobs::ssh::internal {

class Session;

// Bytes move only while a job of the inner session waits (`wait_io`): the inner session only
// expects bytes when one of its jobs waits for them, and each wait first relays what the
// inner session has written. The gateway session must stay connected while the tunnel lives.
class Tunnel : public Transport {
 public:
  // Opens the forwarding to host:port on `gateway`; throws ConnectionError naming `name`.
  // The socket pair is made together with `spare` (see SpareDescriptor).
  Tunnel(std::shared_ptr<Session> gateway, const std::string& name, const std::string& host,
         int port, absl::Time deadline, SpareDescriptor& spare);
  ~Tunnel() override;
  Tunnel(const Tunnel&) = delete;
  Tunnel& operator=(const Tunnel&) = delete;

  // The inner session's end, for SSH_OPTIONS_FD; once.
  int release_inner_fd() { return inner_.release(); }
  bool wait_io(ssh_session session, absl::Time deadline) override;
  void flush() override { relay(); }

 private:
  bool relay();  // moves what can move without waiting; true if anything did
  static int on_data(ssh_session, ssh_channel, void*, uint32_t, int, void* self);
  static void on_event(ssh_session, ssh_channel, void* self);
  static int on_window(ssh_session, ssh_channel, uint32_t, void* self);
  bool to_inner();
  bool to_gateway();

  std::shared_ptr<Session> gateway_;
  ssh_channel channel_ = nullptr;
  ssh_channel_callbacks_struct callbacks_{};  // wake the relaying job (see Pump)
  Event activity_;
  asyncjobs::internal::Fd outer_, inner_;  // the socketpair: ours, and the inner session's
  std::string to_inner_, to_gateway_;  // read from one side, not yet written to the other
  bool inner_eof_sent_ = false;
};

}  // namespace asyncjobs::ssh::internal

#endif  // ASYNCJOBS_SSH_TUNNEL_H_
