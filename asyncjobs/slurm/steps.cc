// A batch job's steps: submit through a submission slot, wait through the status poller.
#include "asyncjobs/slurm/steps.h"

#include <algorithm>
#include <iostream>
#include <map>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "asyncjobs/cancelled.h"
#include "asyncjobs/fiber_calls.h"
#include "asyncjobs/internal/jobs/job_output.h"
#include "asyncjobs/internal/reactor/reactor.h"
#include "asyncjobs/job.h"
#include "asyncjobs/slurm/commands.h"
#include "asyncjobs/slurm/status_poller.h"
#include "asyncjobs/slurm/submit_slot.h"

namespace asyncjobs::slurm::internal {
namespace {

// After scancel: how long to wait for Slurm to report the job ended (its processes may get
// up to the cluster's KillWait, 30 s by default, between SIGTERM and SIGKILL).
constexpr absl::Duration kScancelWait = absl::Seconds(60);

// Reports the waiter's states as an output line of the running job (kOutput) when the line
// differs from the last one reported.
class StateReport {
 public:
  explicit StateReport(Waiter& waiter) : waiter_(waiter) {}
  void update() {
    if (!waiter_.report_states || !waiter_.states_changed) return;
    waiter_.states_changed = false;
    std::string line = state_line(waiter_.job_id, waiter_.array_size, *waiter_.results);
    if (line.empty() || line == reported_) return;
    asyncjobs::internal::report_output(line);
    reported_ = std::move(line);
  }

 private:
  Waiter& waiter_;
  std::string reported_;
};

// Cancels the Slurm job (with the others cancelled together) and waits, shielded from
// cancellation, until Slurm reports it ended. Runs while Cancelled propagates.
void scancel_and_wait(Waiter& waiter, StatusPoller& poller, StateReport& report) {
  CancelShield shield;
  poller.request_scancel(&waiter);
  const absl::Time deadline = absl::Now() + kScancelWait;
  while (!waiter.done) {
    if (Reactor::current()->wait(deadline, false) == Reactor::WakeReason::kTimedOut) break;
    report.update();
  }
  if (!waiter.done) {
    asyncjobs::internal::print_line(
        std::cerr, absl::StrCat("asyncjobs: Slurm job ", waiter.job_id, " not ended ",
                                absl::FormatDuration(kScancelWait), " after scancel"));
  }
}

void wait_in_reactor(Waiter& waiter) {
  StatusPoller& poller = StatusPoller::for_current_reactor();
  waiter.task = Task::current();
  poller.add(&waiter);
  absl::Cleanup leave = [&] { poller.remove(&waiter); };
  StateReport report(waiter);
  try {
    while (!waiter.done) {
      Reactor::current()->wait(absl::InfiniteFuture());
      report.update();
    }
  } catch (const Cancelled&) {
    scancel_and_wait(waiter, poller, report);
    throw;
  }
}

// Outside a job nothing else runs on the thread: poll by hand.
void wait_alone(Waiter& waiter) {
  StatusPoller poller(nullptr);
  poller.add(&waiter);
  while (true) {
    sleep_for(waiter.poll_interval);
    poller.poll_once();
    if (waiter.done) return;
  }
}

}  // namespace

std::string submit(const BatchOptions& batch, int array_size) {
  SubmitSlot slot;
  CancelShield shield;  // once sbatch has run, the job id must be known to scancel it
  return sbatch(batch, array_size);
}

void wait_for(const std::string& job_id, int array_size, absl::Duration poll_interval,
              std::vector<BatchResult>& results) {
  results.assign(std::max(array_size, 1), {});
  for (int index = 0; index < array_size; ++index) {
    results[index].job_id = absl::StrCat(job_id, "_", index);
  }
  if (array_size == 0) results[0].job_id = job_id;
  Waiter waiter{.job_id = job_id,
                .array_size = array_size,
                .poll_interval = poll_interval,
                .results = &results,
                .report_states = asyncjobs::internal::output_wanted()};
  if (in_job()) {
    wait_in_reactor(waiter);
  } else {
    wait_alone(waiter);
  }
  if (!waiter.error) return;
  try {  // a query failure must not leave the job running; harmless if it vanished
    scancel({job_id});
  } catch (const BatchError&) {  // scancel cannot run: the waiter's error says more
  }
  throw *waiter.error;
}

std::string slurm_job_name(const std::string& job_id, int array_size) {
  return absl::StrCat(array_size > 0 ? "Slurm array job " : "Slurm job ", job_id);
}

std::string state_counts(const std::vector<BatchResult>& elements) {
  std::map<std::string, int> counts;
  for (const BatchResult& element : elements) {
    if (!element.state.empty()) ++counts[element.state];
  }
  return absl::StrJoin(counts, ", ", [](std::string* out, const auto& count) {
    absl::StrAppend(out, count.second, " ", count.first);
  });
}

std::string state_line(const std::string& job_id, int array_size,
                       const std::vector<BatchResult>& results) {
  if (array_size == 0) {
    if (results.front().state.empty()) return "";
    return absl::StrCat(slurm_job_name(job_id, 0), " ", results.front().state);
  }
  const std::string counts = state_counts(results);
  if (counts.empty()) return "";
  return absl::StrCat(slurm_job_name(job_id, array_size), ": ", counts);
}

std::string final_state_text(const BatchResult& result) {
  std::string text = absl::StrCat("Slurm job ", result.job_id, " ended ", result.state,
                                  " with exit code ", result.exit_code);
  if (result.signal != 0) absl::StrAppend(&text, " and signal ", result.signal);
  return text;
}

bool succeeded(const BatchResult& result) {
  return result.state == "COMPLETED" && result.exit_code == 0 && result.signal == 0;
}

}  // namespace asyncjobs::slurm::internal
