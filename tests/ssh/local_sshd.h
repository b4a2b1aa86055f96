// A real OpenSSH sshd on 127.0.0.1 for the SSH tests and benchmark: generated host and user
// keys, a free port, stopped by pid. Never listens elsewhere than 127.0.0.1.
#ifndef ASYNCJOBS_TESTS_SSH_LOCAL_SSHD_H_
#define ASYNCJOBS_TESTS_SSH_LOCAL_SSHD_H_

#include <sys/types.h>

#include <string>

#include "asyncjobs/ssh.h"

namespace asyncjobs::ssh::testing {

// What differs from OpenSSH's stock configuration (MaxSessions 10, MaxStartups 10:30:100).
struct SshdLimits {
  int max_sessions = 0;      // 0: stock
  std::string max_startups;  // empty: stock
  // For tests and benchmarks that need hundreds of sessions or connections at once.
  static SshdLimits raised() { return {1000, "1000"}; }
};

class LocalSshd {
 public:
  // Makes a fresh directory under /tmp (writable by the non-root account), keys, an
  // authorized_keys file for root and `kOtherUser` (created with useradd when missing and
  // this runs as root), and starts /usr/sbin/sshd -D on a free port, with stock limits
  // unless `limits` says otherwise. Throws std::runtime_error when any step fails, with
  // sshd's log.
  explicit LocalSshd(SshdLimits limits = {});
  ~LocalSshd();  // stops sshd (SIGTERM to its pid, then reaps it) and removes the directory
  LocalSshd(const LocalSshd&) = delete;
  LocalSshd& operator=(const LocalSshd&) = delete;

  static constexpr const char* kOtherUser = "ajtest";

  int port() const { return port_; }
  const std::string& dir() const { return dir_; }
  std::string user_key() const { return dir_ + "/user_key"; }    // authorized
  std::string wrong_key() const { return dir_ + "/wrong_key"; }  // not authorized
  std::string host_public_key() const { return dir_ + "/host_key.pub"; }
  // Options reaching this sshd as `user` (empty: the local user), accept-new on a known_hosts
  // file in dir().
  NodeOptions node_options(const std::string& user = "") const;
  std::string log() const;  // at VERBOSE level: logins, MaxStartups drops

 private:
  void prepare();  // keys, authorized_keys, the other account, a port
  void start();
  void wait_listening();
  void stop();

  SshdLimits limits_;
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

// Binds `socket` to a free port of 127.0.0.1 and returns that port; throws
// std::runtime_error when it cannot.
int bind_loopback_port(int socket);

// Runs `command` through /bin/sh, returns its stdout; throws std::runtime_error if it fails.
std::string shell(const std::string& command);

}  // namespace asyncjobs::ssh::testing

#endif  // ASYNCJOBS_TESTS_SSH_LOCAL_SSHD_H_
