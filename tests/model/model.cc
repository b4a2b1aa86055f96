// The reference model's simulator: node states, the scheduler rules of the contract, job
// bodies as steps between suspension points, and virtual time.
#include "tests/model/model.h"

#include <algorithm>
#include <deque>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace asyncjobs::model {
namespace {

constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

enum class Lifecycle { kIdle, kScheduled, kRunning, kDone };
// Where a started node's fiber is: its body not begun, between steps of its body (jobs),
// in a retry delay (jobs), waiting for its members (schedulers), cancelling them, shutting
// down, or ended.
enum class Phase { kNotBegun, kBody, kRetryDelay, kOrchestrating, kAborting, kFinishing, kEnded };
enum class Wait { kReady, kTimer, kEvent, kQueue, kNever, kWakeup, kAbortWait };
enum class Wake { kNotified, kTimer, kCancelled };

struct NodeState {
  Lifecycle lifecycle = Lifecycle::kIdle;
  bool cancelled = false;         // ended cancelled, or counted out by its scheduler
  bool cancel_requested = false;  // cancel() or its scheduler's abort asked for it
  int pending = 0;                // requirements not done
  std::vector<int> successors;
  int attempts = 0;
  bool raised = false;
  std::string error;
  int64_t value = 0;
  // The fiber.
  Phase phase = Phase::kNotBegun;
  Wait wait = Wait::kReady;
  Wake wake = Wake::kNotified;
  bool task_cancel = false;  // the fiber's cancellation request (cancel, abort or alarm)
  int64_t wake_at = kNever;  // sleep, retry delay or scheduler deadline
  int64_t deadline = kNever;  // a scheduler's timeout
  int64_t alarm_at = kNever;  // per-job timeout of the current attempt
  bool alarm_fired = false;
  size_t pc = 0;
  // A scheduler's run.
  bool in_progress = false;
  bool aborting = false;
  bool only_forever = false;
  std::deque<int> waiting_for_slot;
  int running = 0, remaining = 0, abandoned = 0;
  bool failed_critical = false, failed_time_out = false;
  int failed_job = -1;
};

class Simulator {
 public:
  Simulator(const Scenario& scenario, uint64_t schedule)
      : scenario_(scenario), schedule_(schedule), random_(schedule), state_(scenario.nodes.size()),
        event_set_(scenario.events), event_waiters_(scenario.events),
        queue_items_(scenario.queues), queue_waiters_(scenario.queues) {}

  Simulation run();

 private:
  const Node& spec(int i) const { return scenario_.nodes[i]; }
  NodeState& at(int i) { return state_[i]; }
  void link();
  void step(int i);
  int pick_ready();
  bool advance_time();
  bool resume_throws();

  // Reactor.
  void make_ready(int i, Wake wake);
  void suspend(int i, Wait wait, int64_t wake_at = kNever);
  void cancel_task(int i);
  void unlink_waiter(int i);

  // Job bodies.
  void step_job(int i);
  void begin_attempt(int i);
  void resume_op(int i);
  void run_ops(int i);
  enum class OpResult { kNext, kSuspended, kCancelled, kRaised };
  OpResult run_op(int i, const Op& op);
  void end_attempt(int i);
  void end_job(int i);

  // AbstractJob::cancel and the scheduler rules.
  void cancel(int i);
  void on_member_cancelled(int parent, int i);
  void on_job_finished(int parent, int i);
  void abandon(int parent, int i);
  void schedule(int parent, int i);
  void start_job(int parent, int i);
  void fill_window(int parent);
  bool finished(int s);
  void notify(int s);

  // Orchestrators.
  void step_scheduler(int s);
  void begin_run(int s);
  void wait_or_abort(int s);
  void abort(int s);
  void finish(int s);
  void end_run(int s);
  std::string why(int s);

  Outcome outcome();

