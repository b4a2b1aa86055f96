// Relaying an inner SSH session through a gateway's direct-tcpip channel.
#include "asyncjobs/ssh/tunnel.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "asyncjobs/ssh.h"
#include "asyncjobs/ssh/session.h"

namespace asyncjobs::ssh::internal {
namespace {

constexpr size_t kChunk = 64 * 1024;

}  // namespace

Tunnel::Tunnel(std::shared_ptr<Session> gateway, const std::string& name, const std::string& host,
               int port, absl::Time deadline, SpareDescriptor& spare)
    : gateway_(std::move(gateway)), channel_(ssh_channel_new(gateway_->get())) {
  if (channel_ == nullptr) throw ConnectionError(absl::StrCat(name, ": cannot make a channel"));
  callbacks_.userdata = this;
  callbacks_.channel_data_function = &Tunnel::on_data;
  callbacks_.channel_eof_function = &Tunnel::on_event;
  callbacks_.channel_close_function = &Tunnel::on_event;
  callbacks_.channel_write_wontblock_function = &Tunnel::on_window;
  ssh_callbacks_init(&callbacks_);
  ssh_set_channel_callbacks(channel_, &callbacks_);
  const int rc = gateway_->until_done(
      [&] { return ssh_channel_open_forward(channel_, host.c_str(), port, "127.0.0.1", 22); },
      SSH_AGAIN, deadline);
  if (rc != SSH_OK) {
    const std::string cause = rc == SSH_AGAIN ? "timeout" : ssh_get_error(gateway_->get());
    ssh_remove_channel_callbacks(channel_, &callbacks_);
    ssh_channel_free(channel_);
    throw ConnectionError(
        absl::StrCat(name, ": gateway ", gateway_->name(), " cannot reach it: ", cause));
  }
  const auto close_channel = [&] {
    ssh_remove_channel_callbacks(channel_, &callbacks_);
    ssh_channel_free(channel_);
  };
  // Out of descriptors, waits for another job to release some (internal/process/fd.h).
  std::pair<asyncjobs::internal::Fd, asyncjobs::internal::Fd> fds;
  try {
    fds = asyncjobs::internal::Fd::open_pair(spare.with([](int* pair) {
                                               return ::socketpair(
                                                   AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                                                   0, pair);
                                             }),
                                             "socketpair");
  } catch (...) {
    close_channel();
    throw;
  }
  if (!fds.first.is_open()) {
    const int error = errno;
    close_channel();
    throw ConnectionError(absl::StrCat(name, ": socketpair: ", std::strerror(error)));
  }
  outer_ = std::move(fds.first);
  inner_ = std::move(fds.second);
}

Tunnel::~Tunnel() {
  ssh_remove_channel_callbacks(channel_, &callbacks_);
  ssh_channel_close(channel_);  // non-blocking: queues the close message
  ssh_channel_free(channel_);
}

bool Tunnel::wait_io(ssh_session session, absl::Time deadline) {
  if (relay()) return true;
  const bool progressed = gateway_->wait(deadline, &activity_);
  activity_.clear();
  relay();
  return progressed;
}

int Tunnel::on_data(ssh_session, ssh_channel, void*, uint32_t, int, void* self) {
  static_cast<Tunnel*>(self)->activity_.set();
  return 0;  // left in the channel's buffer for relay()
}

void Tunnel::on_event(ssh_session, ssh_channel, void* self) {
  static_cast<Tunnel*>(self)->activity_.set();
}

int Tunnel::on_window(ssh_session, ssh_channel, uint32_t, void* self) {
  static_cast<Tunnel*>(self)->activity_.set();
  return 0;
}

bool Tunnel::relay() {
  const bool in = to_inner();
  const bool out = to_gateway();
  return in || out;
}

bool Tunnel::to_inner() {
  bool moved = false;
  if (to_inner_.empty()) {
    char buffer[kChunk];
    const int count = ssh_channel_read_nonblocking(channel_, buffer, sizeof buffer, 0);
    if (count > 0) to_inner_.assign(buffer, count);
  }
  if (!to_inner_.empty()) {
    const ssize_t written = ::send(outer_.get(), to_inner_.data(), to_inner_.size(), MSG_NOSIGNAL);
    if (written > 0) {
      to_inner_.erase(0, written);
      moved = true;
    }
  }
  if (to_inner_.empty() && !inner_eof_sent_ &&
      (ssh_channel_is_eof(channel_) || ssh_channel_is_closed(channel_))) {
    ::shutdown(outer_.get(), SHUT_WR);  // the inner session sees the end of its connection
    inner_eof_sent_ = moved = true;
  }
  return moved;
}

bool Tunnel::to_gateway() {
  if (to_gateway_.empty()) {
    char buffer[kChunk];
    const ssize_t count = ::recv(outer_.get(), buffer, sizeof buffer, 0);
    if (count > 0) to_gateway_.assign(buffer, count);
  }
  if (to_gateway_.empty() || ssh_channel_is_closed(channel_)) return false;
  const int written = ssh_channel_write(channel_, to_gateway_.data(), to_gateway_.size());
  if (written <= 0) return false;
  to_gateway_.erase(0, written);
  return true;
}

}  // namespace asyncjobs::ssh::internal
