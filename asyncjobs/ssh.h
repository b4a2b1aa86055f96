#ifndef ASYNCJOBS_SSH_H_
#define ASYNCJOBS_SSH_H_

// Remote jobs over SSH, after the original's companion apssh: a `Node` is one host, an
// `SshJob` runs commands and moves files on it. Built on libssh in non-blocking mode and
// driven by the reactor: a remote command suspends only its job, never the thread.
//
// Jobs of one reactor that use the same node share one connection (opened on first use);
// each command runs on its own channel. Errors are exceptions: `ConnectionError` (cannot
// reach, authenticate or trust the host), `CommandFailedError` (a checked command failed).

#include <exception>
#include <functional>
#include <list>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/time/time.h"
#include "asyncjobs/event.h"
#include "asyncjobs/job.h"
#include "asyncjobs/journal.h"

namespace asyncjobs::ssh {

class Node;
namespace internal {
class Session;
class NodeAccess;
class IdleLinks;
}

// How a host's key is checked against `known_hosts`. kStrict: an unknown or changed key is a
// ConnectionError. kAcceptNew (trust on first use): an unknown key is learned into the file,
// a changed one is a ConnectionError. kInsecure: no check at all.
enum class HostKeyCheck { kStrict, kAcceptNew, kInsecure };

struct NodeOptions {
  std::string host;
  std::string user;                     // empty: the local user name
  int port = 22;
  std::vector<std::string> identities;  // private key files; empty: ssh-agent, then ~/.ssh/id_*
  std::string known_hosts;              // empty: ~/.ssh/known_hosts
  HostKeyCheck host_key_check = HostKeyCheck::kAcceptNew;
  std::shared_ptr<Node> gateway;        // reach `host` through this node (port forwarding)
  absl::Duration connect_timeout = absl::Seconds(30);  // connect + authenticate
  // Channels open at once on the node's connection: OpenSSH's MaxSessions, 10 unless the
  // server says otherwise. More commands wait their turn (FIFO); a channel the server
  // refuses anyway waits for another to close and is retried. A command never fails
  // because others run.
  int max_sessions = 10;
  // Asked for the passphrase of each encrypted identity file (also a default ~/.ssh/id_*
  // one), once each time the node connects. Runs in the connecting job (it may suspend);
  // what it throws propagates.
  std::function<std::string(const std::string& key_path)> passphrase;
  // An OpenSSH client config read when the node is made ("~/.ssh/config" or a path); empty
  // (the default): none, so a run depends only on its options. Honoured: Host patterns,
  // HostName, User, Port, IdentityFile, ProxyJump (becomes `gateway`), ConnectTimeout. Fields
  // left at their defaults here take the file's values (it acts as OpenSSH's command line).
  std::string ssh_config;
};

struct CommandResult {
  int exit_code = 0;
  std::string signal;  // "TERM"... when killed by one, else empty
  std::string out, err;
};

// Thrown by a checked command whose exit code is not allowed; what() names the node, the
// command and the exit code or signal.
class CommandFailedError : public ErrorOf<std::runtime_error> {
 public:
  CommandFailedError(const std::string& node, const std::string& command, CommandResult result);
  const CommandResult& result() const { return *result_; }

 private:
  std::shared_ptr<const CommandResult> result_;  // shared: copying an exception must not throw
};

// Cannot connect, authenticate or trust a host; what() names host:port and the cause
// ("connection refused", "timeout", "authentication failed", "host key ...").
class ConnectionError : public ErrorOf<std::runtime_error> {
 public:
  using ErrorOf::ErrorOf;
};

struct RunOptions {
  std::string stdin_data;                 // sent to the command, then end of file
  std::vector<int> allowed_exits = {0};  // others raise CommandFailedError (when checked)
  bool check = true;
  // Each line as it arrives, without its newline; default: printed as "host:line" on
  // stdout / stderr. May suspend; what it throws kills the command and propagates.
  std::function<void(const Node&, std::string_view line)> on_stdout, on_stderr;
};

// How Push and Pull copy.
struct TransferOptions {
  bool recursive = false;       // directories and their contents (symlinks copied as symlinks)
  bool preserve_times = false;  // modification times too
};

// One host. Its connection opens on first use and is shared by every job that uses the node
// (each command gets its own channel); a node serves one thread at a time. The methods are
// virtual for make_local_node(), which runs the same vocabulary on this machine.
class Node {
 public:
  // Reads `options.ssh_config` if set: throws std::invalid_argument for an unreadable or
  // malformed file.
  explicit Node(NodeOptions options);
  virtual ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  virtual std::string name() const;  // "user@host:port", after the config file
  const NodeOptions& options() const { return options_; }

