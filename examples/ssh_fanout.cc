// Remote jobs over SSH: the same commands on N hosts at once, at most W at a time, then a
// listing of the jobs. Each output line arrives prefixed with its host.
//
//   ./bazelw run //examples:ssh_fanout -- [-w WINDOW] [-i KEY] [-p PORT] [user@]host...
//   e.g. ./bazelw run //examples:ssh_fanout -- -w 2 -i ~/.ssh/id_ed25519 node1 node2 node3
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "asyncjobs/asyncjobs.h"
#include "asyncjobs/ssh.h"

namespace aj = asyncjobs;
namespace ssh = asyncjobs::ssh;

struct Arguments {
  int window = 0;
  int port = 22;
  std::vector<std::string> identities, hosts;
};

Arguments parse(int argc, char** argv) {
  Arguments arguments;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "-w" && i + 1 < argc) {
      arguments.window = std::stoi(argv[++i]);
    } else if (arg == "-p" && i + 1 < argc) {
      arguments.port = std::stoi(argv[++i]);
    } else if (arg == "-i" && i + 1 < argc) {
      arguments.identities.push_back(argv[++i]);
    } else {
      arguments.hosts.push_back(arg);
    }
  }
  return arguments;
}

// "user@host" or "host" as node options.
ssh::NodeOptions node_options(const std::string& target, const Arguments& arguments) {
  ssh::NodeOptions options;
  const size_t at = target.find('@');
  options.user = at == std::string::npos ? "" : target.substr(0, at);
  options.host = at == std::string::npos ? target : target.substr(at + 1);
  options.port = arguments.port;
  options.identities = arguments.identities;
  return options;
}

int main(int argc, char** argv) {
  const Arguments arguments = parse(argc, argv);
  if (arguments.hosts.empty()) {
    std::cerr << "usage: ssh_fanout [-w WINDOW] [-i KEY] [-p PORT] [user@]host...\n";
    return 2;
  }
  aj::Scheduler scheduler({.critical = false, .jobs_window = arguments.window});
  for (const std::string& target : arguments.hosts) {
    auto node = ssh::make_node(node_options(target, arguments));
    scheduler.add(ssh::make_ssh_job(
        node, {ssh::Run{"hostname; uptime"}, ssh::Run{"echo load: $(cut -d' ' -f1 /proc/loadavg)"}},
        {.label = target, .critical = false}));
  }
  scheduler.run();
  scheduler.list();
  int failed = 0;
  for (const aj::JobPtr& job : scheduler.jobs()) failed += job->raised_exception() != nullptr;
  std::cout << failed << " of " << scheduler.size() << " host(s) failed\n";
  return failed == 0 ? 0 : 1;
}
