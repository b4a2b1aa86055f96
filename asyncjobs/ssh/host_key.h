// Checking a connected session's host key against known_hosts, by policy.
#ifndef ASYNCJOBS_SSH_HOST_KEY_H_
#define ASYNCJOBS_SSH_HOST_KEY_H_

#include <libssh/libssh.h>

#include <string>

#include "asyncjobs/ssh.h"

namespace asyncjobs::ssh::internal {

// Accepts the server's key of `session` as `policy` says (see HostKeyCheck), learning a new
// key into the known_hosts file for kAcceptNew. Throws ConnectionError naming `name`.
void check_host_key(ssh_session session, HostKeyCheck policy, const std::string& name);

}  // namespace asyncjobs::ssh::internal

#endif  // ASYNCJOBS_SSH_HOST_KEY_H_
