#ifndef ASYNCJOBS_TESTS_MODEL_SCENARIO_H_
#define ASYNCJOBS_TESTS_MODEL_SCENARIO_H_

// A generated scenario for the model-based test: jobs and nested schedulers (nodes), their
// flags, requirements and behaviours, as plain data that both the reference model and the
// real-scheduler runner read.

#include <cstdint>
#include <string>
#include <vector>

namespace asyncjobs::model {

// Every duration is a whole number of units: sleeps are even (two units), timeouts odd, so
// a timeout never coincides with the end of a sleep and the model can order them with a
// margin of one unit. A real run's timers can be late by more than that on a loaded machine
// (their lateness adds up along a chain of sleeps and retries), so a timed scenario that
// does not fit is checked again with the slow unit before it counts as a failure.
constexpr int kUnitMs = 20;
constexpr int kSlowUnitMs = 100;
// A timeout that never fires in a scenario without time (arms the alarm code paths only).
constexpr int kHugeTimeout = -1;
constexpr int kHugeTimeoutMs = 30'000;

// One step of a job's body, done in order on every attempt.
enum class OpKind {
  kYield,      // yield()
  kSleep,      // sleep_for(arg units)
  kSetEvent,   // events[arg].set()
  kWaitEvent,  // events[arg].wait()
  kWaitNever,  // waits on an event nobody sets (forever jobs, or under a timeout)
  kPut,        // queues[arg].put(1)
  kGet,        // queues[arg].get()
  kCancel,     // nodes[arg]->cancel()
  kFailFirst,  // throws Boom("flaky n<id>") while attempts() <= arg
};
struct Op {
  OpKind kind;
  int arg = 0;
};

// How a job's body ends once its steps are done.
enum class Ending { kReturn, kRaise, kRaiseInt };  // 1000 * id + attempt, Boom("n<id>"), id

// A job or a nested scheduler. Node 0 is the top-level scheduler.
struct Node {
  bool is_scheduler = false;
  int parent = -1;  // index of the scheduler holding it
  int depth = 0;    // 0: the top-level scheduler
  bool critical = true;
  bool forever = false;
  std::vector<int> required;       // siblings (same parent)
  bool cancel_before_run = false;  // cancel() called on it before the top-level run()
  // Jobs.
  std::vector<Op> ops;
  Ending ending = Ending::kReturn;
  int timeout = 0;  // units; 0: none; kHugeTimeout: one that never fires
  int retries = 0;
  int retry_delay = 0;  // units
  // Schedulers.
  int window = 0;
  int scheduler_timeout = 0;  // units; 0: none; kHugeTimeout
  std::vector<int> members;   // insertion order
};

struct Scenario {
  uint64_t seed = 0;
  bool timed = false;  // false: no sleep and no timeout that can fire: pure ordering
  int unit_ms = kUnitMs;
  int events = 0;
  int queues = 0;
  std::vector<Node> nodes;
};

std::string label_of(int node);  // "top" for node 0, else "n<node>"
bool is_ancestor(const Scenario& scenario, int ancestor, int node);
int jobs_count(const Scenario& scenario);  // nodes that are not schedulers
// One line per node, indented by depth, members in insertion order: enough to rebuild it.
std::string describe(const Scenario& scenario);

}  // namespace asyncjobs::model

#endif  // ASYNCJOBS_TESTS_MODEL_SCENARIO_H_
