// How the jobs of one SSH session wait for its socket: one of them (the leader) watches the
// transport and processes what arrives, the others sleep on their own Event until it is done.
#ifndef ASYNCJOBS_SSH_PUMP_H_
#define ASYNCJOBS_SSH_PUMP_H_

#include <libssh/libssh.h>

#include <vector>

#include "absl/time/time.h"
#include "asyncjobs/event.h"

namespace asyncjobs::ssh::internal {

// What carries a session's bytes: a TCP socket, or a channel of a gateway session.
class Transport {
 public:
  virtual ~Transport() = default;
  // Suspends until a libssh call on `session` may progress; false once `deadline` passed.
  virtual bool wait_io(ssh_session session, absl::Time deadline) = 0;
  // Sends on what the session has written, without waiting (before a job sleeps while
  // another one leads: the leader may be waiting for the answer to it).
  virtual void flush() {}
};

// Only the leader waits on the transport, so the reactor sees one waiter per descriptor
// however many channels the session has. After each wake-up the leader lets libssh read
// every pending packet (into the channels' buffers and callbacks), then wakes all followers
// to look at their own channel. A leader that leaves (timeout, cancellation) wakes the
// followers too, and the next one to wait takes over. Any job's libssh call may also read
// packets meant for other channels: their callbacks set those channels' Events (`activity`),
// which is why followers wait on them. Not thread-safe: one reactor.
class Pump {
 public:
  Pump(Transport& transport, ssh_session session) : transport_(transport), session_(session) {}
  ~Pump();
  Pump(const Pump&) = delete;
  Pump& operator=(const Pump&) = delete;

  // From now on, each wake-up processes the session's incoming packets (once connected).
  void start_processing();
  // Suspends the calling job until the session may have progressed; false at `deadline`.
  // `activity`, when given, is the caller's channel Event, set by the channel's callbacks
  // whenever any job's libssh call processed a packet for it: a set one returns at once.
  // Wake-ups may be spurious: callers retry their libssh call and wait again.
  // Throws Cancelled in a job being cancelled (not under a CancelShield).
  bool wait(absl::Time deadline, Event* activity = nullptr);

 private:
  bool lead(absl::Time deadline);
  bool follow(absl::Time deadline, Event* activity);
  void wake_followers();

  Transport& transport_;
  ssh_session session_;
  ssh_event event_ = nullptr;  // holds only session_: a non-blocking dopoll processes it
  bool leading_ = false;
  std::vector<Event*> followers_;
};

}  // namespace asyncjobs::ssh::internal

#endif  // ASYNCJOBS_SSH_PUMP_H_
