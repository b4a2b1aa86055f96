// ajssh: one command, a local script or a push on many hosts at once (apssh's `apssh`).
//
//   ajssh -t hosts.txt -t web3 -w 50 -- uname -a
//   ajssh -t hosts.txt -s ./setup.sh -- --fast        (script arguments after --)
//   ajssh -t hosts.txt --push /tmp/in -- image.bin    (local files after --)
//
// Exit status: 0 when every host succeeded, 1 when any failed (a summary on stderr names
// each and why), 2 on a usage error.
#include <signal.h>

#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "asyncjobs/asyncjobs.h"
#include "asyncjobs/ssh.h"
#include "asyncjobs/ssh_output.h"

namespace aj = asyncjobs;
namespace ssh = asyncjobs::ssh;

namespace {

constexpr int kUsageError = 2;

struct Settings {
  std::vector<std::string> targets;  // host names or files of them, as given to -t
  std::string user, gateway, script, push_dir, out_dir, known_hosts;
  std::vector<std::string> identities, words;  // words: the command, script args or files
  int port = 22;
  int window = 0;
  double timeout = 0, connect_timeout = 30;
  bool time = false, raw = false, insecure = false, strict = false;
};

void add_options(CLI::App& app, Settings& s) {
  app.add_option("-t,--target", s.targets,
                 "[user@]host[:port], or a file of them (one a line, # comments); repeatable")
      ->required()
      ->allow_extra_args(false);
  app.add_option("-u,--user", s.user, "remote user when a target names none (default: yours)");
  app.add_option("-i,--identity", s.identities,
                 "private key file; repeatable (default: ssh-agent, then ~/.ssh/id_*)")
      ->allow_extra_args(false);
  app.add_option("-g,--gateway", s.gateway, "reach every host through [user@]host[:port]");
  app.add_option("-p,--port", s.port, "port when a target names none")->capture_default_str();
  app.add_option("-w,--window", s.window, "most hosts at once; 0: no limit")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--timeout", s.timeout, "seconds for the whole run; 0: none")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--connect-timeout", s.connect_timeout, "seconds to connect and log in")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  auto* script = app.add_option("-s,--script", s.script,
                                "run this local script on each host, the words after -- as its "
                                "arguments")
                     ->check(CLI::ExistingFile);
  app.add_option("--push", s.push_dir, "copy the local files after -- into this remote directory")
      ->excludes(script);
  auto* time = app.add_flag("--time", s.time, "prefix lines with the time and host");
  auto* raw = app.add_flag("--raw", s.raw, "lines alone, no prefix")->excludes(time);
  app.add_option("-d,--out-dir", s.out_dir,
                 "stdout of each host in DIR/<host>, stderr in DIR/<host>.err")
      ->excludes(time)
      ->excludes(raw);
  auto* insecure = app.add_flag("--insecure", s.insecure, "do not check host keys");
  app.add_flag("--strict", s.strict, "refuse hosts missing from known_hosts (default: learn them)")
      ->excludes(insecure);
  app.add_option("--known-hosts", s.known_hosts, "known_hosts file (default: ~/.ssh/known_hosts)");
  app.add_option("words", s.words, "after --: the command, the script's arguments or the files");
}

// A -t value: the targets of the file it names, or itself.
void add_targets(const std::string& value, std::vector<std::string>& targets) {
  std::ifstream file(value);
  if (!file) {
    targets.push_back(value);
    return;
  }
  for (std::string line; std::getline(file, line);) {
    line = line.substr(0, line.find('#'));
    absl::StripAsciiWhitespace(&line);
    if (!line.empty()) targets.push_back(line);
  }
}

// "[user@]host[:port]" over the defaults of `s`.
ssh::NodeOptions node_options(const std::string& target, const Settings& s) {
  ssh::NodeOptions options;
  std::string rest = target;
  if (const size_t at = rest.rfind('@'); at != std::string::npos) {
    options.user = rest.substr(0, at);
    rest = rest.substr(at + 1);
  } else {
    options.user = s.user;
  }
  options.port = s.port;
  if (const size_t colon = rest.find(':'); colon != std::string::npos) {
    if (!absl::SimpleAtoi(rest.substr(colon + 1), &options.port)) {
      throw std::invalid_argument(absl::StrCat("no port number after ':' in ", target));
    }
    rest = rest.substr(0, colon);
  }
  options.host = rest;
  options.identities = s.identities;
  options.known_hosts = s.known_hosts;
  options.host_key_check = s.insecure ? ssh::HostKeyCheck::kInsecure
                           : s.strict ? ssh::HostKeyCheck::kStrict
                                      : ssh::HostKeyCheck::kAcceptNew;
  options.connect_timeout = absl::Seconds(s.connect_timeout);
  return options;
}

