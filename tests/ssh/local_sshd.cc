// Starting and stopping a private OpenSSH sshd on 127.0.0.1.
#include "tests/ssh/local_sshd.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace asyncjobs::ssh::testing {
namespace {

constexpr absl::Duration kStartTimeout = absl::Seconds(20);

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  try {
    const int port = bind_loopback_port(fd);
    ::close(fd);
    return port;
  } catch (...) {
    ::close(fd);
    throw;
  }
}

bool accepts_connections(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return ok;
}

void write_file(const std::string& path, const std::string& content) {
  std::ofstream out(path);
  out << content;
  if (!out) throw std::runtime_error("cannot write " + path);
}

// The non-root account the signal tests use, unlocked for public-key logins (UsePAM no
// refuses accounts whose password field starts with '!').
void ensure_other_user() {
  if (::geteuid() != 0) return;
  const std::string user = LocalSshd::kOtherUser;
  shell(absl::StrCat("id ", user, " >/dev/null 2>&1 || useradd -m -s /bin/sh ", user));
  shell(absl::StrCat("usermod -p '*' ", user));
}

}  // namespace

int bind_loopback_port(int socket) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof address;
  if (::bind(socket, reinterpret_cast<sockaddr*>(&address), size) != 0 ||
      ::getsockname(socket, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
    throw std::runtime_error(absl::StrCat("cannot bind a socket on 127.0.0.1: ",
                                          std::strerror(errno)));
  }
  return ntohs(address.sin_port);
}

std::string shell(const std::string& command) {
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("popen failed: " + command);
  std::string out;
  char buffer[4096];
  for (size_t count; (count = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) {
    out.append(buffer, count);
  }
  const int status = ::pclose(pipe);
  if (status != 0) throw std::runtime_error(absl::StrCat("`", command, "` failed: ", out));
  return out;
}

LocalSshd::LocalSshd(SshdLimits limits) : limits_(std::move(limits)) {
  char pattern[] = "/tmp/aj-sshd-XXXXXX";
  if (::mkdtemp(pattern) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = pattern;
  try {
    prepare();
    start();
    wait_listening();
  } catch (...) {
    stop();  // no destructor runs for a constructor that throws
    throw;
  }
}

void LocalSshd::prepare() {
  shell(absl::StrCat("chmod 1777 ", dir_));  // like /tmp: the non-root account writes here
  for (const char* key : {"host_key", "user_key", "wrong_key"}) {
    shell(absl::StrCat("ssh-keygen -q -t ed25519 -N '' -C ", key, " -f ", dir_, "/", key));
  }
  shell(absl::StrCat("cp ", dir_, "/user_key.pub ", dir_, "/authorized_keys && chmod 644 ", dir_,
                     "/authorized_keys"));
  ensure_other_user();
  ::mkdir("/run/sshd", 0755);
  port_ = free_port();
}

void LocalSshd::start() {
  const std::string config = dir_ + "/sshd_config";
  write_file(config, absl::StrCat("Port ", port_, "\nListenAddress 127.0.0.1\nHostKey ", dir_,
                                  "/host_key\nAuthorizedKeysFile ", dir_,
                                  "/authorized_keys\nPidFile ", dir_,
                                  "/sshd.pid\nUsePAM no\nStrictModes no\n"
                                  "PermitRootLogin prohibit-password\n"
                                  "PasswordAuthentication no\nKbdInteractiveAuthentication no\n"
                                  "AllowTcpForwarding yes\nLogLevel VERBOSE\n"
                                  "Subsystem sftp internal-sftp\n"));
  std::ofstream out(config, std::ios::app);
  if (limits_.max_sessions > 0) out << "MaxSessions " << limits_.max_sessions << "\n";
  if (!limits_.max_startups.empty()) out << "MaxStartups " << limits_.max_startups << "\n";
  out.close();
  if (!out) throw std::runtime_error("cannot write " + config);
  const std::string log_file = dir_ + "/sshd.log";
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    ::execl("/usr/sbin/sshd", "/usr/sbin/sshd",  // re-exec needs the absolute path
            "-D", "-f", config.c_str(), "-E", log_file.c_str(),
            static_cast<char*>(nullptr));
    std::_Exit(127);
  }
}

void LocalSshd::wait_listening() {
  const absl::Time deadline = absl::Now() + kStartTimeout;
  while (!accepts_connections(port_)) {
    int status;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("sshd exited at start: " + log());
    }
    if (absl::Now() > deadline) throw std::runtime_error("sshd does not listen: " + log());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

LocalSshd::~LocalSshd() { stop(); }

void LocalSshd::stop() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  if (!dir_.empty() && std::system(absl::StrCat("rm -rf ", dir_).c_str()) != 0) {
    std::fprintf(stderr, "cannot remove %s\n", dir_.c_str());
  }
}

NodeOptions LocalSshd::node_options(const std::string& user) const {
  NodeOptions options;
  options.host = "127.0.0.1";
  options.port = port_;
  options.user = user;
  options.identities = {user_key()};
  options.known_hosts = dir_ + "/known_hosts";
  options.host_key_check = HostKeyCheck::kAcceptNew;
  options.connect_timeout = absl::Seconds(60);
  return options;
}

std::string LocalSshd::log() const {
  std::ifstream in(dir_ + "/sshd.log");
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace asyncjobs::ssh::testing
