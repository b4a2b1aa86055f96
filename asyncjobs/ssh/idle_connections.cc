// The per-thread list of idle connections, and closing them for the descriptor admission.
#include "asyncjobs/ssh/idle_connections.h"

#include "asyncjobs/internal/reactor/descriptor_admission.h"
#include "asyncjobs/ssh.h"

namespace asyncjobs::ssh::internal {
namespace {

using asyncjobs::internal::DescriptorAdmission;

thread_local IdleConnections::List idle;

}  // namespace

class IdleLinks {  // Node's private members for this list
 public:
  static void link(Node& node) {
    node.idle_list_ = &idle;
    node.idle_at_ = idle.insert(idle.end(), &node);
  }
  static void unlink(Node& node) {
    if (node.idle_list_ == nullptr) return;
    node.idle_list_->erase(node.idle_at_);
    node.idle_list_ = nullptr;
  }
  static void disconnect(Node& node) { node.session_.reset(); }
};

void IdleConnections::add(Node& node) {
  IdleLinks::unlink(node);
  IdleLinks::link(node);
  DescriptorAdmission::set_reclaimer(&close_oldest);
  if (DescriptorAdmission::awaited()) close_oldest();
}

void IdleConnections::remove(Node& node) { IdleLinks::unlink(node); }

bool IdleConnections::close_oldest() {
  if (idle.empty()) return false;
  Node& node = *idle.front();
  IdleLinks::unlink(node);
  IdleLinks::disconnect(node);  // closes the socket: the admission hands it to a waiter
  return true;
}

}  // namespace asyncjobs::ssh::internal