ssh::OutputSinks output_sinks(const Settings& s) {
  if (!s.out_dir.empty()) return ssh::files_per_host(s.out_dir);
  if (s.time) return ssh::time_and_host_prefix();
  if (s.raw) return ssh::raw_lines();
  return ssh::host_prefix();
}

ssh::Command command(const Settings& s, const ssh::OutputSinks& sinks) {
  if (!s.push_dir.empty()) return ssh::Push{s.words, s.push_dir};
  ssh::RunOptions options{.on_stdout = sinks.on_stdout, .on_stderr = sinks.on_stderr};
  if (!s.script.empty()) return ssh::RunScript{s.script, s.words, std::move(options)};
  return ssh::Run{absl::StrJoin(s.words, " "), std::move(options)};
}

// Why a host failed, or nothing when it succeeded.
std::optional<std::string> failure(const aj::AbstractJob& job, const aj::Scheduler& scheduler,
                                   const Settings& s) {
  if (!job.is_done() || job.is_cancelled()) {
    return scheduler.failed_time_out()
               ? absl::StrCat("did not finish within --timeout ", s.timeout, "s")
               : absl::StrCat("cancelled (", scheduler.why(), ")");
  }
  if (job.raised_exception() == nullptr) return std::nullopt;
  try {
    std::rethrow_exception(job.raised_exception());
  } catch (const ssh::CommandFailedError& error) {
    const ssh::CommandResult& result = error.result();
    if (!result.signal.empty()) return absl::StrCat("killed by signal ", result.signal);
    return absl::StrCat("exit code ", result.exit_code);
  } catch (const ssh::ConnectionError& error) {
    return absl::StrCat("connection failed: ", error.what());
  } catch (const std::exception& error) {
    return std::string(error.what());
  } catch (...) {
    return std::string("unknown error");
  }
}

// The summary on stderr; returns how many hosts failed.
int report(const aj::Scheduler& scheduler, const Settings& s) {
  int failed = 0;
  for (const aj::JobPtr& job : scheduler.jobs()) {
    if (const std::optional<std::string> why = failure(*job, scheduler, s)) {
      std::cerr << "ajssh: " << job->label() << ": " << *why << "\n";
      ++failed;
    }
  }
  std::cerr << "ajssh: " << scheduler.size() - failed << " of " << scheduler.size()
            << " host(s) succeeded, " << failed << " failed\n";
  return failed;
}

int run(const Settings& s) {
  std::vector<std::string> targets;
  for (const std::string& value : s.targets) add_targets(value, targets);
  std::shared_ptr<ssh::Node> gateway;
  if (!s.gateway.empty()) gateway = ssh::make_node(node_options(s.gateway, s));
  const ssh::OutputSinks sinks = output_sinks(s);
  aj::Scheduler scheduler({.critical = false,
                           .jobs_window = s.window,
                           .timeout = s.timeout > 0 ? absl::Seconds(s.timeout)
                                                    : absl::InfiniteDuration(),
                           .cancel_on_signals = {SIGINT, SIGTERM}});
  for (const std::string& target : targets) {
    ssh::NodeOptions options = node_options(target, s);
    options.gateway = gateway;
    scheduler.add(ssh::make_ssh_job(ssh::make_node(std::move(options)), {command(s, sinks)},
                                    {.label = target, .critical = false}));
  }
  scheduler.run();
  return report(scheduler, s) == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Runs one command, a local script or a push on many hosts over SSH."};
  Settings settings;
  add_options(app, settings);
  try {
    app.parse(argc, argv);
    if (settings.words.empty() && settings.script.empty()) {
      throw CLI::ValidationError("words", "give the command (or the files to push) after --");
    }
  } catch (const CLI::ParseError& error) {
    return app.exit(error) == 0 ? 0 : kUsageError;
  }
  try {
    return run(settings);
  } catch (const std::exception& error) {  // a bad port or output directory
    std::cerr << "ajssh: " << error.what() << "\n";
    return kUsageError;
  }
}
