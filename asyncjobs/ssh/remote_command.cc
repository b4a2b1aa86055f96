// One remote command: stdin, lines, exit status, and killing it when abandoned.
#include "asyncjobs/ssh/remote_command.h"

#include <algorithm>
#include <charconv>
#include <iostream>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "asyncjobs/cancelled.h"
#include "asyncjobs/internal/jobs/job_output.h"
#include "asyncjobs/internal/process/line_splitter.h"
#include "asyncjobs/internal/reactor/reactor.h"
#include "asyncjobs/ssh/channel.h"
#include "asyncjobs/ssh/shell.h"

namespace asyncjobs::ssh::internal {
namespace {

using asyncjobs::internal::LineSplitter;

constexpr absl::Duration kPidTimeout = absl::Seconds(10);
constexpr absl::Duration kKillGrace = absl::Seconds(1);
constexpr absl::Duration kKillTimeout = absl::Seconds(30);

// Each line is reported as the job's output (a kOutput event), then given to the user's
// callback or printed above a live progress view.
LineSplitter::OnLine line_callback(const Node& node, const decltype(RunOptions::on_stdout)& user,
                                   std::ostream& default_stream) {
  if (user) {
    return [&node, &user](std::string_view line) {
      asyncjobs::internal::report_output(line);
      user(node, line);
    };
  }
  return [&node, &default_stream](std::string_view line) {
    asyncjobs::internal::report_output(line);
    asyncjobs::internal::print_line(default_stream, node.options().host + ":" + std::string(line));
  };
}

class RemoteCommand {
 public:
  RemoteCommand(Session& session, const Node& node, const RunOptions& options,
                const Streams* streams)
      : session_(session),
        patience_(node.options().connect_timeout),
        channel_(std::in_place, session, Channel::Use::kCommand, patience_),
        options_(options),
        streams_(streams),
        input_(streams != nullptr && streams->next_input ? std::string_view()
                                                        : std::string_view(options.stdin_data)),
        out_(result_.out, line_callback(node, options.on_stdout, std::cout)),
        err_(result_.err, line_callback(node, options.on_stderr, std::cerr)) {}

  CommandResult run(const std::string& command);

 private:
  void exchange();
  bool feed_input();
  bool pump_output();
  void take_output(std::string_view data);
  void set_exit();
  void kill_remote();
  void send_signal(const std::string& signal, bool then_kill = false);
  void drain_until_closed(absl::Time deadline);

