// Running one command on a session, as Node::run does.
#ifndef ASYNCJOBS_SSH_REMOTE_COMMAND_H_
#define ASYNCJOBS_SSH_REMOTE_COMMAND_H_

#include <functional>
#include <string>
#include <string_view>

#include "asyncjobs/ssh.h"
#include "asyncjobs/ssh/session.h"

namespace asyncjobs::ssh::internal {

// Runs `command` on its own channel of `session` (waiting for a slot: see ChannelSlots):
// feeds `options.stdin_data` then end of file, hands each output line to the callbacks
// (default: "host:line" printed), and reads until the channel closes, so that the exit
// status or signal has arrived. Suspends only the calling job. Left by an exception
// (Cancelled, a callback's), it first kills the command's remote process group over a
// second channel (the slot kept for kills), under a CancelShield: SIGTERM, SIGKILL a second
// after the kill ran. Throws CommandFailedError as `options` say, ConnectionError if the
// session fails. `streams`, when given, replace `options.stdin_data` and the stdout lines.
struct Streams;
// `result` of `command` on `node`, returned as it is unless `options.check` and it is not an
// allowed exit (a signal never is): then CommandFailedError. Remote and local nodes alike.
CommandResult checked_result(const Node& node, const std::string& command,
                             const RunOptions& options, CommandResult result);
CommandResult run_command(Session& session, const Node& node, const std::string& command,
                          const RunOptions& options, const Streams* streams = nullptr);

// A command's stdin and stdout as byte streams, for transfers: neither is held whole.
struct Streams {
  // Replaces `chunk` with the next bytes to send (may suspend); empty: end of input.
  std::function<void(std::string& chunk)> next_input;
  // Takes stdout's bytes as they arrive, at most about a channel window at a time (may
  // suspend: the server waits meanwhile). CommandResult::out stays empty.
  std::function<void(std::string_view data)> on_output;
};

}  // namespace asyncjobs::ssh::internal

#endif  // ASYNCJOBS_SSH_REMOTE_COMMAND_H_
