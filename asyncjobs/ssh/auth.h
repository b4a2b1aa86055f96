// Public-key authentication of a connected session, with encrypted key files decrypted
// through NodeOptions::passphrase.
#ifndef ASYNCJOBS_SSH_AUTH_H_
#define ASYNCJOBS_SSH_AUTH_H_

#include "absl/time/time.h"
#include "asyncjobs/ssh.h"
#include "asyncjobs/ssh/session.h"

namespace asyncjobs::ssh::internal {

// Tries `options.identities` in order; when empty, the agent and the plain default keys
// (libssh's publickey_auto), then, with a `passphrase`, the encrypted default keys whose
// public half the server accepts. Suspends only the calling job. Throws ConnectionError
// naming the session: timeout at `deadline`, authentication failed, a key file that cannot
// be read or decrypted (naming it); what `passphrase` throws propagates.
void authenticate(Session& session, const NodeOptions& options, absl::Time deadline);

}  // namespace asyncjobs::ssh::internal

#endif  // ASYNCJOBS_SSH_AUTH_H_