  const Scenario& scenario_;
  const uint64_t schedule_;
  std::mt19937_64 random_;
  std::vector<NodeState> state_;
  std::vector<bool> event_set_;
  std::vector<std::vector<int>> event_waiters_;
  std::vector<int> queue_items_;
  std::vector<std::deque<int>> queue_waiters_;
  std::vector<int> ready_;
  int64_t now_ = 0;
  bool top_ended_ = false;
  RunOutcome top_;
};

// --- The loop

Simulation Simulator::run() {
  link();
  for (size_t i = 1; i < state_.size(); ++i) {
    if (spec(i).cancel_before_run) cancel(static_cast<int>(i));
  }
  make_ready(0, Wake::kNotified);
  Simulation result;
  while (!top_ended_) {
    if (ready_.empty() && !advance_time()) {
      result.deadlock = true;
      break;
    }
    if (now_ > kMaxVirtualUnits * scenario_.unit_ms) {
      result.too_long = true;
      break;
    }
    if (!ready_.empty()) step(pick_ready());
  }
  result.end_ms = now_;
  result.outcome = outcome();
  return result;
}

// Successors in insertion order: when a job is done, they are scheduled in that order.
void Simulator::link() {
  for (const Node& scheduler : scenario_.nodes) {
    for (int member : scheduler.members) {
      for (int required : spec(member).required) {
        at(required).successors.push_back(member);
        ++at(member).pending;
      }
    }
  }
}

void Simulator::step(int i) {
  if (spec(i).is_scheduler) {
    step_scheduler(i);
  } else {
    step_job(i);
  }
}

int Simulator::pick_ready() {
  size_t index = 0;
  if (schedule_ == 1) {
    index = ready_.size() - 1;
  } else if (schedule_ != 0) {
    index = random_() % ready_.size();
  }
  const int i = ready_[index];
  ready_.erase(ready_.begin() + index);
  return i;
}

// Moves virtual time to the next timer and fires every timer due then, in an order the
// schedule picks (real timers due at the same virtual instant fire in any order).
bool Simulator::advance_time() {
  int64_t next = kNever;
  for (const NodeState& node : state_) next = std::min({next, node.wake_at, node.alarm_at});
  if (next == kNever) return false;
  now_ = next;
  std::vector<int> due;
  for (size_t i = 0; i < state_.size(); ++i) {
    if (state_[i].wake_at == now_ || state_[i].alarm_at == now_) due.push_back(static_cast<int>(i));
  }
  if (schedule_ > 1) std::shuffle(due.begin(), due.end(), random_);
  for (int i : due) {
    if (at(i).alarm_at == now_) {
      at(i).alarm_at = kNever;
      at(i).alarm_fired = true;
      cancel_task(i);
    }
    if (at(i).wake_at == now_) {
      at(i).wake_at = kNever;
      make_ready(i, Wake::kTimer);
    }
  }
  return true;
}

// A job woken normally, then cancelled before it resumed: the contract says a cancelled job
// stops "now"; the reactor lets it run to its next suspension point. Either is accepted.
bool Simulator::resume_throws() {
  if (schedule_ == 0) return false;
  if (schedule_ == 1) return true;
  return random_() % 2 == 0;
}

// --- Reactor

void Simulator::make_ready(int i, Wake wake) {
  NodeState& node = at(i);
  unlink_waiter(i);
  node.wait = Wait::kReady;
  node.wake = wake;
  node.wake_at = kNever;
  ready_.push_back(i);
}

void Simulator::suspend(int i, Wait wait, int64_t wake_at) {
  at(i).wait = wait;
  at(i).wake_at = wake_at;
  if (wait == Wait::kReady) make_ready(i, Wake::kNotified);
}

void Simulator::unlink_waiter(int i) {
  const NodeState& node = at(i);
  if (node.wait == Wait::kEvent) std::erase(event_waiters_[spec(i).ops[node.pc].arg], i);
  if (node.wait == Wait::kQueue) std::erase(queue_waiters_[spec(i).ops[node.pc].arg], i);
}

// Reactor::cancel: the fiber's current or next suspension point throws Cancelled; a
// scheduler cancelling its members (kAbortWait) is shielded.
void Simulator::cancel_task(int i) {
  NodeState& node = at(i);
  if (node.phase == Phase::kNotBegun || node.phase == Phase::kEnded || node.task_cancel) return;
  node.task_cancel = true;
  const bool waiting = std::find(ready_.begin(), ready_.end(), i) == ready_.end();
  if (waiting && node.wait != Wait::kReady && node.wait != Wait::kAbortWait) {
    make_ready(i, Wake::kCancelled);
  }
}

// --- Job bodies

void Simulator::step_job(int i) {
  NodeState& node = at(i);
  switch (node.phase) {
    case Phase::kNotBegun:
      node.phase = Phase::kBody;
      if (node.cancel_requested) return end_job(i);  // its body is skipped
      begin_attempt(i);
      return run_ops(i);
    case Phase::kRetryDelay:
      if (node.wake == Wake::kCancelled || (node.task_cancel && resume_throws())) {
        node.cancelled = true;
        return end_job(i);
      }
      begin_attempt(i);
      return run_ops(i);
    case Phase::kBody:
      return resume_op(i);
    default:
      return;
  }
}

void Simulator::begin_attempt(int i) {
  NodeState& node = at(i);
  node.phase = Phase::kBody;
  ++node.attempts;
  node.raised = false;
  node.error.clear();
  node.value = 0;
  node.pc = 0;
  const int timeout = spec(i).timeout;
  if (timeout == kHugeTimeout) node.alarm_at = now_ + kHugeTimeoutMs;
  if (timeout > 0) node.alarm_at = now_ + timeout * scenario_.unit_ms;
  node.alarm_fired = false;
}

void Simulator::resume_op(int i) {
  NodeState& node = at(i);
  const Op& op = spec(i).ops[node.pc];
  const bool throws = node.wake == Wake::kCancelled ||
                      (node.task_cancel && (op.kind == OpKind::kYield || resume_throws()));
  if (throws) {
    node.cancelled = true;
    return end_attempt(i);
  }
  if (op.kind == OpKind::kGet) {  // woken: take the item if nobody took it first
    const OpResult result = run_op(i, op);
    if (result == OpResult::kSuspended) return;
    if (result == OpResult::kCancelled) {
      node.cancelled = true;
      return end_attempt(i);
    }
  }
  ++node.pc;
  run_ops(i);
}

void Simulator::run_ops(int i) {
  NodeState& node = at(i);
  const Node& job = spec(i);
  for (; node.pc < job.ops.size(); ++node.pc) {
    switch (run_op(i, job.ops[node.pc])) {
      case OpResult::kNext: continue;
      case OpResult::kSuspended: return;
      case OpResult::kCancelled: node.cancelled = true; return end_attempt(i);
      case OpResult::kRaised: return end_attempt(i);
    }
  }
  if (job.ending == Ending::kReturn) {
    node.value = 1000 * i + node.attempts;
  } else {
    node.raised = true;
    node.error = job.ending == Ending::kRaise ? "Boom:" + label_of(i) : "int:" + std::to_string(i);
  }
  end_attempt(i);
}

Simulator::OpResult Simulator::run_op(int i, const Op& op) {
  NodeState& node = at(i);
  auto suspend_on = [&](Wait wait, int64_t wake_at = kNever) {
    if (node.task_cancel) return OpResult::kCancelled;  // checked on entry
    suspend(i, wait, wake_at);
    return OpResult::kSuspended;
  };
  switch (op.kind) {
    case OpKind::kYield: return suspend_on(Wait::kReady);
    case OpKind::kSleep: return suspend_on(Wait::kTimer, now_ + op.arg * scenario_.unit_ms);
    case OpKind::kWaitNever: return suspend_on(Wait::kNever);
    case OpKind::kSetEvent:
      event_set_[op.arg] = true;
      for (int waiter : std::vector<int>(event_waiters_[op.arg])) make_ready(waiter, Wake::kNotified);
      return OpResult::kNext;
    case OpKind::kWaitEvent:
      if (event_set_[op.arg]) return OpResult::kNext;
      if (node.task_cancel) return OpResult::kCancelled;
      event_waiters_[op.arg].push_back(i);
      suspend(i, Wait::kEvent);
      return OpResult::kSuspended;
    case OpKind::kPut:
      ++queue_items_[op.arg];
      if (!queue_waiters_[op.arg].empty()) make_ready(queue_waiters_[op.arg].front(), Wake::kNotified);
      return OpResult::kNext;
    case OpKind::kGet:
      if (queue_items_[op.arg] > 0) {
        --queue_items_[op.arg];
        return OpResult::kNext;
      }
      if (node.task_cancel) return OpResult::kCancelled;
      queue_waiters_[op.arg].push_back(i);
      suspend(i, Wait::kQueue);
      return OpResult::kSuspended;
    case OpKind::kCancel:
      cancel(op.arg);
      return OpResult::kNext;
    case OpKind::kFailFirst:
      if (node.attempts > op.arg) return OpResult::kNext;
      node.raised = true;
      node.error = "Boom:flaky " + label_of(i);
      return OpResult::kRaised;
  }
  return OpResult::kNext;
}

// The end of one call of the body: a timeout turns it into TimeoutError; a failure is
// retried while retries are left and the job is not being cancelled.
void Simulator::end_attempt(int i) {
  NodeState& node = at(i);
  const Node& job = spec(i);
  if (job.timeout != 0) {
    const bool timed_out = node.alarm_fired;
    node.alarm_at = kNever;
    node.alarm_fired = false;
    if (timed_out && !node.cancel_requested) {
      node.task_cancel = false;
      node.cancelled = false;
      node.raised = true;
      node.value = 0;
      node.error = "Timeout:job:" + label_of(i);
    }
  }
  const bool retry = node.raised && !node.cancelled && node.attempts <= job.retries &&
                     !node.cancel_requested && !node.task_cancel;
  if (!retry) return end_job(i);
  if (job.retry_delay > 0) {
    node.phase = Phase::kRetryDelay;
    suspend(i, Wait::kTimer, now_ + job.retry_delay * scenario_.unit_ms);
    return;
  }
  begin_attempt(i);
  run_ops(i);
}

void Simulator::end_job(int i) {
  NodeState& node = at(i);
  node.phase = Phase::kEnded;
  node.alarm_at = kNever;
  if (node.cancel_requested || node.task_cancel || node.cancelled) {
    node.cancelled = true;
    node.raised = false;
    node.value = 0;
    node.error.clear();
  } else {
    node.lifecycle = Lifecycle::kDone;
  }
  on_job_finished(spec(i).parent, i);
}

// --- cancel() and the scheduler rules (Scheduler::run in the contract)

void Simulator::cancel(int i) {
  NodeState& node = at(i);
  if (node.lifecycle == Lifecycle::kDone || node.cancelled || node.cancel_requested) return;
  if (spec(i).is_scheduler) {
    for (int member : spec(i).members) cancel(member);
  }
  if (node.lifecycle == Lifecycle::kRunning && node.phase != Phase::kNotBegun &&
      node.phase != Phase::kEnded) {
    node.cancel_requested = true;
    cancel_task(i);
  } else if (node.lifecycle != Lifecycle::kRunning) {
    node.cancel_requested = true;
    on_member_cancelled(spec(i).parent, i);
  } else {
    node.cancel_requested = true;  // started, body not begun: it is skipped
  }
}

// An idle or scheduled member cancelled while its scheduler runs is counted out at once,
// with what requires it; before that scheduler's run, when the run starts.
void Simulator::on_member_cancelled(int parent, int i) {
  NodeState& scheduler = at(parent);
  if (!scheduler.in_progress || scheduler.aborting) return;
  if (at(i).lifecycle == Lifecycle::kScheduled) std::erase(scheduler.waiting_for_slot, i);
  abandon(parent, i);
  if (finished(parent)) notify(parent);
}

void Simulator::on_job_finished(int parent, int i) {
  NodeState& scheduler = at(parent);
  NodeState& job = at(i);
  --scheduler.running;
  if (scheduler.aborting) {
    if (scheduler.running == 0) notify(parent);
    return;
  }
  if (job.cancelled) {
    abandon(parent, i);
    fill_window(parent);
    if (finished(parent)) notify(parent);
    return;
  }
  if (job.raised && spec(i).critical) {
    scheduler.failed_critical = true;
    scheduler.failed_job = i;
    notify(parent);
    return;
  }
  if (!spec(i).forever) --scheduler.remaining;
  for (int successor : job.successors) {
    if (--at(successor).pending == 0 && !at(successor).cancelled) schedule(parent, successor);
  }
  fill_window(parent);
  if (finished(parent)) notify(parent);
}

// `i` and every idle job downstream of it will never start; the run must not wait for them.
void Simulator::abandon(int parent, int i) {
  std::vector<int> stack{i};
  while (!stack.empty()) {
    const int job = stack.back();
    stack.pop_back();
    at(job).cancelled = true;
    if (!spec(job).forever) {
      --at(parent).remaining;
      ++at(parent).abandoned;
    }
    for (int successor : at(job).successors) {
      if (!at(successor).cancelled && at(successor).lifecycle == Lifecycle::kIdle) {
        at(successor).cancelled = true;
        stack.push_back(successor);
      }
    }
  }
}

void Simulator::schedule(int parent, int i) {
  NodeState& scheduler = at(parent);
  const int window = spec(parent).window;
  if (scheduler.waiting_for_slot.empty() && (window == 0 || scheduler.running < window)) {
    return start_job(parent, i);
  }
  at(i).lifecycle = Lifecycle::kScheduled;
  scheduler.waiting_for_slot.push_back(i);
  fill_window(parent);
}

void Simulator::start_job(int parent, int i) {
  ++at(parent).running;
  at(i).lifecycle = Lifecycle::kRunning;
  at(i).phase = Phase::kNotBegun;
  make_ready(i, Wake::kNotified);
}

void Simulator::fill_window(int parent) {
  NodeState& scheduler = at(parent);
  const int window = spec(parent).window;
  while (!scheduler.waiting_for_slot.empty() && (window == 0 || scheduler.running < window)) {
    const int job = scheduler.waiting_for_slot.front();
    scheduler.waiting_for_slot.pop_front();
    start_job(parent, job);
  }
}

bool Simulator::finished(int s) {
  const NodeState& scheduler = at(s);
  if (scheduler.failed_critical) return true;
  if (scheduler.only_forever) return scheduler.running == 0 && scheduler.waiting_for_slot.empty();
  return scheduler.remaining <= 0;
}

void Simulator::notify(int s) {
  const Wait wait = at(s).wait;
  const bool waiting = std::find(ready_.begin(), ready_.end(), s) == ready_.end();
  if (waiting && (wait == Wait::kWakeup || wait == Wait::kAbortWait)) make_ready(s, Wake::kNotified);
}

// --- Orchestrators: a scheduler's run, on its own fiber (the top-level one on the root).

void Simulator::step_scheduler(int s) {
  NodeState& scheduler = at(s);
  switch (scheduler.phase) {
    case Phase::kNotBegun:
      scheduler.phase = Phase::kOrchestrating;
      if (s != 0 && scheduler.cancel_requested) return end_job(s);  // body skipped
      if (s != 0) ++scheduler.attempts;
      return begin_run(s);
    case Phase::kOrchestrating:
      if (scheduler.wake == Wake::kCancelled || scheduler.task_cancel) return abort(s);
      if (scheduler.wake == Wake::kTimer && !finished(s)) scheduler.failed_time_out = true;
      return wait_or_abort(s);
    case Phase::kAborting:
      if (scheduler.running == 0) return finish(s);
      return suspend(s, Wait::kAbortWait);
    case Phase::kFinishing:
      return end_run(s);
    default:
      return;
  }
}

void Simulator::begin_run(int s) {
  NodeState& scheduler = at(s);
  scheduler.in_progress = true;
  const int timeout = spec(s).scheduler_timeout;
  scheduler.deadline = timeout == 0             ? kNever
                      : timeout == kHugeTimeout ? now_ + kHugeTimeoutMs
                                                : now_ + timeout * scenario_.unit_ms;
  scheduler.alarm_at = kNever;
  int non_forever = 0;
  for (int member : spec(s).members) non_forever += spec(member).forever ? 0 : 1;
  scheduler.remaining = non_forever;
  for (int member : spec(s).members) {
    if (!at(member).cancel_requested && at(member).pending == 0) schedule(s, member);
  }
  for (int member : spec(s).members) {
    const NodeState& job = at(member);
    if (job.cancel_requested && !job.cancelled && job.lifecycle == Lifecycle::kIdle) abandon(s, member);
  }
  // The contract: only a scheduler whose jobs are all forever runs until they return.
  scheduler.only_forever = non_forever == 0;
  wait_or_abort(s);
}

void Simulator::wait_or_abort(int s) {
  NodeState& scheduler = at(s);
  if (scheduler.failed_time_out || finished(s)) return abort(s);
  scheduler.wait = Wait::kWakeup;
  scheduler.wake_at = scheduler.deadline;
}

// Cancels what is still scheduled or running, then waits (shielded) until all have ended.
void Simulator::abort(int s) {
  NodeState& scheduler = at(s);
  scheduler.aborting = true;
  scheduler.wake_at = kNever;
  scheduler.phase = Phase::kAborting;
  if (scheduler.running == 0 && scheduler.waiting_for_slot.empty()) return finish(s);
  for (int job : scheduler.waiting_for_slot) at(job).cancelled = true;
  scheduler.waiting_for_slot.clear();
  for (int member : spec(s).members) {
    NodeState& job = at(member);
    if (job.lifecycle != Lifecycle::kRunning || job.cancelled) continue;
    job.cancel_requested = true;
    cancel_task(member);
  }
  if (scheduler.running == 0) return finish(s);
  suspend(s, Wait::kAbortWait);
}

// Shutting down nested schedulers suspends the orchestrator once more.
void Simulator::finish(int s) {
  for (int member : spec(s).members) {
    if (spec(member).is_scheduler) {
      at(s).phase = Phase::kFinishing;
      return suspend(s, Wait::kReady);
    }
  }
  end_run(s);
}

void Simulator::end_run(int s) {
  NodeState& scheduler = at(s);
  scheduler.in_progress = false;
  const bool ok = !scheduler.failed_critical && !scheduler.failed_time_out && scheduler.abandoned == 0;
  std::string thrown;
  if (!ok && spec(s).critical) {
    if (scheduler.failed_time_out) {
      thrown = "Timeout:scheduler";
    } else if (scheduler.failed_job >= 0) {
      thrown = at(scheduler.failed_job).error;
    }
  }
  if (s == 0) {
    top_ = {thrown.empty() ? (ok ? "true" : "false") : "throws " + thrown,
            why_text(why(s), scheduler.failed_critical, scheduler.failed_time_out)};
    scheduler.phase = Phase::kEnded;
    top_ended_ = true;
    return;
  }
  scheduler.raised = !thrown.empty();
  scheduler.error = thrown;
  scheduler.value = thrown.empty() && ok ? 1 : 0;
  end_job(s);
}

std::string Simulator::why(int s) {
  const NodeState& scheduler = at(s);
  if (scheduler.failed_time_out) {
    const int timeout = spec(s).scheduler_timeout;
    const double seconds = (timeout == kHugeTimeout ? kHugeTimeoutMs : timeout * scenario_.unit_ms) / 1000.0;
    char text[32];
    snprintf(text, sizeof text, "%g", seconds);
    return std::string("TIMED OUT after ") + text + "s";
  }
  if (scheduler.failed_critical) return "a CRITICAL job has raised an exception";
  if (scheduler.abandoned > 0) {
    return std::to_string(scheduler.abandoned) + " job(s) could not complete: cancelled";
  }
  return "FINE";
}

// --- What the run left

Outcome Simulator::outcome() {
  Outcome result;
  result.run = top_;
  result.nodes.resize(state_.size());
  for (size_t i = 1; i < state_.size(); ++i) {
    const NodeState& node = state_[i];
    NodeOutcome& out = result.nodes[i];
    out.attempts = node.attempts;
    if (node.lifecycle == Lifecycle::kDone) {
      out.fate = node.raised ? Fate::kRaised : Fate::kValue;
      out.error = node.raised ? node.error : "";
      out.value = node.raised ? 0 : node.value;
      if (spec(i).is_scheduler) {
        out.why = why_text(why(static_cast<int>(i)), node.failed_critical, node.failed_time_out);
      }
    } else if (node.cancelled || node.cancel_requested) {
      out.fate = Fate::kCancelled;
    } else {
      out.fate = node.lifecycle == Lifecycle::kIdle ? Fate::kNotRun : Fate::kStuck;
    }
  }
  return result;
}

}  // namespace

Simulation simulate(const Scenario& scenario, uint64_t schedule) {
  return Simulator(scenario, schedule).run();
}

}  // namespace asyncjobs::model
