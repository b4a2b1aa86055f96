// SshJob: a node's commands run in order as one job.
#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "asyncjobs/cancelled.h"
#include "asyncjobs/internal/reactor/reactor.h"
#include "asyncjobs/ssh.h"
#include "asyncjobs/ssh/shell.h"
#include "asyncjobs/ssh/transfer.h"

namespace asyncjobs::ssh {
namespace {

// Pushes `script` to a temporary file, runs it with `args`, removes it whatever happens.
CommandResult run_script(Node& node, const std::string& script, const std::vector<std::string>& args,
                         const RunOptions& options) {
  const std::string path = internal::push_temporary_script(node, script);
  const absl::Cleanup remove = [&node, &path] {
    CancelShield shield;
    RunOptions quiet;
    quiet.on_stdout = quiet.on_stderr = [](const Node&, std::string_view) {};
    quiet.check = false;
    try {
      node.run("rm -f " + internal::quote(path), quiet);
    } catch (const std::exception&) {  // the connection is gone: so is the chance
    }
  };
  return node.run(internal::command_line(internal::quote(path), args), options);
}

struct CommandRunner {
  Node& node;
  std::vector<CommandResult>& results;

  void operator()(const Run& run) { results.push_back(node.run(run.command, run.options)); }
  void operator()(const RunScript& run) {
    results.push_back(run_script(node, internal::read_local_file(run.local_path).content, run.args, run.options));
  }
  void operator()(const RunString& run) {
    results.push_back(run_script(node, run.script, run.args, run.options));
  }
  void operator()(const Push& push) { node.push(push.local_paths, push.remote_dir, push.options); }
  void operator()(const Pull& pull) { node.pull(pull.remote_paths, pull.local_dir, pull.options); }
};

struct CommandText {
  std::string operator()(const Run& run) const {
    return run.label.empty() ? run.command : run.label;
  }
  std::string operator()(const RunScript& run) const {
    return internal::command_line(run.local_path, run.args);
  }
  std::string operator()(const RunString& run) const {
    return internal::command_line("<script>", run.args);
  }
  std::string operator()(const Push& push) const {
    return absl::StrCat("push ", absl::StrJoin(push.local_paths, " "), " -> ", push.remote_dir);
  }
  std::string operator()(const Pull& pull) const {
    return absl::StrCat("pull ", absl::StrJoin(pull.remote_paths, " "), " -> ", pull.local_dir);
  }
};

}  // namespace

SshJob::SshJob(std::shared_ptr<Node> node, std::vector<Command> commands, JobOptions options)
    : AbstractJob(std::move(options)), node_(std::move(node)), commands_(std::move(commands)) {
  if (node_ == nullptr) throw std::invalid_argument("asyncjobs: SshJob needs a node");
}

Value SshJob::co_run() {
  std::vector<CommandResult> results;
  CommandRunner runner{*node_, results};
  for (const Command& command : commands_) std::visit(runner, command);
  return results;
}

std::string SshJob::details() const {
  std::string text = node_->name();
  for (const Command& command : commands_) absl::StrAppend(&text, "\n  ", std::visit(CommandText{}, command));
  return text;
}

const asyncjobs::internal::ResultCoder* SshJob::result_coder() const {
  return asyncjobs::internal::result_coder_for<std::vector<CommandResult>>();
}

std::shared_ptr<SshJob> make_ssh_job(std::shared_ptr<Node> node, std::vector<Command> commands,
                                     JobOptions options) {
  return std::make_shared<SshJob>(std::move(node), std::move(commands), std::move(options));
}

}  // namespace asyncjobs::ssh

namespace asyncjobs {

// Four fields per command, in the std::vector<std::string> codec.
std::string ResultCodec<std::vector<ssh::CommandResult>>::encode(
    const std::vector<ssh::CommandResult>& results) {
  std::vector<std::string> fields;
  for (const ssh::CommandResult& result : results) {
    fields.insert(fields.end(), {std::to_string(result.exit_code), result.signal, result.out, result.err});
  }
  return ResultCodec<std::vector<std::string>>::encode(fields);
}

std::vector<ssh::CommandResult> ResultCodec<std::vector<ssh::CommandResult>>::decode(
    std::string_view text) {
  std::vector<std::string> fields = ResultCodec<std::vector<std::string>>::decode(text);
  if (fields.size() % 4 != 0) throw std::invalid_argument("not a list of CommandResults");
  std::vector<ssh::CommandResult> results;
  for (size_t i = 0; i < fields.size(); i += 4) {
    results.push_back({ResultCodec<int>::decode(fields[i]), std::move(fields[i + 1]),
                       std::move(fields[i + 2]), std::move(fields[i + 3])});
  }
  return results;
}

}  // namespace asyncjobs
