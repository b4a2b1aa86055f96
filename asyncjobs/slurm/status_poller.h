#ifndef ASYNCJOBS_SLURM_STATUS_POLLER_H_
#define ASYNCJOBS_SLURM_STATUS_POLLER_H_

// StatusPoller: the one loop through which every BatchJob and BatchArrayJob of a reactor
// learns how its Slurm job is doing, so that slurmctld sees one status query per poll
// interval however many jobs wait, and one scancel for the jobs cancelled together.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "asyncjobs/internal/reactor/reactor.h"
#include "asyncjobs/slurm.h"
#include "asyncjobs/slurm/parse.h"

namespace asyncjobs::slurm::internal {

// A job waiting for its Slurm job (or array) to end; lives on the waiting job's stack.
struct Waiter {
  std::string job_id;
  int array_size = 0;  // 0: a plain job
  absl::Duration poll_interval;
  std::vector<BatchResult>* results = nullptr;  // one per element (one for a plain job),
                                                // updated at each poll; owned by the job
  Task* task = nullptr;  // woken once `done`; nullptr outside a reactor
  bool done = false;     // every result final, or `error` set
  std::optional<BatchError> error;  // the job vanished, or the status query kept failing
  bool scancel_requested = false;
  uint64_t asked_in_poll = 0;  // the last poll whose query named it
  int releases = 0;            // of elements held after a failed launch
  // The job reports its states as output lines: its task is also woken, with
  // `states_changed` set, when a poll changed the state of an element.
  bool report_states = false;
  bool states_changed = false;
};

// Polls Slurm for every registered Waiter with one `squeue` per interval (the shortest of
// the waiters' poll_interval; at most kScancelPoll while a scancel is pending). A job that
// Slurm held after a failed launch (an overloaded node) is released, up to kMaxReleases
// times, after which its waiter ends with a BatchError. A job that
// squeue no longer lists is looked up once with scontrol; if Slurm does not know it, its
// waiter ends with a BatchError. In a reactor the poller runs on its own task, started by
// the first waiter and ending once none is left; it wakes each waiter when it is done (and
// at each change of state, if it reports them).
class StatusPoller {
 public:
  // The poller of the running reactor for the current SLURM_CONF (created on first use).
  static StatusPoller& for_current_reactor();

  explicit StatusPoller(Reactor* reactor);  // nullptr: polled by hand with poll_once
  StatusPoller(const StatusPoller&) = delete;
  StatusPoller& operator=(const StatusPoller&) = delete;

  // Registers `waiter` until it is done or `remove`d; starts the poller's task if needed.
  void add(Waiter* waiter);
  void remove(Waiter* waiter);  // no effect on a waiter that is done
  // Asks for the waiter's Slurm job to be scancelled with the others asked for within
  // kScancelGather (one scancel call for them all); the waiter stays registered.
  void request_scancel(Waiter* waiter);
  // Sends the pending scancel, then one status query for every waiter.
  void poll_once();

 private:
  static void entry(void* self) { static_cast<StatusPoller*>(self)->run(); }
  void run();
  void loop();
  void sleep_until_next_poll();
  absl::Duration interval() const;
  void send_scancels();
  std::vector<Waiter*> waiting() const;
  bool apply(Waiter* waiter, const std::vector<const JobRecord*>& records);
  bool held_after_failed_launch(Waiter* waiter, const std::vector<const JobRecord*>& records);
  void release(const std::vector<std::string>& job_ids);
  void look_up_once(const std::string& job_id);
  void update(Waiter* waiter, const BatchResult& result, size_t index);
  void notify_changes(Waiter* waiter);
  void query_failed(const BatchError& error);
  void finish(Waiter* waiter);
  bool idle() const { return !running_ && waiters_.empty(); }

  Reactor* reactor_;
  Task task_;
  bool running_ = false;   // task_ spawned and not finished
  bool sleeping_ = false;  // task_ in its wait between polls: the only wait `wake` may end
  // By job id. A waiter may leave whenever the poller suspends (its job gave up waiting):
  // across a suspension, the poller finds a waiter again by its id.
  absl::flat_hash_map<std::string, Waiter*> waiters_;
  std::vector<std::string> scancel_ids_;
  absl::Time first_scancel_request_ = absl::InfiniteFuture();
  absl::Time last_poll_ = absl::InfinitePast();
  int failed_queries_ = 0;  // in a row
  uint64_t polls_ = 0;
};

}  // namespace asyncjobs::slurm::internal

#endif  // ASYNCJOBS_SLURM_STATUS_POLLER_H_
