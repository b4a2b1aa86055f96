// One channel of a session running a command: open, exec, non-blocking reads and writes, and
// the exit status and signal, which libssh only reports through channel callbacks.
#ifndef ASYNCJOBS_SSH_CHANNEL_H_
#define ASYNCJOBS_SSH_CHANNEL_H_

#include <libssh/callbacks.h>
#include <libssh/libssh.h>

#include <optional>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "asyncjobs/ssh/channel_slots.h"
#include "asyncjobs/ssh/session.h"

namespace asyncjobs::ssh::internal {

// Opening and exec suspend the calling job; reads and writes never do (wait with `wait`).
// The destructor closes the channel without waiting. Throws ConnectionError when the
// session fails.
class Channel {
 public:
  using Use = ChannelSlots::Use;
  // Waits for a slot of the session (see ChannelSlots), then opens the channel. A channel the
  // server refuses (its MaxSessions is lower, or a transient refusal) waits for another
  // channel of the session to close and is tried again; with none open, again after a short
  // backoff, until `patience` (the node's connect_timeout) passed with none open.
  Channel(Session& session, Use use, absl::Duration patience);
  ~Channel();
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  // Starts `command` through the remote user's shell.
  void exec(const std::string& command);
  // Sends what the remote window takes of `data`; returns how much that was.
  size_t write_some(std::string_view data);
  void send_eof();
  // Appends to `out` what has arrived on stdout (stderr); false if nothing had.
  bool read_some(bool is_stderr, std::string& out);
  // Closed by the remote end (after the command's exit) or with its session.
  bool closed() const { return ssh_channel_is_closed(channel_) != 0 || !session_.connected(); }
  // Suspends until something happened on this channel (or the session); false at `deadline`.
  bool wait(absl::Time deadline = absl::InfiniteFuture());

  std::optional<int> exit_status() const { return exit_status_; }
  const std::string& exit_signal() const { return exit_signal_; }  // "TERM", or empty

 private:
  static int on_data(ssh_session, ssh_channel, void*, uint32_t, int, void* self);
  static void on_event(ssh_session, ssh_channel, void* self);
  static int on_window(ssh_session, ssh_channel, uint32_t, void* self);
  static void on_exit_status(ssh_session, ssh_channel, int status, void* self);
  static void on_exit_signal(ssh_session, ssh_channel, const char* signal, int core,
                             const char* message, const char* language, void* self);
  bool try_open();  // false when refused: channel_ is freed then
  [[noreturn]] void fail(const std::string& what) const;

  Session& session_;
  ChannelSlots::Slot slot_;  // released after channel_ is freed (declared before it)
  ssh_channel channel_ = nullptr;
  ssh_channel_callbacks_struct callbacks_{};  // libssh keeps a pointer to it
  Event activity_;  // set by every callback: see Pump
  std::optional<int> exit_status_;
  std::string exit_signal_;
};

}  // namespace asyncjobs::ssh::internal

#endif  // ASYNCJOBS_SSH_CHANNEL_H_
