// Node: one host, its shared connection, and its commands; the error types.
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <random>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "asyncjobs/fiber_calls.h"
#include "asyncjobs/ssh.h"
#include "asyncjobs/ssh/idle_connections.h"
#include "asyncjobs/ssh/local_node.h"
#include "asyncjobs/ssh/remote_command.h"
#include "asyncjobs/ssh/session.h"
#include "asyncjobs/ssh/ssh_config.h"
#include "asyncjobs/ssh/transfer.h"

namespace asyncjobs::ssh {
namespace {

std::string local_user() {
  const passwd* entry = ::getpwuid(::geteuid());
  return entry == nullptr ? "" : entry->pw_name;
}

constexpr absl::Duration kHandshakeBackoff = absl::Milliseconds(50);
constexpr absl::Duration kMaxHandshakeBackoff = absl::Seconds(2);

// Between half and one and a half times `pause`.
absl::Duration jittered(absl::Duration pause) {
  static std::minstd_rand random(std::random_device{}());
  return pause * std::uniform_real_distribution<double>(0.5, 1.5)(random);
}

std::string describe_failure(const std::string& node, const std::string& command,
                             const CommandResult& result) {
  const std::string how = result.signal.empty()
                              ? absl::StrCat("exited with code ", result.exit_code)
                              : absl::StrCat("was killed by signal ", result.signal);
  return absl::StrCat(node, ": `", command, "` ", how);
}

}  // namespace

CommandFailedError::CommandFailedError(const std::string& node, const std::string& command,
                                       CommandResult result)
    : ErrorOf(describe_failure(node, command, result)),
      result_(std::make_shared<const CommandResult>(std::move(result))) {}

Node::Node(NodeOptions options) : options_(internal::resolve_options(std::move(options))) {}

Node::~Node() { internal::IdleConnections::remove(*this); }

std::string Node::name() const {
  const std::string user = options_.user.empty() ? local_user() : options_.user;
  return absl::StrCat(user, "@", options_.host, ":", options_.port);
}

CommandResult Node::run(const std::string& command, const RunOptions& options) {
  const std::shared_ptr<internal::Session> connection = session();
  return internal::run_command(*connection, *this, command, options);
}

void Node::push(const std::vector<std::string>& local_paths, const std::string& remote_dir,
                const TransferOptions& options) {
  internal::push_files(*this, local_paths, remote_dir, options);
}

void Node::pull(const std::vector<std::string>& remote_paths, const std::string& local_dir,
                const TransferOptions& options) {
  internal::pull_files(*this, remote_paths, local_dir, options);
}

void Node::close() {
  internal::IdleConnections::remove(*this);
  session_.reset();
}

std::shared_ptr<internal::Session> Node::session() {
  while (session_ == nullptr || !session_->connected()) {
    session_.reset();  // lost: connect again
    if (!connecting_) {
      connect();
      break;
    }
    attempt_ended_.wait();
    if (connect_error_ && session_ == nullptr) std::rethrow_exception(connect_error_);
    // Otherwise connected, or the connecting job was cancelled: then this one tries.
  }
  return in_use();
}

// The session, shared with a count of its users: the last one to let go makes it idle.
std::shared_ptr<internal::Session> Node::in_use() {
  if (users_++ == 0) internal::IdleConnections::remove(*this);
  struct Use {
    Use(Node& node, std::shared_ptr<internal::Session> session)
        : node(node), session(std::move(session)) {}
    ~Use() { node.release_use(); }
    Node& node;
    std::shared_ptr<internal::Session> session;
  };
  const auto use = std::make_shared<Use>(*this, session_);
  return std::shared_ptr<internal::Session>(use, use->session.get());
}

void Node::release_use() {
  if (--users_ == 0 && session_ != nullptr && session_->connected()) {
    internal::IdleConnections::add(*this);
  }
}

void Node::connect() {
  connecting_ = true;
  connect_error_ = nullptr;
  attempt_ended_.clear();
  const absl::Cleanup end_attempt = [this] {
    connecting_ = false;
    attempt_ended_.set();
  };
  try {
    std::shared_ptr<internal::Session> gateway =
        options_.gateway == nullptr ? nullptr : options_.gateway->session();
    session_ = open_session(std::move(gateway));
  } catch (const std::exception&) {  // not Cancelled: the waiting jobs try again then
    connect_error_ = std::current_exception();
    throw;
  }
}

// sshd drops connections at random while many are unauthenticated (MaxStartups 10:30:100):
// a dropped handshake is tried again after a growing, jittered pause (so that nodes started
// together do not come back together), until connect_timeout.
std::shared_ptr<internal::Session> Node::open_session(std::shared_ptr<internal::Session> gateway) {
  const absl::Time deadline = absl::Now() + options_.connect_timeout;
  for (absl::Duration backoff = kHandshakeBackoff;;
       backoff = std::min(2 * backoff, kMaxHandshakeBackoff)) {
    NodeOptions attempt = options_;
    attempt.connect_timeout = std::max(deadline - absl::Now(), absl::ZeroDuration());
    const absl::Duration pause = jittered(backoff);
    try {
      return std::make_shared<internal::Session>(attempt, name(), gateway);
    } catch (const internal::HandshakeError&) {
      if (absl::Now() + pause >= deadline) throw;
    }
    sleep_for(pause);
  }
}

std::shared_ptr<Node> make_node(NodeOptions options) {
  return std::make_shared<Node>(std::move(options));
}

std::shared_ptr<Node> make_local_node() { return std::make_shared<internal::LocalNode>(); }

}  // namespace asyncjobs::ssh
