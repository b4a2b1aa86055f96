// apssh's habits against a real OpenSSH sshd on 127.0.0.1: encrypted keys with a passphrase,
// an ssh_config with an alias and a ProxyJump, the local node, Run labels.
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "asyncjobs/asyncjobs.h"
#include "asyncjobs/ssh.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/ssh/local_sshd.h"
#include "tests/ssh/shared_sshd_test.h"

namespace asyncjobs::ssh {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::LocalSshd;
using testing::shell;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_file(const std::string& path, const std::string& content, mode_t mode = 0644) {
  std::ofstream(path, std::ios::binary) << content;
  ::chmod(path.c_str(), mode);
}

std::string make_temp_dir() {
  char pattern[] = "/tmp/aj-habits-XXXXXX";
  if (::mkdtemp(pattern) == nullptr) throw std::runtime_error("mkdtemp failed");
  return pattern;
}

RunOptions quiet(RunOptions options = {}) {
  options.on_stdout = options.on_stderr = [](const Node&, std::string_view) {};
  return options;
}

// Local TCP ports of this process's sockets (from /proc), to tell a direct connection from
// one a jump host made.
std::set<int> own_local_ports() {
  std::set<std::string> inodes;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code error;
    const std::string target = std::filesystem::read_symlink(entry.path(), error).string();
    if (!error && target.rfind("socket:[", 0) == 0) {
      inodes.insert(target.substr(8, target.size() - 9));
    }
  }
  std::set<int> ports;
  std::istringstream table(read_file("/proc/self/net/tcp") + read_file("/proc/self/net/tcp6"));
  for (std::string line; std::getline(table, line);) {
    const std::vector<std::string> fields = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (fields.size() < 10 || inodes.count(fields[9]) == 0) continue;
    int port = 0;
    if (absl::SimpleHexAtoi(fields[1].substr(fields[1].find(':') + 1), &port)) ports.insert(port);
  }
  return ports;
}

// The client port in $SSH_CONNECTION ("client_ip client_port server_ip server_port").
int client_port(const std::string& ssh_connection) {
  const std::vector<std::string> fields = absl::StrSplit(ssh_connection, ' ', absl::SkipEmpty());
  int port = -1;
  if (fields.size() < 2 || !absl::SimpleAtoi(fields[1], &port)) ADD_FAILURE() << ssh_connection;
  return port;
}

// A /proc file, or "" once its process is gone (std::ifstream throws for that).
std::string read_proc_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  std::string content;
  char buffer[4096];
  for (ssize_t count; (count = ::read(fd, buffer, sizeof buffer)) > 0;) {
    content.append(buffer, count);
  }
  ::close(fd);
  return content;
}

// Whether a process other than this one has `marker` in its command line.
bool process_with(const std::string& marker) {
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string pid = entry.path().filename().string();
    const bool is_pid = !pid.empty() && pid.find_first_not_of("0123456789") == std::string::npos;
    if (!is_pid || pid == std::to_string(::getpid())) continue;
    std::string command_line = read_proc_file(entry.path() / "cmdline");
    std::replace(command_line.begin(), command_line.end(), '\0', ' ');
    if (command_line.find(marker) != std::string::npos) return true;
  }
  return false;
}

