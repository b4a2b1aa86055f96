// Opening an SSH session without blocking the reactor: transport, handshake, host key, auth.
#include "asyncjobs/ssh/session.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "asyncjobs/ssh/auth.h"
#include "asyncjobs/ssh/host_key.h"
#include "asyncjobs/ssh/tcp.h"
#include "asyncjobs/ssh/tunnel.h"

namespace asyncjobs::ssh::internal {

Session::Session(const NodeOptions& options, std::string name, std::shared_ptr<Session> gateway)
    : name_(std::move(name)),
      slots_(options.max_sessions) {
  absl::Time deadline = absl::Now() + options.connect_timeout;  // later if descriptors lack
  session_ = ssh_new();
  if (session_ == nullptr) throw ConnectionError(absl::StrCat(name_, ": ssh_new failed"));
  try {
    open_transport(options, std::move(gateway), deadline);
    handshake(deadline, options.connect_timeout);
    spare_.lend([&] { check_host_key(session_, options.host_key_check, name_); });
    authenticate(*this, options, deadline);
  } catch (...) {
    pump_.reset();
    ssh_free(session_);
    throw;
  }
  spare_.lend([&] { pump_->start_processing(); });
  connecting_ = false;
  spare_.close();
}

Session::~Session() {
  pump_.reset();
  ssh_disconnect(session_);  // non-blocking: sends the message if it can
  ssh_free(session_);
}  // then socket_ closes

void Session::open_transport(const NodeOptions& options, std::shared_ptr<Session> gateway,
                             absl::Time& deadline) {
  if (gateway == nullptr) {
    socket_ = connect_tcp(name_, options.host, options.port, deadline, spare_);
    transport_ = std::make_unique<SocketTransport>();
  } else {
    auto tunnel = std::make_unique<Tunnel>(std::move(gateway), name_, options.host, options.port,
                                           deadline, spare_);
    socket_.reset(tunnel->release_inner_fd());
    transport_ = std::move(tunnel);
  }
  set_options(options);
  pump_ = std::make_unique<Pump>(*transport_, session_);
}

void Session::set_options(const NodeOptions& options) {
  const bool no = false;
  const int fd = socket_.get();
  bool ok = ssh_options_set(session_, SSH_OPTIONS_FD, &fd) == SSH_OK;
  ok = ok && ssh_options_set(session_, SSH_OPTIONS_HOST, options.host.c_str()) == SSH_OK;
  ok = ok && ssh_options_set(session_, SSH_OPTIONS_PORT, &options.port) == SSH_OK;
  // Only what NodeOptions says: ~/.ssh/config would make a run depend on the machine.
  ok = ok && ssh_options_set(session_, SSH_OPTIONS_PROCESS_CONFIG, &no) == SSH_OK;
  if (ok && !options.user.empty()) {
    ok = ssh_options_set(session_, SSH_OPTIONS_USER, options.user.c_str()) == SSH_OK;
  }
  if (ok && !options.known_hosts.empty()) {
    ok = ssh_options_set(session_, SSH_OPTIONS_KNOWNHOSTS, options.known_hosts.c_str()) == SSH_OK;
  }
  if (!ok) fail(absl::StrCat("bad option: ", ssh_get_error(session_)));
  ssh_set_blocking(session_, 0);
}

void Session::handshake(absl::Time deadline, const absl::Duration& timeout) {
  const int rc = until_done([&] { return ssh_connect(session_); }, SSH_AGAIN, deadline);
  if (rc == SSH_AGAIN) {
    fail(absl::StrCat("timeout after ", absl::FormatDuration(timeout), " (SSH handshake)"));
  }
  if (rc != SSH_OK) throw HandshakeError(absl::StrCat(name_, ": ", ssh_get_error(session_)));
}

void Session::fail(const std::string& cause) const {
  throw ConnectionError(absl::StrCat(name_, ": ", cause));
}

}  // namespace asyncjobs::ssh::internal
