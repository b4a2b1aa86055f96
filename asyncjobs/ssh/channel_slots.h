// How many channels one SSH session has open, against the server's limit (OpenSSH's
// MaxSessions): the jobs that want one more wait their turn in a FIFO queue.
#ifndef ASYNCJOBS_SSH_CHANNEL_SLOTS_H_
#define ASYNCJOBS_SSH_CHANNEL_SLOTS_H_

#include <deque>

#include "asyncjobs/event.h"

namespace asyncjobs::ssh::internal {

// A slot is held for a channel's whole life. Commands may take all slots but one, which
// stays for the kills of cancelled commands (a kill needs a channel of its own while its
// command's channel is still open): kills go first and may take any slot. With a limit of 1
// there is no such reserve (see RemoteCommand). Not thread-safe: one reactor.
class ChannelSlots {
 public:
  // Who wants a slot, in the order they are served.
  enum class Use {
    kKill,     // kills a cancelled command
    kRetry,    // a command whose channel the server refused: it keeps its place
    kCommand,  // a command, a transfer
  };

  // One slot, released by the destructor (or release()). Move-only.
  class Slot {
   public:
    Slot() = default;
    explicit Slot(ChannelSlots* owner) : owner_(owner) {}
    Slot(Slot&& other) noexcept : owner_(std::exchange(other.owner_, nullptr)) {}
    Slot& operator=(Slot&& other) noexcept;
    ~Slot() { release(); }
    void release();

   private:
    ChannelSlots* owner_ = nullptr;
  };

  explicit ChannelSlots(int limit);
  ChannelSlots(const ChannelSlots&) = delete;
  ChannelSlots& operator=(const ChannelSlots&) = delete;

  // Suspends the calling job until a slot is free for `use` and every earlier waiter of the
  // same or a higher rank was served. Throws Cancelled: the waiter leaves the queue (and
  // passes on a slot it was just given).
  Slot acquire(Use use);
  // The server refused a channel while `others` other channels were open: it allows no more
  // than that (its MaxSessions is lower than ours), so the limit drops to it (at least 1).
  void learn_limit(int others);

  int open() const { return open_; }
  int limit() const { return limit_; }

 private:
  struct Waiter {
    Use use;
    Event granted;
  };
  bool has_room(Use use) const;
  void enqueue(Waiter& waiter);
  void dispatch();  // grants slots to the waiters at the head of the queue
  void release_one();

  int limit_;
  int open_ = 0;
  std::deque<Waiter*> queue_;  // waiters live on their jobs' stacks
};

}  // namespace asyncjobs::ssh::internal

#endif  // ASYNCJOBS_SSH_CHANNEL_SLOTS_H_