class HabitsTest : public SharedSshdTest {
 protected:
  void SetUp() override {
    SharedSshdTest::SetUp();
    if (HasFatalFailure()) return;
    dir_ = make_temp_dir();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // A fresh ed25519 key encrypted with "secret" at `path`, authorized on the test sshd.
  static void make_encrypted_key(const std::string& path) {
    shell(absl::StrCat("ssh-keygen -q -t ed25519 -N secret -C encrypted -f ", path));
    shell(absl::StrCat("cat ", path, ".pub >> ", sshd_->dir(), "/authorized_keys"));
  }
  static NodeOptions other_user() { return sshd_->node_options(LocalSshd::kOtherUser); }

  std::string dir_;
};

TEST_F(HabitsTest, EncryptedKeyIsDecryptedWithThePassphraseAskedOnce) {
  const std::string key = dir_ + "/encrypted_key";
  make_encrypted_key(key);
  NodeOptions options = other_user();
  options.identities = {key};
  std::vector<std::string> asked;
  options.passphrase = [&](const std::string& path) {
    asked.push_back(path);
    return "secret";
  };
  auto node = make_node(options);
  EXPECT_EQ(node->run("echo one", quiet()).out, "one\n");
  EXPECT_EQ(node->run("echo two", quiet()).out, "two\n");
  EXPECT_THAT(asked, ElementsAre(key));
}

TEST_F(HabitsTest, WrongPassphraseIsAConnectionErrorNamingTheKey) {
  const std::string key = dir_ + "/encrypted_key";
  make_encrypted_key(key);
  NodeOptions options = other_user();
  options.identities = {key};
  options.passphrase = [](const std::string&) { return "not the secret"; };
  try {
    make_node(options)->run("true", quiet());
    ADD_FAILURE() << "no exception";
  } catch (const ConnectionError& error) {
    EXPECT_THAT(error.what(), HasSubstr("wrong passphrase for the private key " + key));
  }
  options.passphrase = nullptr;
  try {
    make_node(options)->run("true", quiet());
    ADD_FAILURE() << "no exception";
  } catch (const ConnectionError& error) {
    EXPECT_THAT(error.what(), HasSubstr(key + " is encrypted: set NodeOptions::passphrase"));
  }
}

TEST_F(HabitsTest, PassphraseOfAPlainKeyIsNotAsked) {
  NodeOptions options = other_user();
  int asked = 0;
  options.passphrase = [&](const std::string&) {
    ++asked;
    return "";
  };
  EXPECT_EQ(make_node(options)->run("echo plain", quiet()).out, "plain\n");
  EXPECT_EQ(asked, 0);
}

TEST_F(HabitsTest, PassphraseCallbackExceptionPropagates) {
  const std::string key = dir_ + "/encrypted_key";
  make_encrypted_key(key);
  NodeOptions options = other_user();
  options.identities = {key};
  options.passphrase = [](const std::string&) -> std::string { throw std::logic_error("no tty"); };
  EXPECT_THROW(make_node(options)->run("true", quiet()), std::logic_error);
}

// With no identities, an encrypted ~/.ssh/id_ed25519 is found and decrypted (HOME points to
// a temporary directory; no agent).
TEST_F(HabitsTest, EncryptedDefaultKeyIsDecrypted) {
  const std::string home = dir_ + "/home";
  std::filesystem::create_directories(home + "/.ssh");
  make_encrypted_key(home + "/.ssh/id_ed25519");
  const std::string old_home = std::getenv("HOME") == nullptr ? "" : std::getenv("HOME");
  ::setenv("HOME", home.c_str(), 1);
  ::unsetenv("SSH_AUTH_SOCK");
  NodeOptions options = other_user();
  options.identities.clear();
  std::vector<std::string> asked;
  options.passphrase = [&](const std::string& path) {
    asked.push_back(path);
    return "secret";
  };
  std::string out;
  EXPECT_NO_THROW(out = make_node(options)->run("echo default", quiet()).out);
  ::setenv("HOME", old_home.c_str(), 1);
  EXPECT_EQ(out, "default\n");
  EXPECT_THAT(asked, ElementsAre(home + "/.ssh/id_ed25519"));
}

TEST_F(HabitsTest, ConfigAliasReachedThroughAProxyJumpToItself) {
  const std::string config = dir_ + "/config";
  const std::string host_block = absl::StrCat("  HostName 127.0.0.1\n  Port ", sshd_->port(),
                                              "\n  User ", LocalSshd::kOtherUser,
                                              "\n  IdentityFile ", sshd_->user_key(), "\n");
  write_file(config, absl::StrCat("Host target\n", host_block, "  ProxyJump jumphost\n",
                                  "Host jump*\n", host_block));
  NodeOptions options;
  options.host = "target";
  options.ssh_config = config;
  options.known_hosts = sshd_->dir() + "/known_hosts";
  auto node = make_node(options);
  const std::string name = absl::StrCat(LocalSshd::kOtherUser, "@127.0.0.1:", sshd_->port());
  EXPECT_EQ(node->name(), name);
  ASSERT_NE(node->options().gateway, nullptr);
  EXPECT_EQ(node->options().gateway->name(), name);

  const std::string through = node->run("echo $SSH_CONNECTION", quiet()).out;
  EXPECT_EQ(node->run("echo via the alias", quiet()).out, "via the alias\n");
  // Tunnelled: the target's client socket belongs to the sshd serving the jump, not to us.
  EXPECT_THAT(own_local_ports(), Not(::testing::Contains(client_port(through))));
  // Control: a direct connection's client socket is ours.
  auto direct = make_node(other_user());
  const std::string direct_connection = direct->run("echo $SSH_CONNECTION", quiet()).out;
  EXPECT_THAT(own_local_ports(), ::testing::Contains(client_port(direct_connection)));
}

TEST_F(HabitsTest, ConfigChainOfTwoJumps) {
  const std::string config = dir_ + "/config";
  write_file(config, absl::StrCat("Host *\n  HostName 127.0.0.1\n  Port ", sshd_->port(),
                                  "\n  User ", LocalSshd::kOtherUser, "\n  IdentityFile ",
                                  sshd_->user_key(), "\nHost target\n  ProxyJump j1,j2\n"));
  NodeOptions options;
  options.host = "target";
  options.ssh_config = config;
  options.known_hosts = sshd_->dir() + "/known_hosts";
  auto node = make_node(options);
  ASSERT_NE(node->options().gateway, nullptr);
  ASSERT_NE(node->options().gateway->options().gateway, nullptr);
  EXPECT_EQ(node->run("echo two hops", quiet()).out, "two hops\n");
  const std::string through = node->run("echo $SSH_CONNECTION", quiet()).out;
  EXPECT_THAT(own_local_ports(), Not(::testing::Contains(client_port(through))));
}

// Results of one scenario's commands, in order, as comparable text.
std::vector<std::string> summary(const std::vector<CommandResult>& results) {
  std::vector<std::string> lines;
  for (const CommandResult& result : results) {
    lines.push_back(absl::StrCat(result.exit_code, "|", result.signal, "|", result.out, "|",
                                 result.err));
  }
  return lines;
}

TEST_F(HabitsTest, LocalNodeRunsTheSameSshJobAsARemoteNode) {
  write_file(dir_ + "/data.txt", "some data\n", 0640);
  write_file(dir_ + "/script.sh", "#!/bin/sh\necho \"script $1\"\n", 0755);
  std::vector<std::string> names;
  RunOptions collect;
  collect.on_stdout = collect.on_stderr = [&](const Node& node, std::string_view) {
    names.push_back(node.name());
  };
  auto scenario = [&](const std::string& tag) {
    const std::string remote = absl::StrCat(sshd_->dir(), "/", tag, "-remote");
    const std::string back = absl::StrCat(dir_, "/", tag, "-back");
    std::filesystem::create_directories(back);
    RunOptions input = collect;
    input.stdin_data = "abc\n";
    RunOptions three = collect;
    three.allowed_exits = {0, 3};
    RunOptions unchecked = collect;
    unchecked.check = false;
    return std::vector<Command>{
        ssh::Run{"echo out; echo err >&2", collect},
        ssh::Run{"tr a-z A-Z", input},
        ssh::Run{"exit 3", three},
        ssh::Run{"kill -TERM $$", unchecked},
        RunString{"#!/bin/sh\necho \"$1+$2\"\n", {"x y", "z"}, collect},
        RunScript{dir_ + "/script.sh", {"arg"}, collect},
        Push{{dir_ + "/data.txt"}, remote},
        ssh::Run{absl::StrCat("cat ", remote, "/data.txt; stat -c %a ", remote, "/data.txt"),
                 collect},
        Pull{{remote + "/data.txt"}, back},
    };
  };
  auto local_job = make_ssh_job(make_local_node(), scenario("local"));
  auto remote_job = make_ssh_job(make_node(other_user()), scenario("remote"));
  Scheduler scheduler({local_job, remote_job});
  ASSERT_TRUE(scheduler.run());

  const auto local = summary(local_job->result<std::vector<CommandResult>>());
  EXPECT_EQ(local, summary(remote_job->result<std::vector<CommandResult>>()));
  EXPECT_THAT(local, ElementsAre("0||out\n|err\n", "0||ABC\n|", "3|||", "-1|TERM||",
                                 "0||x y+z\n|", "0||script arg\n|", "0||some data\n640\n|"));
  EXPECT_EQ(read_file(dir_ + "/local-back/data.txt"), "some data\n");
  EXPECT_EQ(read_file(dir_ + "/remote-back/data.txt"), "some data\n");
  EXPECT_EQ(std::count(names.begin(), names.end(), "localhost"), 7);
}

TEST_F(HabitsTest, LocalNodeDefaultOutputAndFailures) {
  auto local = make_local_node();
  EXPECT_EQ(local->name(), "localhost");
  ::testing::internal::CaptureStdout();
  local->run("echo hello");
  EXPECT_EQ(::testing::internal::GetCapturedStdout(), "localhost:hello\n");
  try {
    local->run("exit 4", quiet());
    ADD_FAILURE() << "no exception";
  } catch (const CommandFailedError& error) {
    EXPECT_EQ(error.result().exit_code, 4);
    EXPECT_THAT(error.what(), HasSubstr("localhost: `exit 4` exited with code 4"));
  }
  EXPECT_THROW(local->push({dir_ + "/missing"}, dir_ + "/to"), std::system_error);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/to/missing"));
}

TEST_F(HabitsTest, LocalNodeCancelKillsTheCommand) {
  const std::string marker = absl::StrCat(800000 + ::getpid() % 99999);
  Event started;
  auto long_job = make_ssh_job(
      make_local_node(),
      {ssh::Run{absl::StrCat("echo started; sleep ", marker, "; echo never"),
           {.on_stdout = [&](const Node&, std::string_view) { started.set(); }}}});
  auto stopper = make_job([&] {
    started.wait();
    throw std::runtime_error("stop");
  });
  const absl::Time start = absl::Now();
  Scheduler scheduler({long_job, stopper}, {.critical = false});
  EXPECT_FALSE(scheduler.run());
  EXPECT_TRUE(long_job->is_cancelled());
  EXPECT_LT(absl::Now() - start, absl::Seconds(30));
  // The shell was reaped; its child `sleep`, killed with the group, may take a moment to go.
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (process_with("sleep " + marker) && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_FALSE(process_with("sleep " + marker)) << "the local `sleep " << marker << "` survived";
}

TEST_F(HabitsTest, RunLabelReplacesTheCommandInListings) {
  auto job = make_ssh_job(make_local_node(),
                          {ssh::Run{"apt-get install -y a-very-long-list", {}, "install packages"},
                           ssh::Run{"uname -a"}});
  EXPECT_EQ(job->details(), "localhost\n  install packages\n  uname -a");
}

}  // namespace
}  // namespace asyncjobs::ssh
