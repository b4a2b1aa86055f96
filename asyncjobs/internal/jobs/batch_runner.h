#ifndef ASYNCJOBS_INTERNAL_JOBS_BATCH_RUNNER_H_
#define ASYNCJOBS_INTERNAL_JOBS_BATCH_RUNNER_H_

// BatchRunner: work items run on as few fibers as it takes.

#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "asyncjobs/internal/jobs/work_item.h"
#include "asyncjobs/internal/memory/huge_page_allocator.h"
#include "asyncjobs/internal/memory/job_pool.h"
#include "asyncjobs/internal/memory/ring_queue.h"
#include "asyncjobs/internal/reactor/reactor.h"

namespace asyncjobs::internal {

// Runs submitted items in FIFO order on as few fibers as it takes: a runner fiber calls the
// items one after the other, and whenever one blocks, another runner takes over the rest of
// the queue. Items that never block share one fiber, so a job that does not block costs no
// fiber of its own; an item that blocks keeps its runner (its stack) until it returns.
// A cancellation of a runner's task belongs to the item it runs and is cleared after it.
// Destroy only once every submitted item has returned or been abandoned.
//
// Owners are scattered in memory: `prefetch`, if given, is called for items still queued a
// few places ahead of the one starting, with `stage` 0 when kFar places ahead (fetch the
// owner's own lines) and 1 when kNear places ahead (they have arrived: fetch what they
// point to), so that an item's memory is in cache when its turn comes.
//
// When no fiber stack can be mapped for a new runner, the item it would have run first is
// handed to `fail` with the error instead of running (on the loop, not on a fiber).
class BatchRunner {
 public:
  using Hooks = BatchHooks;
  static constexpr size_t kFar = 8, kNear = 4;

  BatchRunner(Reactor& reactor, Hooks hooks) : reactor_(reactor), hooks_(hooks) {}
  BatchRunner(const BatchRunner&) = delete;
  BatchRunner& operator=(const BatchRunner&) = delete;

  ~BatchRunner();
  void submit(WorkItem* item);
  // Room for `count` more queued items (a hint: many submissions in a row follow).
  void reserve(size_t count) { queue_.reserve(queue_.size() + count); }
  // The last resort for an item whose body swallows every Cancelled: its runner is abandoned
  // (Reactor::abandon) and kept, with its stack, for the rest of the process.
  void abandon(WorkItem* item);

  // Runners made so far, and runners examined to find one to reuse: a reused runner comes
  // off a free list, so the second never exceeds the spawns, however many runners block.
  size_t runners_made() const { return runners_.size(); }
  size_t reuse_probes() const { return reuse_probes_; }

 private:
  struct Runner {
    explicit Runner(BatchRunner* group) : group(group) {
      task.set_suspend_hook(&BatchRunner::on_suspend, this);
      task.set_start_failure_handler(&BatchRunner::on_start_failure, this);
    }
    // From the job pool: a run whose jobs all block makes one runner each, every run.
    static void* operator new(size_t bytes) { return pool_allocate(bytes); }
    static void operator delete(void* block, size_t bytes) noexcept { pool_free(block, bytes); }

    BatchRunner* group;
    bool available = true;  // running an item that has not blocked, or between items
    bool abandoned = false;
    Task task{&BatchRunner::main, this};
  };


  static void main(void* runner);
  static void on_suspend(void* runner);
  static void on_start_failure(void* runner, std::exception_ptr error);
  void spawn_runner();
  WorkItem* pop();
  bool has_queued() const { return next_ != nullptr || !queue_.empty(); }

  Reactor& reactor_;
  Hooks hooks_;
  void* owner(WorkItem* item) const {
    return reinterpret_cast<char*>(item) - hooks_.owner_offset;
  }
  // The oldest queued item, when it was submitted to an empty queue (a job freeing its
  // successor, a chain): it skips the ring. Set only while the ring is empty, so FIFO holds.
  WorkItem* next_ = nullptr;
  RingQueue<WorkItem*> queue_;
  size_t available_ = 0;        // runners that will take the next queued item
  HugePageVector<std::unique_ptr<Runner>> runners_;
  HugePageVector<Runner*> finished_;  // runners whose fiber has returned, to reuse
  size_t reuse_probes_ = 0;
};

}  // namespace asyncjobs::internal

#endif  // ASYNCJOBS_INTERNAL_JOBS_BATCH_RUNNER_H_
