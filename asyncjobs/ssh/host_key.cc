// Host key policies: strict, accept-new (trust on first use), insecure.
#include "asyncjobs/ssh/host_key.h"

#include "absl/strings/str_cat.h"

namespace asyncjobs::ssh::internal {
namespace {

[[noreturn]] void reject(const std::string& name, const std::string& why) {
  throw ConnectionError(absl::StrCat(name, ": host key ", why));
}

}  // namespace

void check_host_key(ssh_session session, HostKeyCheck policy, const std::string& name) {
  if (policy == HostKeyCheck::kInsecure) return;
  switch (ssh_session_is_known_server(session)) {
    case SSH_KNOWN_HOSTS_OK:
      return;
    case SSH_KNOWN_HOSTS_CHANGED:
      reject(name, "changed: it differs from the one in known_hosts (possible attack)");
    case SSH_KNOWN_HOSTS_OTHER:
      reject(name, "of another type than the one in known_hosts (possible attack)");
    case SSH_KNOWN_HOSTS_UNKNOWN:
    case SSH_KNOWN_HOSTS_NOT_FOUND:
      if (policy == HostKeyCheck::kStrict) reject(name, "unknown (strict checking)");
      if (ssh_session_update_known_hosts(session) != SSH_OK) {
        reject(name, absl::StrCat("cannot be learned: ", ssh_get_error(session)));
      }
      return;
    case SSH_KNOWN_HOSTS_ERROR:
      break;
  }
  reject(name, absl::StrCat("cannot be checked: ", ssh_get_error(session)));
}

}  // namespace asyncjobs::ssh::internal