  // Run `command` through the remote user's shell. In a job: suspends only that job;
  // elsewhere: blocks the thread. On cancellation (or an exception from a callback) the
  // remote command's process group is killed (also for root, whose sshd ignores channel
  // signals) before Cancelled propagates (a round trip and the start of a remote shell,
  // done under a CancelShield: the scheduler waits for it).
  virtual CommandResult run(const std::string& command, const RunOptions& options = {});
  // Copy files to `remote_dir` (created if missing) / from the remote paths into `local_dir`
  // (which must exist), under their base names, with their permission bits. Transfers
  // stream: memory stays bounded (a few MiB per transfer) whatever the file size, and a file
  // appears under its final name only once complete (a cancelled or failed transfer leaves
  // no partial file there). Throw CommandFailedError (remote side), std::system_error (local),
  // std::runtime_error for a pulled file that came shorter than the size announced.
  virtual void push(const std::vector<std::string>& local_paths, const std::string& remote_dir,
            const TransferOptions& options = {});
  virtual void pull(const std::vector<std::string>& remote_paths, const std::string& local_dir,
            const TransferOptions& options = {});
  // Disconnects; the next use connects again. No command may be running. Also done when a
  // job waits for file descriptors and this node's connection is the least recently used of
  // those no command uses (see docs/ssh.md).
  void close();

 private:
  friend class internal::NodeAccess;
  friend class internal::IdleLinks;
  // The connection, opened (or awaited, if another job is opening it) on first use, and
  // again after it was lost. Held by each command for its duration: while none holds it,
  // the connection is idle (internal::IdleConnections).
  std::shared_ptr<internal::Session> session();
  std::shared_ptr<internal::Session> in_use();
  void release_use();
  void connect();
  std::shared_ptr<internal::Session> open_session(std::shared_ptr<internal::Session> gateway);

  NodeOptions options_;
  std::shared_ptr<internal::Session> session_;  // shared with nodes using this as gateway
  bool connecting_ = false;
  std::exception_ptr connect_error_;  // of the attempt that the waiting jobs awaited
  Event attempt_ended_;                // set when a connection attempt ends
  int users_ = 0;                      // holders of session(): commands, transfers, tunnels
  std::list<Node*>* idle_list_ = nullptr;  // the idle list this node is on, if any
  std::list<Node*>::iterator idle_at_;
};

std::shared_ptr<Node> make_node(NodeOptions options);
// This machine, with the same vocabulary (apssh's LocalNode): run() runs the command with
// `sh -c` as a process of its own group (killed with it on cancellation), push/pull copy
// files keeping their modes, the default output prefix and name() are "localhost".
std::shared_ptr<Node> make_local_node();

// Commands of an SshJob, run one after the other on the job's node.
struct Run {
  std::string command;
  RunOptions options;
  std::string label;  // shown in listings (SshJob::details()) instead of the command when set
};
// Copied to a fresh remote temporary file, made executable, run, removed.
struct RunScript {
  std::string local_path;
  std::vector<std::string> args;
  RunOptions options;
};
struct RunString {
  std::string script;
  std::vector<std::string> args;
  RunOptions options;
};
struct Push {
  std::vector<std::string> local_paths;
  std::string remote_dir;
  TransferOptions options;
};
struct Pull {
  std::vector<std::string> remote_paths;
  std::string local_dir;
  TransferOptions options;
};
using Command = std::variant<Run, RunScript, RunString, Push, Pull>;

// A job running its commands in order on its node; result() is a
// std::vector<CommandResult>, one per Run, RunScript and RunString.
class SshJob : public AbstractJob {
 public:
  SshJob(std::shared_ptr<Node> node, std::vector<Command> commands, JobOptions options = {});
  Value co_run() override;
  std::string details() const override;  // the node, then one line per command
  std::string type_name() const override { return "SshJob"; }
  const asyncjobs::internal::ResultCoder* result_coder() const override;  // journaled
  const std::shared_ptr<Node>& node() const { return node_; }

 private:
  std::shared_ptr<Node> node_;
  std::vector<Command> commands_;
};

std::shared_ptr<SshJob> make_ssh_job(std::shared_ptr<Node> node, std::vector<Command> commands,
                                     JobOptions options = {});

}  // namespace asyncjobs::ssh

namespace asyncjobs {

// An SshJob's result in a run's journal (SchedulerOptions::journal): each command's exit
// code, signal, stdout and stderr.
template <>
struct ResultCodec<std::vector<ssh::CommandResult>> {
  static std::string encode(const std::vector<ssh::CommandResult>& results);
  static std::vector<ssh::CommandResult> decode(std::string_view text);  // std::invalid_argument
};

}  // namespace asyncjobs

#endif  // ASYNCJOBS_SSH_H_
