// Public-key authentication: explicit identities, else agent and default keys; passphrases.
#include "asyncjobs/ssh/auth.h"

#include <unistd.h>

#include <algorithm>
#include <exception>
#include <functional>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "asyncjobs/ssh/ssh_config.h"

namespace asyncjobs::ssh::internal {
namespace {

// Tried when `identities` is empty, as libssh and OpenSSH do.
constexpr const char* kDefaultIdentities[] = {"id_ed25519", "id_ecdsa", "id_rsa"};

struct KeyDeleter {
  void operator()(ssh_key key) const { ssh_key_free(key); }
};
using Key = std::unique_ptr<ssh_key_struct, KeyDeleter>;

// What ask_passphrase needs, and what it did.
struct PassphraseRequest {
  const std::function<std::string(const std::string&)>& ask;
  const std::string& path;
  bool asked = false;
  std::exception_ptr error;
};

// libssh's ssh_auth_callback, called only for an encrypted key. No exception may cross
// libssh's C frames: the callback's is kept and rethrown once libssh has returned.
int ask_passphrase(const char*, char* buffer, size_t size, int, int, void* userdata) {
  auto& request = *static_cast<PassphraseRequest*>(userdata);
  request.asked = true;
  if (!request.ask) return SSH_ERROR;
  try {
    const std::string passphrase = request.ask(request.path);
    if (passphrase.size() >= size) return SSH_ERROR;
    std::copy(passphrase.begin(), passphrase.end(), buffer);
    buffer[passphrase.size()] = '\0';
    return SSH_OK;
  } catch (...) {
    request.error = std::current_exception();
    return SSH_ERROR;
  }
}

class Authenticator {
 public:
  Authenticator(Session& session, const NodeOptions& options, absl::Time deadline)
      : session_(session), options_(options), deadline_(deadline) {}

  void run() {
    if (options_.identities.empty() ? try_defaults() : try_identities()) return;
    if (absl::Now() >= deadline_) {
      fail(absl::StrCat("timeout after ", absl::FormatDuration(options_.connect_timeout),
                        " (authentication)"));
    }
    fail(absl::StrCat("authentication failed (publickey): ", ssh_get_error(session_.get())));
  }

 private:
  bool try_identities() {
    for (const std::string& path : options_.identities) {
      if (try_key(import_identity(path))) return true;
    }
    return false;
  }

  bool try_defaults() {
    const int rc = session_.until_done(
        [&] { return ssh_userauth_publickey_auto(session_.get(), nullptr, nullptr); },
        SSH_AUTH_AGAIN, deadline_);
    return rc == SSH_AUTH_SUCCESS || (options_.passphrase && try_encrypted_defaults());
  }

  // publickey_auto skips encrypted key files (it has no passphrase to give them): each of
  // them whose public half the server accepts is decrypted and tried.
  bool try_encrypted_defaults() {
    for (const char* name : kDefaultIdentities) {
      const std::string path = expand_home(absl::StrCat("~/.ssh/", name));
      if (::access(path.c_str(), R_OK) != 0 || !offer_public_key(path + ".pub")) continue;
      bool asked = false;
      const Key key = import_identity(path, &asked);
      if (asked && try_key(key)) return true;
    }
    return false;
  }

  // False when the server refuses the key, or it cannot be read.
  bool offer_public_key(const std::string& path) {
    ssh_key raw = nullptr;
    if (session_.spare().lend([&] { return ssh_pki_import_pubkey_file(path.c_str(), &raw); }) !=
        SSH_OK) {
      return false;
    }
    const Key key(raw);
    return session_.until_done(
               [&] { return ssh_userauth_try_publickey(session_.get(), nullptr, key.get()); },
               SSH_AUTH_AGAIN, deadline_) == SSH_AUTH_SUCCESS;
  }

  // The private key at `path`, decrypted with the passphrase when it is encrypted (`asked`
  // says whether it was).
  Key import_identity(const std::string& path, bool* asked = nullptr) {
    PassphraseRequest request{options_.passphrase, path};
    ssh_key raw = nullptr;
    const int rc = session_.spare().lend([&] {
      return ssh_pki_import_privkey_file(path.c_str(), nullptr, &ask_passphrase, &request, &raw);
    });
    Key key(raw);
    if (request.error) std::rethrow_exception(request.error);
    if (asked != nullptr) *asked = request.asked;
    if (rc == SSH_OK) return key;
    if (!request.asked) fail(absl::StrCat("cannot read the private key ", path));
    if (!options_.passphrase) {
      fail(absl::StrCat("the private key ", path, " is encrypted: set NodeOptions::passphrase"));
    }
    fail(absl::StrCat("wrong passphrase for the private key ", path));
  }

  bool try_key(const Key& key) {
    return session_.until_done(
               [&] { return ssh_userauth_publickey(session_.get(), nullptr, key.get()); },
               SSH_AUTH_AGAIN, deadline_) == SSH_AUTH_SUCCESS;
  }

  [[noreturn]] void fail(const std::string& cause) const {
    throw ConnectionError(absl::StrCat(session_.name(), ": ", cause));
  }

  Session& session_;
  const NodeOptions& options_;
  const absl::Time deadline_;
};

}  // namespace

void authenticate(Session& session, const NodeOptions& options, absl::Time deadline) {
  Authenticator(session, options, deadline).run();
}

}  // namespace asyncjobs::ssh::internal
