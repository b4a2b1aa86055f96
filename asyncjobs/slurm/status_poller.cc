// StatusPoller: one squeue per poll interval for all of a reactor's batch jobs, one scancel
// for the jobs cancelled together.
#include "asyncjobs/slurm/status_poller.h"

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <utility>

#include "absl/algorithm/container.h"
#include "absl/container/node_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "asyncjobs/cancelled.h"
#include "asyncjobs/slurm/commands.h"

namespace asyncjobs::slurm::internal {
namespace {

// How long the first scancel request waits for others (the jobs a scheduler cancels at
// once all ask within a loop turn or two), and how often to poll until they ended.
constexpr absl::Duration kScancelGather = absl::Milliseconds(20);
constexpr absl::Duration kScancelPoll = absl::Milliseconds(250);
// Ids per squeue call: each one is an argument of a few characters, and one argument may
// not pass 128 KiB (MAX_ARG_STRLEN).
constexpr size_t kIdsPerQuery = 10'000;
// Status queries that may fail in a row (slurmctld restarting, busy) before every waiter
// ends with the last error.
constexpr int kMaxFailedQueries = 3;
// Times a job (an array: any of its elements) held after a failed launch is released
// before its waiter gives up.
constexpr int kMaxReleases = 3;

using PollerKey = std::pair<Reactor*, std::string>;  // the reactor, SLURM_CONF

// Pollers of this thread's reactors. A poller outlives its task's run; an idle one is
// dropped when another is created (a reactor lives for one Scheduler::run).
thread_local absl::node_hash_map<PollerKey, std::unique_ptr<StatusPoller>> pollers;

bool all_final(const std::vector<BatchResult>& results) {
  return std::all_of(results.begin(), results.end(),
                     [](const BatchResult& result) { return is_final_state(result.state); });
}

std::vector<JobRecord> squeue_in_chunks(const std::vector<std::string>& ids) {
  std::vector<JobRecord> records;
  for (size_t begin = 0; begin < ids.size(); begin += kIdsPerQuery) {
    const size_t end = std::min(ids.size(), begin + kIdsPerQuery);
    std::vector<JobRecord> chunk = squeue({ids.begin() + begin, ids.begin() + end});
    std::move(chunk.begin(), chunk.end(), std::back_inserter(records));
  }
  return records;
}

}  // namespace

StatusPoller& StatusPoller::for_current_reactor() {
  const char* conf = std::getenv("SLURM_CONF");
  PollerKey key(Reactor::current(), conf == nullptr ? "" : conf);
  if (auto found = pollers.find(key); found != pollers.end()) return *found->second;
  absl::erase_if(pollers, [](const auto& entry) { return entry.second->idle(); });
  auto poller = std::make_unique<StatusPoller>(key.first);
  return *pollers.emplace(std::move(key), std::move(poller)).first->second;
}

StatusPoller::StatusPoller(Reactor* reactor) : reactor_(reactor), task_(&entry, this) {}

void StatusPoller::add(Waiter* waiter) {
  waiters_[waiter->job_id] = waiter;
  if (reactor_ == nullptr || running_) return;
  last_poll_ = absl::Now();  // the job was just submitted: nothing to ask before an interval
  reactor_->spawn(&task_);
  running_ = true;
}

void StatusPoller::remove(Waiter* waiter) {
  if (waiter->done) return;
  waiters_.erase(waiter->job_id);
  if (waiters_.empty() && sleeping_) reactor_->wake(&task_);  // nothing left to poll for
}

void StatusPoller::request_scancel(Waiter* waiter) {
  if (waiter->done || waiter->scancel_requested) return;
  waiter->scancel_requested = true;
  scancel_ids_.push_back(waiter->job_id);
  if (scancel_ids_.size() > 1) return;
  first_scancel_request_ = absl::Now();
  if (sleeping_) reactor_->wake(&task_);  // to gather the others, then scancel
}

void StatusPoller::run() {
  try {
    loop();
  } catch (const Cancelled&) {  // only if the reactor stalled: no job can be woken then
    query_failed(BatchError("the Slurm status poller was cancelled", {}));
  } catch (const std::exception& error) {
    query_failed(BatchError(error.what(), {}));
  }
  running_ = false;
}

void StatusPoller::loop() {
  while (!waiters_.empty()) {
    sleep_until_next_poll();
    if (!waiters_.empty()) poll_once();
  }
}

void StatusPoller::sleep_until_next_poll() {
  while (!waiters_.empty()) {
    const absl::Time deadline =
        std::min(last_poll_ + interval(), first_scancel_request_ + kScancelGather);
    if (absl::Now() >= deadline) return;
    sleeping_ = true;
    const Reactor::WakeReason woken = reactor_->wait(deadline);
    sleeping_ = false;
    if (woken == Reactor::WakeReason::kTimedOut) return;
  }
}

absl::Duration StatusPoller::interval() const {
  absl::Duration shortest = absl::InfiniteDuration();
  for (const auto& [id, waiter] : waiters_) {
    shortest = std::min(shortest, waiter->scancel_requested ? kScancelPoll : waiter->poll_interval);
  }
  return shortest;
}

void StatusPoller::poll_once() {
  send_scancels();
  last_poll_ = absl::Now();
  ++polls_;
  std::vector<std::string> ids;
  for (const auto& [id, waiter] : waiters_) {
    ids.push_back(id);
    waiter->asked_in_poll = polls_;
  }
  std::vector<JobRecord> records;
  try {
    records = squeue_in_chunks(ids);
  } catch (const BatchError& error) {
    if (++failed_queries_ >= kMaxFailedQueries) query_failed(error);
    return;
  }
  failed_queries_ = 0;
  absl::flat_hash_map<std::string, std::vector<const JobRecord*>> by_job;
  for (const JobRecord& record : records) by_job[record.job_id].push_back(&record);
  // Those that came while squeue ran wait for the next poll (squeue was not asked).
  std::vector<std::string> unlisted, held;
  for (Waiter* waiter : waiting()) {
    if (waiter->asked_in_poll != polls_) continue;
    const std::vector<const JobRecord*>& listed = by_job[waiter->job_id];
    if (held_after_failed_launch(waiter, listed)) held.push_back(waiter->job_id);
    if (!apply(waiter, listed)) unlisted.push_back(waiter->job_id);
  }
  if (!held.empty()) release(held);
  for (const std::string& job_id : unlisted) look_up_once(job_id);
}

// True if the job should be released; ends the waiter with a BatchError once it was
// released kMaxReleases times.
bool StatusPoller::held_after_failed_launch(Waiter* waiter,
                                            const std::vector<const JobRecord*>& records) {
  if (absl::c_none_of(records, [](const JobRecord* record) {
        return is_held_after_failed_launch(*record);
      })) {
    return false;
  }
  if (++waiter->releases <= kMaxReleases) return true;
  waiter->error.emplace(
      absl::StrCat("Slurm job ", waiter->job_id, " could not be launched: Slurm requeued and ",
                   "held it after failed launches (launch failed requeued held), and it was ",
                   "released ", kMaxReleases, " times (an overloaded node? see slurmd's log)"),
      BatchResult{.job_id = waiter->job_id, .state = "PENDING"});
  finish(waiter);
  return false;
}

void StatusPoller::release(const std::vector<std::string>& job_ids) {
  try {
    scontrol_release(job_ids);
  } catch (const BatchError& error) {  // scontrol cannot run: the next poll tries again
    std::cerr << "asyncjobs: " << error.what() << "\n";
  }
}

// A copy: finished waiters leave waiters_.
std::vector<Waiter*> StatusPoller::waiting() const {
  std::vector<Waiter*> waiters;
  waiters.reserve(waiters_.size());
  for (const auto& [id, waiter] : waiters_) waiters.push_back(waiter);
  return waiters;
}

void StatusPoller::send_scancels() {
  if (scancel_ids_.empty()) return;
  std::vector<std::string> ids = std::move(scancel_ids_);
  scancel_ids_.clear();
  first_scancel_request_ = absl::InfiniteFuture();
  try {
    scancel(ids);
  } catch (const BatchError& error) {  // scancel cannot run: polling shows what is left
    std::cerr << "asyncjobs: " << error.what() << "\n";
  }
}

// Takes the records squeue gave for the waiter's job; false if squeue left out some that
// are not final yet (they need a look-up).
bool StatusPoller::apply(Waiter* waiter, const std::vector<const JobRecord*>& records) {
  if (waiter->done) return true;
  std::vector<BatchResult>& results = *waiter->results;
  std::vector<bool> listed(results.size());
  for (const JobRecord* record : records) {
    const size_t index = std::max(record->array_index, 0);
    if (index >= results.size()) continue;
    results[index] = record->result;
    listed[index] = true;
  }
  if (all_final(results)) {
    finish(waiter);
    return true;
  }
  // An element seen final before may have been purged since (MinJobAge): it needs no look-up.
  for (size_t index = 0; index < results.size(); ++index) {
    if (!listed[index] && !is_final_state(results[index].state)) return false;
  }
  return true;
}

// squeue does not list the job (or some elements) any more: scontrol may still know it.
void StatusPoller::look_up_once(const std::string& job_id) {
  std::vector<JobRecord> records;
  try {
    records = scontrol_show_job(job_id);
  } catch (const BatchError&) {
    return;  // the next poll asks again
  }
  const auto found = waiters_.find(job_id);
  if (found == waiters_.end()) return;  // its job stopped waiting meanwhile
  Waiter* waiter = found->second;
  if (records.empty()) {
    waiter->error.emplace(
        absl::StrCat("Slurm job ", waiter->job_id,
                     " vanished before a final state (Slurm no longer knows it: is "
                     "poll_interval longer than the cluster's MinJobAge, or was it removed?)"),
        BatchResult{.job_id = waiter->job_id});
    return finish(waiter);
  }
  std::vector<BatchResult>& results = *waiter->results;
  for (const JobRecord& record : records) {
    const size_t index = std::max(record.array_index, 0);
    if (index < results.size()) results[index] = record.result;
  }
  if (all_final(results)) finish(waiter);
}

void StatusPoller::query_failed(const BatchError& error) {
  for (Waiter* waiter : waiting()) {
    waiter->error.emplace(error.what(), BatchResult{.job_id = waiter->job_id});
    finish(waiter);
  }
}

void StatusPoller::finish(Waiter* waiter) {
  remove(waiter);
  waiter->done = true;
  if (waiter->task != nullptr) reactor_->wake(waiter->task);
}

}  // namespace asyncjobs::slurm::internal
