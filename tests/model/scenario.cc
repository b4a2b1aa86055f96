// Scenario helpers and the listing printed when a scenario fails.
#include "tests/model/scenario.h"

#include <sstream>

namespace asyncjobs::model {
namespace {

std::string op_text(const Op& op, int unit_ms) {
  const std::string arg = std::to_string(op.arg);
  switch (op.kind) {
    case OpKind::kYield: return "yield";
    case OpKind::kSleep: return "sleep(" + std::to_string(op.arg * unit_ms) + "ms)";
    case OpKind::kSetEvent: return "set(e" + arg + ")";
    case OpKind::kWaitEvent: return "wait(e" + arg + ")";
    case OpKind::kWaitNever: return "wait(never)";
    case OpKind::kPut: return "put(q" + arg + ")";
    case OpKind::kGet: return "get(q" + arg + ")";
    case OpKind::kCancel: return "cancel(" + label_of(op.arg) + ")";
    case OpKind::kFailFirst: return "fail_first(" + arg + ")";
  }
  return "?";
}

std::string duration_text(int units, int unit_ms) {
  if (units == kHugeTimeout) return std::to_string(kHugeTimeoutMs) + "ms";
  return std::to_string(units * unit_ms) + "ms";
}

void describe_flags(const Node& node, std::ostream& out) {
  out << (node.critical ? " critical" : " non-critical");
  if (node.forever) out << " forever";
  if (node.cancel_before_run) out << " cancelled-before-run";
  if (!node.required.empty()) {
    out << " requires{";
    for (size_t i = 0; i < node.required.size(); ++i) {
      out << (i ? "," : "") << label_of(node.required[i]);
    }
    out << "}";
  }
}

void describe_job(const Node& node, int unit_ms, std::ostream& out) {
  out << " [";
  for (size_t i = 0; i < node.ops.size(); ++i) out << (i ? " " : "") << op_text(node.ops[i], unit_ms);
  out << "] -> "
      << (node.ending == Ending::kReturn  ? "return"
          : node.ending == Ending::kRaise ? "raise Boom"
                                          : "throw int");
  if (node.timeout != 0) out << " timeout " << duration_text(node.timeout, unit_ms);
  if (node.retries > 0) out << " retries " << node.retries;
  if (node.retry_delay > 0) out << " retry_delay " << duration_text(node.retry_delay, unit_ms);
}

void describe_node(const Scenario& scenario, int index, std::ostream& out) {
  const Node& node = scenario.nodes[index];
  out << std::string(2 * node.depth, ' ') << label_of(index)
      << (node.is_scheduler ? " scheduler" : " job");
  describe_flags(node, out);
  if (node.is_scheduler) {
    out << " window " << node.window;
    if (node.scheduler_timeout != 0) out << " timeout " << duration_text(node.scheduler_timeout, scenario.unit_ms);
  } else {
    describe_job(node, scenario.unit_ms, out);
  }
  out << "\n";
  for (int member : node.members) describe_node(scenario, member, out);
}

}  // namespace

std::string label_of(int node) { return node == 0 ? "top" : "n" + std::to_string(node); }

bool is_ancestor(const Scenario& scenario, int ancestor, int node) {
  for (int at = scenario.nodes[node].parent; at >= 0; at = scenario.nodes[at].parent) {
    if (at == ancestor) return true;
  }
  return false;
}

int jobs_count(const Scenario& scenario) {
  int count = 0;
  for (const Node& node : scenario.nodes) count += node.is_scheduler ? 0 : 1;
  return count;
}

std::string describe(const Scenario& scenario) {
  std::ostringstream out;
  out << "scenario seed " << scenario.seed << (scenario.timed ? " (timed, unit " + std::to_string(scenario.unit_ms) + " ms)" : " (no time)")
      << ", " << scenario.nodes.size() << " nodes, " << scenario.events << " events, "
      << scenario.queues << " queues\n";
  describe_node(scenario, 0, out);
  return out.str();
}

}  // namespace asyncjobs::model
