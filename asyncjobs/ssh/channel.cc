// An exec channel over a non-blocking libssh session.
#include "asyncjobs/ssh/channel.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "asyncjobs/fiber_calls.h"

namespace asyncjobs::ssh::internal {
namespace {

constexpr uint32_t kReadSize = 64 * 1024;
constexpr absl::Duration kRefusedBackoff = absl::Milliseconds(20);
constexpr absl::Duration kMaxRefusedBackoff = absl::Seconds(1);

}  // namespace

Channel::Channel(Session& session, Use use, absl::Duration patience) : session_(session) {
  absl::Time give_up = absl::Now() + patience;
  absl::Duration backoff = kRefusedBackoff;
  for (slot_ = session.slots().acquire(use); !try_open(); slot_ = session.slots().acquire(use)) {
    if (!session_.connected()) fail("cannot open a channel");
    const int others = session.slots().open() - 1;
    slot_.release();
    if (use == Use::kCommand) use = Use::kRetry;  // keeps its place ahead of later commands
    if (others > 0) {
      session.slots().learn_limit(others);  // the next acquire waits for one of them to close
      give_up = absl::Now() + patience;
      continue;
    }
    if (absl::Now() >= give_up) {
      fail(absl::StrCat("the server refuses every channel (for ",
                        absl::FormatDuration(patience), ")"));
    }
    sleep_for(backoff);
    backoff = std::min(2 * backoff, kMaxRefusedBackoff);
  }
}

bool Channel::try_open() {
  channel_ = ssh_channel_new(session_.get());
  if (channel_ == nullptr) fail("cannot make a channel");
  callbacks_ = {};
  callbacks_.userdata = this;
  callbacks_.channel_data_function = &Channel::on_data;
  callbacks_.channel_eof_function = &Channel::on_event;
  callbacks_.channel_close_function = &Channel::on_event;
  callbacks_.channel_write_wontblock_function = &Channel::on_window;
  callbacks_.channel_exit_status_function = &Channel::on_exit_status;
  callbacks_.channel_exit_signal_function = &Channel::on_exit_signal;
  ssh_callbacks_init(&callbacks_);
  ssh_set_channel_callbacks(channel_, &callbacks_);
  const int rc = session_.until_done([&] { return ssh_channel_open_session(channel_); });
  if (rc == SSH_OK) return true;
  ssh_remove_channel_callbacks(channel_, &callbacks_);
  ssh_channel_free(std::exchange(channel_, nullptr));
  return false;
}

Channel::~Channel() {
  // libssh keeps a channel freed before the remote closed it: it must not call us back.
  ssh_remove_channel_callbacks(channel_, &callbacks_);
  if (!ssh_channel_is_closed(channel_)) ssh_channel_close(channel_);
  ssh_channel_free(channel_);
}

void Channel::exec(const std::string& command) {
  const int rc =
      session_.until_done([&] { return ssh_channel_request_exec(channel_, command.c_str()); });
  if (rc != SSH_OK) fail("cannot start a command");
}

size_t Channel::write_some(std::string_view data) {
  const int written = ssh_channel_write(channel_, data.data(), data.size());
  if (written == SSH_ERROR) {
    if (closed()) return data.size();  // the command exited: it does not want the rest
    fail("cannot write to a command");
  }
  return written;
}

void Channel::send_eof() {
  if (!closed()) ssh_channel_send_eof(channel_);
}

bool Channel::read_some(bool is_stderr, std::string& out) {
  char buffer[kReadSize];
  bool any = false;
  int count;
  while ((count = ssh_channel_read_nonblocking(channel_, buffer, kReadSize, is_stderr)) > 0) {
    out.append(buffer, count);
    any = true;
  }
  if (count == SSH_ERROR && !session_.connected()) fail("connection lost");
  return any;
}

bool Channel::wait(absl::Time deadline) {
  const bool progressed = session_.wait(deadline, &activity_);
  activity_.clear();  // the caller now looks at the channel; later callbacks set it again
  return progressed;
}

// Leaves the data in the channel's buffer (consumes 0 bytes): only wakes the reader.
int Channel::on_data(ssh_session, ssh_channel, void*, uint32_t, int, void* self) {
  static_cast<Channel*>(self)->activity_.set();
  return 0;
}

void Channel::on_event(ssh_session, ssh_channel, void* self) {
  static_cast<Channel*>(self)->activity_.set();
}

int Channel::on_window(ssh_session, ssh_channel, uint32_t, void* self) {
  static_cast<Channel*>(self)->activity_.set();
  return 0;
}

void Channel::on_exit_status(ssh_session, ssh_channel, int status, void* self) {
  static_cast<Channel*>(self)->exit_status_ = status;
  static_cast<Channel*>(self)->activity_.set();
}

void Channel::on_exit_signal(ssh_session, ssh_channel, const char* signal, int, const char*,
                             const char*, void* self) {
  static_cast<Channel*>(self)->exit_signal_ = signal == nullptr ? "" : signal;
  static_cast<Channel*>(self)->activity_.set();
}

void Channel::fail(const std::string& what) const {
  throw ConnectionError(absl::StrCat(session_.name(), ": ", what, ": ",
                                     ssh_get_error(session_.get())));
}

}  // namespace asyncjobs::ssh::internal