  Session& session_;
  absl::Duration patience_;  // for a channel the server refuses: see Channel
  std::optional<Channel> channel_;  // reset before the kill when it holds the only slot
  const RunOptions& options_;
  const Streams* streams_;
  std::string input_chunk_;  // from streams_->next_input
  std::string_view input_;
  bool eof_sent_ = false;
  bool silent_ = false;  // once abandoned: output is drained, not delivered
  std::optional<int> pid_;
  std::string pid_line_;
  std::string chunk_;
  CommandResult result_;
  LineSplitter out_, err_;
};

CommandResult RemoteCommand::run(const std::string& command) {
  try {
    channel_->exec(with_pid_first(command));
    exchange();
  } catch (...) {
    kill_remote();
    throw;
  }
  out_.finish();
  err_.finish();
  set_exit();
  return std::move(result_);
}

void RemoteCommand::exchange() {
  for (;;) {
    const bool fed = feed_input();
    const bool read = pump_output();
    if (channel_->closed()) break;
    if (!fed && !read) channel_->wait();
  }
  pump_output();  // what arrived with the close
}

bool RemoteCommand::feed_input() {
  if (eof_sent_) return false;
  const bool streamed = streams_ != nullptr && streams_->next_input;
  if (input_.empty() && streamed) {
    streams_->next_input(input_chunk_);
    input_ = input_chunk_;
  }
  if (input_.empty()) {  // the end: a stream's ends with an empty chunk
    channel_->send_eof();
    eof_sent_ = true;
    return false;
  }
  const size_t written = channel_->write_some(input_);
  input_.remove_prefix(written);
  return written > 0;
}

bool RemoteCommand::pump_output() {
  bool any = false;
  chunk_.clear();
  if (channel_->read_some(false, chunk_)) {
    take_output(chunk_);
    any = true;
  }
  chunk_.clear();
  if (channel_->read_some(true, chunk_)) {
    if (!silent_) err_.append(chunk_);
    any = true;
  }
  return any;
}

// The first line of stdout is the wrapper's pid (see with_pid_first), not the command's.
void RemoteCommand::take_output(std::string_view data) {
  if (!pid_) {
    const size_t newline = data.find('\n');
    pid_line_.append(data.substr(0, newline));
    if (newline == std::string_view::npos) return;
    int pid = 0;
    std::from_chars(pid_line_.data(), pid_line_.data() + pid_line_.size(), pid);
    pid_ = pid;
    data.remove_prefix(newline + 1);
  }
  if (silent_ || data.empty()) return;
  if (streams_ != nullptr && streams_->on_output) {
    streams_->on_output(data);
  } else {
    out_.append(data);
  }
}

void RemoteCommand::set_exit() {
  result_.signal = channel_->exit_signal();
  if (!result_.signal.empty()) {
    result_.exit_code = -1;
  } else if (channel_->exit_status()) {
    result_.exit_code = *channel_->exit_status();
  } else {
    if (!session_.connected()) throw ConnectionError(session_.name() + ": connection lost");
    result_.exit_code = -1;
  }
}

// Runs shielded: nothing here may be cut short by the cancellation that brought us here.
void RemoteCommand::kill_remote() {
  CancelShield shield;
  silent_ = true;
  try {
    const absl::Time pid_deadline = absl::Now() + kPidTimeout;
    while (!pid_ && !channel_->closed() && channel_->wait(pid_deadline)) pump_output();
    if (!pid_ || *pid_ <= 0 || channel_->closed()) return;
    if (session_.slots().limit() == 1) {  // this channel holds the only slot
      channel_.reset();
      send_signal("TERM", /*then_kill=*/true);
      return;
    }
    send_signal("TERM");
    drain_until_closed(absl::Now() + kKillGrace);
    if (channel_->closed()) return;
    send_signal("KILL");
    drain_until_closed(absl::Now() + kKillTimeout);
  } catch (const std::exception&) {
    // The session failed: its commands die with it (sshd hangs them up).
  }
}

// Over a channel of its own: the remote login shell may take a while to start.
void RemoteCommand::send_signal(const std::string& signal, bool then_kill) {
  Channel killer(session_, Channel::Use::kKill, patience_);
  killer.exec(then_kill ? kill_group_after_grace(*pid_, signal, kKillGrace)
                        : kill_group(*pid_, signal));
  const absl::Time deadline = absl::Now() + kKillTimeout;
  while (!killer.closed() && killer.wait(deadline)) {
  }
}

void RemoteCommand::drain_until_closed(absl::Time deadline) {
  while (!channel_->closed()) {
    pump_output();
    if (!channel_->closed() && !channel_->wait(deadline)) return;
  }
}

}  // namespace

CommandResult checked_result(const Node& node, const std::string& command,
                             const RunOptions& options, CommandResult result) {
  const auto& allowed = options.allowed_exits;
  const bool allowed_exit =
      result.signal.empty() &&
      std::find(allowed.begin(), allowed.end(), result.exit_code) != allowed.end();
  if (options.check && !allowed_exit) {
    throw CommandFailedError(node.name(), command, std::move(result));
  }
  return result;
}

CommandResult run_command(Session& session, const Node& node, const std::string& command,
                          const RunOptions& options, const Streams* streams) {
  return checked_result(node, command, options,
                        RemoteCommand(session, node, options, streams).run(command));
}

}  // namespace asyncjobs::ssh::internal
