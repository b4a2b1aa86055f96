// Reading an OpenSSH client config (ssh_config(5)) for one host, and resolving a node's
// options through it: the subset NodeOptions::ssh_config promises.
#ifndef ASYNCJOBS_SSH_SSH_CONFIG_H_
#define ASYNCJOBS_SSH_SSH_CONFIG_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "asyncjobs/ssh.h"

namespace asyncjobs::ssh::internal {

// What a config says about one host: for each keyword the first value obtained, as OpenSSH
// takes it (IdentityFile accumulates). Paths have `~` expanded; HostName has `%h` replaced.
struct HostConfig {
  std::optional<std::string> hostname, user, proxy_jump;  // proxy_jump "none": no jump
  std::optional<int> port;
  std::vector<std::string> identity_files;
  std::optional<absl::Duration> connect_timeout;
};

// Whether `host` matches a `Host` line's patterns (`*`, `?`, `!negated`): one positive
// pattern matches and no negated one does.
bool host_matches(const std::vector<std::string>& patterns, const std::string& host);

// Reads the config `text` for `host`. Lines before the first `Host` apply to every host;
// `Match` blocks are skipped; unknown keywords are ignored. Throws std::invalid_argument
// naming `source` and the line for a malformed value of a keyword read here.
HostConfig parse_ssh_config(const std::string& text, const std::string& host,
                            const std::string& source = "ssh_config");

// `options` with `options.ssh_config` applied (nothing when empty): fields left at their
// defaults take the file's values, `host` becomes its HostName, a ProxyJump
// (`[user@]host[:port]`, or a comma-separated chain) becomes `gateway`. Throws
// std::invalid_argument for an unreadable or malformed file, or a ProxyJump loop.
NodeOptions resolve_options(NodeOptions options);

// `path` with a leading `~` replaced by the user's home directory.
std::string expand_home(const std::string& path);

}  // namespace asyncjobs::ssh::internal

#endif  // ASYNCJOBS_SSH_SSH_CONFIG_H_
