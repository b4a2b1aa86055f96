// Running one command on a session, as Node::run does.
#ifndef ASYNCJOBS_SSH_REMOTE_COMMAND_H_
#define ASYNCJOBS_SSH_REMOTE_COMMAND_H_

#include <string>

#include "asyncjobs/ssh.h"
#include "asyncjobs/ssh/session.h"

namespace asyncjobs::ssh::internal {

// Runs `command` on its own channel of `session`: feeds `options.stdin_data` then end of
// file, hands each output line to the callbacks (default: "host:line" printed), and reads
// until the channel closes, so that the exit status or signal has arrived. Suspends only the
// calling job. Left by an exception (Cancelled, a callback's), it first kills the command's
// remote process group over a second channel, under a CancelShield: SIGTERM, SIGKILL after
// a second after the kill ran. Throws CommandFailedError as `options` say, ConnectionError if the session fails.
CommandResult run_command(Session& session, const Node& node, const std::string& command,
                          const RunOptions& options);

}  // namespace asyncjobs::ssh::internal

#endif  // ASYNCJOBS_SSH_REMOTE_COMMAND_H_
