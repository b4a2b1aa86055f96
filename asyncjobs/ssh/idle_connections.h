// Connections that no command uses, closed to give their sockets back when a job waits for
// file descriptors (internal/reactor/descriptor_admission.h): a process with many nodes and
// a low RLIMIT_NOFILE goes on, each node connecting again on its next use.
#ifndef ASYNCJOBS_SSH_IDLE_CONNECTIONS_H_
#define ASYNCJOBS_SSH_IDLE_CONNECTIONS_H_

#include <list>

namespace asyncjobs::ssh {
class Node;
}

namespace asyncjobs::ssh::internal {

// Per thread, least recently used first. Everything here runs on the thread using the nodes.
class IdleConnections {
 public:
  using List = std::list<Node*>;

  // `node`'s connection is open and no command, transfer or gateway uses it: listed as the
  // most recent. If a job waits for descriptors, the least recent one is closed at once.
  static void add(Node& node);
  // In use again, closed or destroyed: no longer listed (nothing when it was not).
  static void remove(Node& node);
  // Closes the least recently used idle connection; false when there is none. The
  // descriptor admission's reclaimer: called when a creation fails for want of descriptors.
  static bool close_oldest();
};

}  // namespace asyncjobs::ssh::internal

#endif  // ASYNCJOBS_SSH_IDLE_CONNECTIONS_H_
