// Resuming a killed run: with SchedulerOptions::journal, every job that returned is recorded
// at once; run the program again after a kill (or Ctrl-C, or a failure) and those jobs are
// restored from the journal instead of run. A job's result type needs a ResultCodec: here a
// user type, `Node`, gets one; int and std::string have theirs.
//
//   ./bazelw run //examples:resume -- /tmp/resume.journal      # kill it half-way, run again
//   rm /tmp/resume.journal                                      # to start from scratch
#include <iostream>
#include <string>
#include <vector>

#include "asyncjobs/asyncjobs.h"

namespace aj = asyncjobs;

// What provisioning a node gives back.
struct Node {
  std::string name;
  int port;
};

// Node in a journal: its fields through the std::vector<std::string> codec.
template <>
struct aj::ResultCodec<Node> {
  static std::string encode(const Node& node) {
    return ResultCodec<std::vector<std::string>>::encode({node.name, std::to_string(node.port)});
  }
  static Node decode(std::string_view text) {
    const std::vector<std::string> fields = ResultCodec<std::vector<std::string>>::decode(text);
    return Node{fields.at(0), ResultCodec<int>::decode(fields.at(1))};
  }
};

int main(int argc, char** argv) {
  const std::string journal = argc > 1 ? argv[1] : "/tmp/resume.journal";
  aj::Watch watch;
  aj::Scheduler scheduler({.verbose = true, .watch = &watch, .journal = journal});
  std::vector<aj::JobPtr> nodes;
  for (int i = 0; i < 4; ++i) {
    const std::string name = "node" + std::to_string(i);
    nodes.push_back(scheduler.add(aj::make_job(
        [name, i] {
          aj::sleep_for(absl::Seconds(1 + i));  // provisioning takes a while
          return Node{name, 9000 + i};
        },
        {.label = "provision " + name})));
  }
  auto experiment = scheduler.add(aj::make_job(
      [nodes] {
        aj::sleep_for(absl::Seconds(1));
        int total = 0;
        for (const aj::JobPtr& node : nodes) total += node->result<Node>().port;
        return total;
      },
      {.label = "experiment", .required = nodes}));
  scheduler.add(aj::make_job(
      [experiment] { return "measured " + std::to_string(experiment->result<int>()); },
      {.label = "gather", .required = {experiment}}));
  const bool ok = scheduler.run();
  scheduler.list();
  return ok ? 0 : 1;
}
