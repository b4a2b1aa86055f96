// What the internals reach of a Node that its public interface does not show.
#ifndef ASYNCJOBS_SSH_NODE_ACCESS_H_
#define ASYNCJOBS_SSH_NODE_ACCESS_H_

#include <memory>

#include "asyncjobs/ssh.h"
#include "asyncjobs/ssh/session.h"

namespace asyncjobs::ssh::internal {

class NodeAccess {
 public:
  // The node's connection (opened or awaited as Node::run does), held by the caller for the
  // duration of its command.
  static std::shared_ptr<Session> session(Node& node) { return node.session(); }
};

}  // namespace asyncjobs::ssh::internal

#endif  // ASYNCJOBS_SSH_NODE_ACCESS_H_
