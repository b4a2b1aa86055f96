// SubmitSlot: a FIFO semaphore per reactor for sbatch calls.
#include "asyncjobs/slurm/submit_slot.h"

#include <list>

#include "absl/container/node_hash_map.h"
#include "absl/time/time.h"

namespace asyncjobs::slurm::internal {
namespace {

struct Queued {
  Task* task;
  bool granted = false;  // the slot was handed over: the job owns it even if cancelled since
};

struct Slots {
  int in_use = 0;
  std::list<Queued*> queue;
};

// The slots of this thread's reactors; an entry lives while a slot is held.
thread_local absl::node_hash_map<Reactor*, Slots> slots_by_reactor;

void release(Reactor* reactor) {
  Slots& slots = slots_by_reactor[reactor];
  if (slots.queue.empty()) {
    if (--slots.in_use == 0) slots_by_reactor.erase(reactor);
    return;
  }
  Queued* next = slots.queue.front();
  slots.queue.pop_front();
  next->granted = true;
  reactor->wake(next->task);  // false if it is being cancelled: it then releases the slot
}

}  // namespace

SubmitSlot::SubmitSlot() {
  Reactor* reactor = Reactor::current();
  if (reactor == nullptr || Task::current() == nullptr) return;
  Slots& slots = slots_by_reactor[reactor];
  if (slots.in_use < kMaxSubmissions) {
    ++slots.in_use;
    reactor_ = reactor;
    return;
  }
  Queued queued{.task = Task::current()};
  const auto place = slots.queue.insert(slots.queue.end(), &queued);
  try {
    while (!queued.granted) reactor->wait(absl::InfiniteFuture());
  } catch (...) {  // Cancelled
    if (queued.granted) {
      release(reactor);
    } else {
      slots.queue.erase(place);
    }
    throw;
  }
  reactor_ = reactor;
}

SubmitSlot::~SubmitSlot() {
  if (reactor_ != nullptr) release(reactor_);
}

}  // namespace asyncjobs::slurm::internal
