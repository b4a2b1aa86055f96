// The real side of the model-based test: jobs whose bodies play the scenario's steps, the
// schedulers holding them, the run, and the outcome read back through the public API.
#include "tests/model/real_run.h"

#include <condition_variable>
#include <memory>
#include <mutex>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "asyncjobs/asyncjobs.h"

namespace asyncjobs::model {
namespace {

struct Boom : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// What the bodies share: the nodes (for cancel), the events and queues.
struct World {
  const Scenario* scenario;
  std::vector<JobPtr> nodes;
  std::vector<std::unique_ptr<Event>> events;
  std::vector<std::unique_ptr<Queue<int>>> queues;
  Event never;  // nobody sets it
};

absl::Duration units(const World& world, int count) {
  return count == kHugeTimeout ? absl::Milliseconds(kHugeTimeoutMs)
                               : absl::Milliseconds(count * world.scenario->unit_ms);
}

void play(World& world, int id, const Op& op, int attempt) {
  switch (op.kind) {
    case OpKind::kYield: return yield();
    case OpKind::kSleep: return sleep_for(units(world, op.arg));
    case OpKind::kSetEvent: return world.events[op.arg]->set();
    case OpKind::kWaitEvent: world.events[op.arg]->wait(); return;
    case OpKind::kWaitNever: world.never.wait(); return;
    case OpKind::kPut: return world.queues[op.arg]->put(1);
    case OpKind::kGet: world.queues[op.arg]->get(); return;
    case OpKind::kCancel: return world.nodes[op.arg]->cancel();
    case OpKind::kFailFirst:
      if (attempt <= op.arg) throw Boom("flaky " + label_of(id));
      return;
  }
}

int64_t body(World& world, int id) {
  const Node& node = world.scenario->nodes[id];
  const int attempt = current_job()->attempts();
  for (const Op& op : node.ops) play(world, id, op, attempt);
  if (node.ending == Ending::kRaise) throw Boom(label_of(id));
  if (node.ending == Ending::kRaiseInt) throw id;
  return 1000 * id + attempt;
}

JobPtr make_node(World& world, int id) {
  const Node& node = world.scenario->nodes[id];
  if (node.is_scheduler) {
    SchedulerOptions options{.label = label_of(id), .critical = node.critical,
                             .forever = node.forever, .jobs_window = node.window};
    if (node.scheduler_timeout != 0) options.timeout = units(world, node.scheduler_timeout);
    return make_scheduler(std::move(options));
  }
  JobOptions options{.label = label_of(id), .critical = node.critical, .forever = node.forever,
                     .retries = node.retries, .retry_delay = units(world, node.retry_delay)};
  if (node.timeout != 0) options.timeout = units(world, node.timeout);
  return make_job([&world, id] { return body(world, id); }, std::move(options));
}

void build(World& world) {
  const Scenario& scenario = *world.scenario;
  for (int e = 0; e < scenario.events; ++e) world.events.push_back(std::make_unique<Event>());
  for (int q = 0; q < scenario.queues; ++q) world.queues.push_back(std::make_unique<Queue<int>>());
  for (size_t i = 0; i < scenario.nodes.size(); ++i) world.nodes.push_back(make_node(world, static_cast<int>(i)));
  for (size_t i = 0; i < scenario.nodes.size(); ++i) {
    if (scenario.nodes[i].is_scheduler) {
      auto& scheduler = static_cast<Scheduler&>(*world.nodes[i]);
      for (int member : scenario.nodes[i].members) scheduler.add(world.nodes[member]);
    }
    for (int required : scenario.nodes[i].required) world.nodes[i]->require(world.nodes[required]);
  }
  for (size_t i = 1; i < scenario.nodes.size(); ++i) {
    if (scenario.nodes[i].cancel_before_run) world.nodes[i]->cancel();
  }
}

std::string error_tag(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const Boom& boom) {
    return std::string("Boom:") + boom.what();
  } catch (const TimeoutError& timeout) {
    const std::string what = timeout.what();
    if (what == "critical scheduler took too long") return "Timeout:scheduler";
    const size_t open = what.find('`'), close = what.find('`', open + 1);
    if (open == std::string::npos || close == std::string::npos) return "Timeout:?" + what;
    return "Timeout:job:" + what.substr(open + 1, close - open - 1);
  } catch (const RunCancelled&) {
    return "RunCancelled";
  } catch (const std::exception& other) {
    if (std::string(other.what()).find("deadlock") != std::string::npos) return "deadlock";
    return std::string("other:") + other.what();
  } catch (int value) {
    return "int:" + std::to_string(value);
  } catch (...) {
    return "unknown";
  }
}

NodeOutcome observe(const AbstractJob& job) {
  NodeOutcome outcome;
  outcome.attempts = job.attempts();
  if (job.is_done()) {
    const auto* scheduler = dynamic_cast<const Scheduler*>(&job);
    if (job.raised_exception()) {
      outcome.fate = Fate::kRaised;
      outcome.error = error_tag(job.raised_exception());
    } else {
      outcome.fate = Fate::kValue;
      outcome.value = scheduler ? job.result<bool>() : job.result<int64_t>();
    }
    if (scheduler) {
      outcome.why = why_text(scheduler->why(), scheduler->failed_critical(), scheduler->failed_time_out());
    }
  } else if (job.is_cancelled()) {
    outcome.fate = Fate::kCancelled;
  } else {
    outcome.fate = job.is_idle() ? Fate::kNotRun : Fate::kStuck;
  }
  return outcome;
}

// Cancels the run if it outlives its deadline: a hang becomes a reported mismatch.
class Watchdog {
 public:
  Watchdog(Scheduler& scheduler, absl::Duration limit)
      : thread_([this, &scheduler, limit] {
          std::unique_lock<std::mutex> lock(mutex_);
          if (!done_cv_.wait_for(lock, absl::ToChronoMilliseconds(limit), [this] { return done_; })) {
            scheduler.request_cancel();
          }
        }) {}
  ~Watchdog() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      done_ = true;
    }
    done_cv_.notify_all();
    thread_.join();
  }

 private:
  std::mutex mutex_;
  std::condition_variable done_cv_;
  bool done_ = false;
  std::thread thread_;
};

}  // namespace

Outcome run_for_real(const Scenario& scenario, absl::Duration watchdog) {
  World world{&scenario, {}, {}, {}, {}};
  build(world);
  auto& top = static_cast<Scheduler&>(*world.nodes[0]);
  Outcome outcome;
  // The scheduler announces failures on std::cout even when not verbose: keep the test's
  // output for mismatches.
  std::ostringstream announcements;
  std::streambuf* const cout_buffer = std::cout.rdbuf(announcements.rdbuf());
  try {
    Watchdog guard(top, watchdog);
    outcome.run.result = top.run() ? "true" : "false";
  } catch (...) {
    outcome.run.result = "throws " + error_tag(std::current_exception());
  }
  std::cout.rdbuf(cout_buffer);
  if (outcome.run.result == "throws deadlock") {
    outcome.run.result = "deadlock";
  } else {
    outcome.run.why = why_text(top.why(), top.failed_critical(), top.failed_time_out());
  }
  outcome.nodes.resize(scenario.nodes.size());
  for (size_t i = 1; i < scenario.nodes.size(); ++i) outcome.nodes[i] = observe(*world.nodes[i]);
  return outcome;
}

}  // namespace asyncjobs::model
