// The random scenario generator: shapes (schedulers and job counts), requirement DAGs,
// flags, job bodies, and the events and queues that connect them.
#include "tests/model/generator.h"

#include <algorithm>
#include <random>

namespace asyncjobs::model {
namespace {

class Generator {
 public:
  explicit Generator(uint64_t seed) : random_(seed * 0x9E3779B97F4A7C15ull + 1) {
    scenario_.seed = seed;
  }
  Scenario generate();

 private:
  int below(int n) { return n <= 0 ? 0 : static_cast<int>(random_() % static_cast<uint64_t>(n)); }
  bool chance(int percent) { return below(100) < percent; }
  int pick(std::initializer_list<int> values) { return *(values.begin() + below(static_cast<int>(values.size()))); }

  int job_count();
  void make_schedulers();
  void make_jobs(int count);
  int add_node(bool is_scheduler, int parent);
  void link_members();
  void make_flags(Node& node);
  void make_job_options(Node& node);
  void make_scheduler_options(Node& node);
  void make_body(int job);
  Op random_op(int job);
  bool may_wait_forever(int job) const;
  int cancel_target(int job);
  void provide_waited_things();

  std::mt19937_64 random_;
  Scenario scenario_;
  std::vector<int> schedulers_;
};

Scenario Generator::generate() {
  scenario_.timed = chance(kTimedPercent);
  const int jobs = job_count();
  scenario_.events = 1 + jobs / 8;
  scenario_.queues = 1 + jobs / 16;
  add_node(/*is_scheduler=*/true, -1);
  schedulers_.push_back(0);
  make_schedulers();
  make_jobs(jobs);
  link_members();
  for (size_t i = 0; i < scenario_.nodes.size(); ++i) {
    Node& node = scenario_.nodes[i];
    if (i > 0) make_flags(node);
    if (node.is_scheduler) {
      make_scheduler_options(node);
    } else {
      make_job_options(node);
    }
  }
  for (size_t i = 1; i < scenario_.nodes.size(); ++i) {
    if (!scenario_.nodes[i].is_scheduler) make_body(static_cast<int>(i));
  }
  provide_waited_things();
  return std::move(scenario_);
}

// Mostly small graphs (they show bugs best), some medium, a few of a few hundred jobs.
int Generator::job_count() {
  if (scenario_.timed) return 1 + below(20);
  const int size = below(100);
  if (size < 50) return 1 + below(15);
  if (size < 88) return 16 + below(45);
  return 61 + below(240);
}

// Up to five nested schedulers, at most three levels below the top-level one.
void Generator::make_schedulers() {
  const int count = pick({0, 0, 1, 1, 2, 3, 5});
  for (int i = 0; i < count; ++i) {
    const int parent = schedulers_[below(static_cast<int>(schedulers_.size()))];
    if (scenario_.nodes[parent].depth >= 3) continue;
    schedulers_.push_back(add_node(/*is_scheduler=*/true, parent));
  }
}

void Generator::make_jobs(int count) {
  for (int i = 0; i < count; ++i) {
    // The top-level scheduler gets about half of the jobs.
    const int parent = chance(50) ? 0 : schedulers_[below(static_cast<int>(schedulers_.size()))];
    add_node(/*is_scheduler=*/false, parent);
  }
}

int Generator::add_node(bool is_scheduler, int parent) {
  Node node;
  node.is_scheduler = is_scheduler;
  node.parent = parent;
  node.depth = parent < 0 ? 0 : scenario_.nodes[parent].depth + 1;
  scenario_.nodes.push_back(node);
  return static_cast<int>(scenario_.nodes.size()) - 1;
}

// Members of each scheduler in a random DAG: each requires up to three members that come
// before it in a rank order; the insertion order is the rank order, or (to exercise the
// scheduler's second linking pass) a shuffle of it.
void Generator::link_members() {
  std::vector<std::vector<int>> ranked(scenario_.nodes.size());
  for (size_t i = 1; i < scenario_.nodes.size(); ++i) {
    ranked[scenario_.nodes[i].parent].push_back(static_cast<int>(i));
  }
  const int density = pick({0, 20, 40, 70});
  for (size_t s = 0; s < ranked.size(); ++s) {
    std::vector<int>& members = ranked[s];
    std::shuffle(members.begin(), members.end(), random_);
    for (size_t rank = 1; rank < members.size(); ++rank) {
      std::vector<int>& required = scenario_.nodes[members[rank]].required;
      for (int k = 0; k < 3; ++k) {
        if (!chance(density)) continue;
        // Mostly near neighbours, so chains form.
        const int back = chance(70) ? 1 + below(std::min<int>(4, static_cast<int>(rank)))
                                    : 1 + below(static_cast<int>(rank));
        const int requirement = members[rank - back];
        if (std::find(required.begin(), required.end(), requirement) == required.end()) {
          required.push_back(requirement);
        }
      }
    }
    if (chance(20)) std::shuffle(members.begin(), members.end(), random_);
    scenario_.nodes[s].members = members;
  }
}

void Generator::make_flags(Node& node) {
  node.critical = chance(55);
  node.forever = chance(node.is_scheduler ? 4 : 7);
  node.cancel_before_run = chance(2);
}

void Generator::make_job_options(Node& node) {
  if (chance(12)) {
    node.retries = 1 + below(3);
    if (scenario_.timed && chance(50)) node.retry_delay = 2;
  }
  if (scenario_.timed) {
    if (chance(30)) node.timeout = 2 * (1 + below(6)) + 1;  // 60 ms .. 260 ms
  } else if (chance(8)) {
    node.timeout = kHugeTimeout;
  }
}

void Generator::make_scheduler_options(Node& node) {
  node.window = pick({0, 0, 1, 2, 8});
  if (scenario_.timed) {
    if (chance(node.depth == 0 ? 50 : 25)) node.scheduler_timeout = 2 * (1 + below(10)) + 1;
  } else if (chance(10)) {
    node.scheduler_timeout = kHugeTimeout;
  }
}

// A body: a few steps, then return (mostly), raise Boom or throw an int.
void Generator::make_body(int job) {
  Node& node = scenario_.nodes[job];
  const int steps = pick({0, 0, 1, 1, 2, 3, 4});
  for (int i = 0; i < steps; ++i) node.ops.push_back(random_op(job));
  if (node.retries > 0 && chance(60)) {
    const Op flaky{OpKind::kFailFirst, 1 + below(node.retries + 1)};
    node.ops.insert(node.ops.begin() + below(static_cast<int>(node.ops.size()) + 1), flaky);
  }
  const int ending = below(100);
  node.ending = ending < 85 ? Ending::kReturn : ending < 95 ? Ending::kRaise : Ending::kRaiseInt;
}

Op Generator::random_op(int job) {
  for (;;) {
    const int kind = below(100);
    if (kind < 14) return {OpKind::kYield};
    if (kind < 34) return {OpKind::kSetEvent, below(scenario_.events)};
    if (kind < 52) return {OpKind::kWaitEvent, below(scenario_.events)};
    if (kind < 62) return {OpKind::kPut, below(scenario_.queues)};
    if (kind < 71) return {OpKind::kGet, below(scenario_.queues)};
    if (kind < 77) {
      const int target = cancel_target(job);
      if (target > 0) return {OpKind::kCancel, target};
      continue;
    }
    if (kind < 80) {
      if (may_wait_forever(job)) return {OpKind::kWaitNever};
      continue;
    }
    if (scenario_.timed) return {OpKind::kSleep, 2 * (1 + below(3))};  // 40 .. 120 ms
  }
}

// Waiting on something never provided only where something ends the wait: the job is
// forever (cancelled when the rest is done), or a timeout that fires covers it.
bool Generator::may_wait_forever(int job) const {
  const Node& node = scenario_.nodes[job];
  if (node.forever) return true;
  if (!scenario_.timed) return false;
  if (node.timeout > 0) return true;
  for (int at = node.parent; at >= 0; at = scenario_.nodes[at].parent) {
    if (scenario_.nodes[at].scheduler_timeout > 0) return true;
  }
  return false;
}

// Any job or nested scheduler but the job itself and the schedulers holding it.
int Generator::cancel_target(int job) {
  const int target = 1 + below(static_cast<int>(scenario_.nodes.size()) - 1);
  if (target == job || is_ancestor(scenario_, target, job)) return -1;
  return target;
}

// Most waits get someone who provides: a job that sets the event waited for, and as many
// puts as gets on each queue.
void Generator::provide_waited_things() {
  std::vector<int> jobs;
  for (size_t i = 1; i < scenario_.nodes.size(); ++i) {
    if (!scenario_.nodes[i].is_scheduler) jobs.push_back(static_cast<int>(i));
  }
  std::vector<bool> waited(scenario_.events), set(scenario_.events);
  std::vector<int> balance(scenario_.queues);
  for (int job : jobs) {
    for (const Op& op : scenario_.nodes[job].ops) {
      if (op.kind == OpKind::kWaitEvent) waited[op.arg] = true;
      if (op.kind == OpKind::kSetEvent) set[op.arg] = true;
      if (op.kind == OpKind::kGet) ++balance[op.arg];
      if (op.kind == OpKind::kPut) --balance[op.arg];
    }
  }
  auto insert_somewhere = [&](Op op) {
    std::vector<Op>& ops = scenario_.nodes[jobs[below(static_cast<int>(jobs.size()))]].ops;
    ops.insert(ops.begin() + below(static_cast<int>(ops.size()) + 1), op);
  };
  for (int e = 0; e < scenario_.events; ++e) {
    if (waited[e] && !set[e] && chance(85)) insert_somewhere({OpKind::kSetEvent, e});
  }
  for (int q = 0; q < scenario_.queues; ++q) {
    for (int k = 0; k < balance[q]; ++k) {
      if (chance(90)) insert_somewhere({OpKind::kPut, q});
    }
  }
}

}  // namespace

Scenario generate_scenario(uint64_t seed) { return Generator(seed).generate(); }

}  // namespace asyncjobs::model
