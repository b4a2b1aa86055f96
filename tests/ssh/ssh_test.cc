// asyncjobs::ssh against a real OpenSSH sshd started by the test on 127.0.0.1.
#include "asyncjobs/ssh.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <iostream>
#include <memory>
#include <system_error>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "asyncjobs/asyncjobs.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/open_fds.h"
#include "tests/ssh/local_sshd.h"
#include "tests/ssh/shared_sshd_test.h"

#if defined(__SANITIZE_ADDRESS__)
// ASan keeps freed blocks (256 MiB by default) to catch uses after free: that would be all
// the peak RSS growth LargeRoundTripStreamsInBoundedMemory measures, not the transfers'.
extern "C" const char* __asan_default_options() { return "quarantine_size_mb=8"; }
#endif

namespace asyncjobs::ssh {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::LocalSshd;
using testing::bind_loopback_port;
using ::asyncjobs::testing::open_fd_count;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_file(const std::string& path, const std::string& content) {
  std::ofstream(path, std::ios::binary) << content;
}

// Lines of one stream, collected by a RunOptions callback.
struct Lines {
  std::vector<std::string> lines;
  auto collector() {
    return [this](const Node&, std::string_view line) { lines.emplace_back(line); };
  }
};

// A /proc file, or "" once its process is gone (std::ifstream throws for that).
std::string read_proc_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  std::string content;
  char buffer[4096];
  for (ssize_t count; (count = ::read(fd, buffer, sizeof buffer)) > 0;) content.append(buffer, count);
  ::close(fd);
  return content;
}

// Whether a process other than this one has `marker` in its command line.
bool process_with(const std::string& marker) {
  DIR* dir = ::opendir("/proc");
  bool found = false;
  for (dirent* entry; !found && (entry = ::readdir(dir)) != nullptr;) {
    const int pid = std::atoi(entry->d_name);
    if (pid <= 0 || pid == ::getpid()) continue;
    std::string command_line = read_proc_file(absl::StrCat("/proc/", pid, "/cmdline"));
    std::replace(command_line.begin(), command_line.end(), '\0', ' ');
    found = command_line.find(marker) != std::string::npos;
  }
  ::closedir(dir);
  return found;
}

// The message of the ConnectionError `job` raised (a failure if it raised anything else).
std::string connection_error_of(const AbstractJob& job) {
  if (job.raised_exception() == nullptr) {
    ADD_FAILURE() << "no exception";
    return "";
  }
  try {
    std::rethrow_exception(job.raised_exception());
  } catch (const ConnectionError& error) {
    return error.what();
  } catch (const std::exception& other) {
    ADD_FAILURE() << "not a ConnectionError: " << other.what();
  }
  return "";
}

auto discard() {
  return [](const Node&, std::string_view) {};
}

class SshTest : public SharedSshdTest {
 protected:
  void SetUp() override {
    SharedSshdTest::SetUp();
    if (HasFatalFailure()) return;
    fds_at_start_ = open_fd_count();
  }
  void TearDown() override {
    if (sshd_ == nullptr) return;
    EXPECT_EQ(open_fd_count(), fds_at_start_) << "file descriptors left open";
  }

  // Most tests log in as the non-root account, whose /bin/sh starts fast (root's shell may
  // read a heavy ~/.bashrc on every command).
  std::shared_ptr<Node> node(const std::string& user = LocalSshd::kOtherUser) {
    return make_node(sshd_->node_options(user));
  }
  // Runs `jobs` in a scheduler; returns what run() returned.
  static bool run_jobs(std::initializer_list<Schedulable> jobs, SchedulerOptions options = {}) {
    Scheduler scheduler(jobs, std::move(options));
    return scheduler.run();
  }

  int fds_at_start_ = 0;
};

TEST_F(SshTest, NameIsUserHostPort) {
  EXPECT_EQ(node("root")->name(), absl::StrCat("root@127.0.0.1:", sshd_->port()));
}

TEST_F(SshTest, ExitCodesAndAllowedExits) {
  auto host = node();
  auto job = make_ssh_job(host, {ssh::Run{"true"}, ssh::Run{"exit 3", {.allowed_exits = {0, 3}}},
                                 ssh::Run{"exit 4", {.check = false}}});
  ASSERT_TRUE(run_jobs({job}));
  const auto results = job->result<std::vector<CommandResult>>();
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[0].exit_code, 0);
  EXPECT_EQ(results[1].exit_code, 3);
  EXPECT_EQ(results[2].exit_code, 4);

  auto failing = make_ssh_job(host, {ssh::Run{"echo before; exit 5"}}, {.critical = false});
  EXPECT_TRUE(run_jobs({failing}));
  try {
    std::rethrow_exception(failing->raised_exception());
  } catch (const CommandFailedError& error) {
    EXPECT_THAT(error.what(), HasSubstr(host->name()));
    EXPECT_THAT(error.what(), HasSubstr("`echo before; exit 5` exited with code 5"));
    EXPECT_EQ(error.result().exit_code, 5);
    EXPECT_EQ(error.result().out, "before\n");
  }
  host->close();
}

TEST_F(SshTest, ExitSignalIsReported) {
  auto host = node();
  const CommandResult result = host->run("kill -s TERM $$", {.check = false});
  EXPECT_EQ(result.signal, "TERM");
  EXPECT_EQ(result.exit_code, -1);
  try {
    host->run("kill -s KILL $$");
    ADD_FAILURE() << "no exception";
  } catch (const CommandFailedError& error) {
    EXPECT_THAT(error.what(), HasSubstr("killed by signal KILL"));
  }
  host->close();
}

TEST_F(SshTest, StdoutAndStderrLinesInOrder) {
  auto host = node();
  Lines out, err;
  RunOptions options{.on_stdout = out.collector(), .on_stderr = err.collector()};
  CommandResult result;
  auto job = make_job([&] {
    result = host->run("for i in 1 2 3; do echo out$i; echo err$i >&2; done; printf tail",
                       options);
  });
  ASSERT_TRUE(run_jobs({job}));
  EXPECT_THAT(out.lines, ElementsAre("out1", "out2", "out3", "tail"));
  EXPECT_THAT(err.lines, ElementsAre("err1", "err2", "err3"));
  EXPECT_EQ(result.out, "out1\nout2\nout3\ntail");
  EXPECT_EQ(result.err, "err1\nerr2\nerr3\n");
  host->close();
}

TEST_F(SshTest, DefaultOutputIsPrefixedWithTheHost) {
  auto host = node();
  ::testing::internal::CaptureStdout();
  host->run("echo hello; echo world");
  const std::string printed = ::testing::internal::GetCapturedStdout();
  EXPECT_EQ(printed, "127.0.0.1:hello\n127.0.0.1:world\n");
  host->close();
}

TEST_F(SshTest, StdinIsFedThenClosed) {
  auto host = node();
  std::string big(300 * 1000, 'x');  // more than one channel window's worth of packets
  for (size_t i = 0; i < big.size(); i += 100) big[i] = '\n';
  CommandResult small, large;
  auto job = make_job([&] {
    small = host->run("tr a-z A-Z", {.stdin_data = "hello\nssh\n", .on_stdout = discard()});
    large = host->run("wc -c", {.stdin_data = big, .on_stdout = discard()});
  });
  ASSERT_TRUE(run_jobs({job}));
  EXPECT_EQ(small.out, "HELLO\nSSH\n");
  EXPECT_EQ(large.out, absl::StrCat(big.size(), "\n"));
  host->close();
}

TEST_F(SshTest, PushThenPullRoundTrip) {
  const std::string local = sshd_->dir() + "/local";
  const std::string back = sshd_->dir() + "/back";
  const std::string remote = sshd_->dir() + "/remote dir";
  testing::shell(absl::StrCat("mkdir -p ", local, " ", back));
  std::string binary;
  for (int i = 0; i < 200000; ++i) binary.push_back(static_cast<char>(i * 7 % 256));
  write_file(local + "/data.bin", binary);
  write_file(local + "/script.sh", "#!/bin/sh\necho run\n");
  testing::shell("chmod 750 " + local + "/script.sh");
  auto host = node();
  auto push = make_ssh_job(host, {Push{{local + "/data.bin", local + "/script.sh"}, remote}});
  auto pull = make_ssh_job(
      host, {Pull{{remote + "/data.bin", remote + "/script.sh"}, back}}, {.required = {push}});
  ASSERT_TRUE(run_jobs({push, pull}));
  EXPECT_EQ(read_file(back + "/data.bin"), binary);
  EXPECT_EQ(read_file(back + "/script.sh"), "#!/bin/sh\necho run\n");
  EXPECT_EQ(testing::shell("stat -c %a '" + remote + "/script.sh'"), "750\n");
  host->close();
}

long vm_hwm_kb() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  }
  ADD_FAILURE() << "no VmHWM in /proc/self/status";
  return 0;
}

// Resets the process's peak RSS (VmHWM) to its current RSS.
void reset_peak_rss() {
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5";
}

std::string sha256_of(const std::string& path) {
  return testing::shell("sha256sum < '" + path + "'");
}

TEST_F(SshTest, LargeRoundTripStreamsInBoundedMemory) {
  const std::string local = sshd_->dir() + "/big";
  const std::string remote = sshd_->dir() + "/big remote";
  const std::string back = sshd_->dir() + "/big back";
  testing::shell(absl::StrCat("mkdir -p '", local, "' '", back, "' && head -c 300M /dev/urandom",
                              " > '", local, "/big.bin' && chmod 640 '", local, "/big.bin'"));
  auto host = node();
  host->run("true");
  reset_peak_rss();
  const long peak_before = vm_hwm_kb();
  auto push = make_ssh_job(host, {Push{{local + "/big.bin"}, remote}});
  auto pull = make_ssh_job(host, {Pull{{remote + "/big.bin"}, back}}, {.required = {push}});
  ASSERT_TRUE(run_jobs({push, pull}));
  const long growth_kb = vm_hwm_kb() - peak_before;
  std::cout << "peak RSS growth for a 300 MiB push + pull: " << growth_kb / 1024.0 << " MiB\n";
  EXPECT_LE(growth_kb, 32 * 1024);
  const std::string checksum = sha256_of(local + "/big.bin");
  EXPECT_EQ(sha256_of(remote + "/big.bin"), checksum);
  EXPECT_EQ(sha256_of(back + "/big.bin"), checksum);
  EXPECT_EQ(testing::shell("stat -c %a '" + back + "/big.bin'"), "640\n");
  testing::shell(absl::StrCat("rm -rf '", local, "' '", remote, "' '", back, "'"));
  host->close();
}

// Names in `dir` (not . and ..), sorted.
std::vector<std::string> names_in(const std::string& dir) {
  std::vector<std::string> names;
  if (DIR* handle = ::opendir(dir.c_str())) {
    for (dirent* entry; (entry = ::readdir(handle)) != nullptr;) {
      const std::string name = entry->d_name;
      if (name != "." && name != "..") names.push_back(name);
    }
    ::closedir(handle);
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Runs `transfer`, cancelling it (a critical job fails) once `partial` holds a temporary
// file of 8 MiB or more: half-way through a 128 MiB file.
void cancel_half_way(std::shared_ptr<SshJob> transfer, const std::string& partial) {
  auto stopper = make_job([&] {
    for (;;) {
      for (const std::string& name : names_in(partial)) {
        struct stat status;
        if (::stat((partial + "/" + name).c_str(), &status) == 0 && status.st_size >= (8 << 20)) {
          throw std::runtime_error("stop");
        }
      }
      sleep_for(absl::Milliseconds(5));  // polls the file's size: no event tells it
    }
  });
  Scheduler scheduler({transfer, stopper}, {.critical = false});
  EXPECT_FALSE(scheduler.run());
  EXPECT_TRUE(transfer->is_cancelled());
}

TEST_F(SshTest, CancelledTransfersLeaveNoPartialFile) {
  const std::string local = sshd_->dir() + "/cancel_local";
  const std::string remote = sshd_->dir() + "/cancel_remote";
  testing::shell(absl::StrCat("mkdir -p ", local, " ", remote, " && chmod 777 ", remote,
                              " && head -c 128M /dev/zero > ", local, "/data.bin"));
  auto host = node();
  cancel_half_way(make_ssh_job(host, {Push{{local + "/data.bin"}, remote}}), remote);
  EXPECT_THAT(names_in(remote), ::testing::IsEmpty()) << "a partial or temporary file is left";

  testing::shell(absl::StrCat("mv ", local, "/data.bin ", remote, "/"));
  cancel_half_way(make_ssh_job(host, {Pull{{remote + "/data.bin"}, local}}), local);
  EXPECT_THAT(names_in(local), ::testing::IsEmpty()) << "a partial or temporary file is left";
  testing::shell(absl::StrCat("rm -rf ", local, " ", remote));
  host->close();
}

// What find sees under `dir`: type, mode, path and link target of every entry, then the
// modification time of each one but the symlinks (whose own times are not copied).
std::string tree_of(const std::string& dir) {
  return testing::shell(absl::StrCat("cd '", dir, "' && find . -printf '%y %m %p %l\\n' | sort && ",
                                     "find . ! -type l ! -path . -printf '%T@ %p\\n' | sort"));
}

TEST_F(SshTest, RecursiveRoundTripKeepsModesTimesEmptyDirsAndSymlinks) {
  const std::string local = sshd_->dir() + "/tree_local";
  const std::string remote = sshd_->dir() + "/tree remote";
  const std::string back = sshd_->dir() + "/tree_back";
  testing::shell(absl::StrCat(
      "mkdir -p ", local, "/tree/sub/deeper ", local, "/tree/empty ", back, " && cd ", local,
      "/tree && echo a > a.txt && head -c 100000 /dev/urandom > sub/b.bin && ",
      "echo c > 'sub/with space' && ",
      "ln -s a.txt link && ln -s /nonexistent/target sub/dangling && ",
      "chmod 640 a.txt && chmod 755 sub/b.bin && chmod 700 sub && chmod 750 empty && ",
      "touch -h -d '2001-02-03 04:05:06.123456789' a.txt sub/b.bin 'sub/with space' sub/deeper && ",
      "touch -d '2002-03-04 05:06:07.5' empty sub . link"));
  auto host = node();
  const TransferOptions options{.recursive = true, .preserve_times = true};
  auto push = make_ssh_job(host, {Push{{local + "/tree"}, remote, options}});
  auto pull = make_ssh_job(host, {Pull{{remote + "/tree"}, back, options}}, {.required = {push}});
  ASSERT_TRUE(run_jobs({push, pull}));
  const std::string original = tree_of(local + "/tree");
  EXPECT_THAT(original, HasSubstr("l 777 ./link a.txt"));
  EXPECT_THAT(original, HasSubstr("d 750 ./empty"));
  EXPECT_EQ(tree_of(remote + "/tree"), original);
  EXPECT_EQ(tree_of(back + "/tree"), original);
  EXPECT_EQ(testing::shell(absl::StrCat("cmp '", local, "/tree/sub/b.bin' '", back,
                                        "/tree/sub/b.bin' && echo same")),
            "same\n");
  // Without `recursive` a directory is an error.
  EXPECT_THROW(host->push({local + "/tree"}, remote), std::system_error);
  testing::shell(absl::StrCat("rm -rf '", local, "' '", remote, "' '", back, "'"));
  host->close();
}

TEST_F(SshTest, PullOfAMissingFileFails) {
  auto host = node();
  EXPECT_THROW(host->pull({"/nonexistent/file"}, sshd_->dir()), CommandFailedError);
  host->close();
}

TEST_F(SshTest, RunScriptAndRunString) {
  const std::string script = sshd_->dir() + "/args.sh";
  write_file(script, "#!/bin/sh\necho \"$# args: $1|$2\"\nread line; echo \"got $line\"\n");
  auto host = node();
  Lines lines;
  auto job = make_ssh_job(
      host, {RunScript{script, {"a b", "c'd"}, {.stdin_data = "input\n", .on_stdout = lines.collector()}},
             RunString{"#!/bin/sh\necho \"string $1\"; echo \"$0\" >&2; exit 7", {"x"},
                       {.allowed_exits = {7}, .on_stdout = lines.collector()}}});
  ASSERT_TRUE(run_jobs({job}));
  EXPECT_THAT(lines.lines, ElementsAre("2 args: a b|c'd", "got input", "string x"));
  const auto results = job->result<std::vector<CommandResult>>();
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[1].exit_code, 7);
  // The temporary copy (the script printed its own path) was removed.
  const std::string copy = results[1].err.substr(0, results[1].err.find('\n'));
  EXPECT_THAT(copy, HasSubstr("asyncjobs-"));
  EXPECT_NE(::access(copy.c_str(), F_OK), 0) << copy << " is left behind";
  host->close();
}

TEST_F(SshTest, GatewayHop) {
  auto gateway = node();
  NodeOptions inner_options = sshd_->node_options(LocalSshd::kOtherUser);
  inner_options.gateway = gateway;
  auto inner = make_node(inner_options);
  auto job = make_ssh_job(inner, {ssh::Run{"echo through; echo $SSH_CONNECTION", {.on_stdout = discard()}}});
  auto direct = make_ssh_job(gateway, {ssh::Run{"echo direct", {.on_stdout = discard()}}});
  ASSERT_TRUE(run_jobs({job, direct}));
  const auto results = job->result<std::vector<CommandResult>>();
  EXPECT_THAT(results[0].out, HasSubstr("through\n"));
  // sshd saw the inner connection come from itself (the forwarding), not from us directly.
  EXPECT_THAT(results[0].out, HasSubstr("127.0.0.1"));
  inner->close();
  gateway->close();
}

TEST_F(SshTest, HostKeyStrictRejectsAnUnknownKey) {
  NodeOptions options = sshd_->node_options(LocalSshd::kOtherUser);
  options.known_hosts = sshd_->dir() + "/empty_known_hosts";
  options.host_key_check = HostKeyCheck::kStrict;
  try {
    make_node(options)->run("true");
    ADD_FAILURE() << "no exception";
  } catch (const ConnectionError& error) {
    EXPECT_THAT(error.what(), HasSubstr(absl::StrCat("127.0.0.1:", sshd_->port())));
    EXPECT_THAT(error.what(), HasSubstr("host key unknown"));
  }
}

TEST_F(SshTest, HostKeyAcceptNewLearnsThenStrictAccepts) {
  NodeOptions options = sshd_->node_options(LocalSshd::kOtherUser);
  options.known_hosts = sshd_->dir() + "/learned_known_hosts";
  make_node(options)->run("true");
  EXPECT_THAT(read_file(options.known_hosts),
              HasSubstr(absl::StrCat("[127.0.0.1]:", sshd_->port())));
  options.host_key_check = HostKeyCheck::kStrict;
  EXPECT_EQ(make_node(options)->run("echo ok", {.on_stdout = discard()}).out, "ok\n");
}

TEST_F(SshTest, ChangedHostKeyFailsUnlessInsecure) {
  NodeOptions options = sshd_->node_options(LocalSshd::kOtherUser);
  options.known_hosts = sshd_->dir() + "/wrong_known_hosts";
  // Another ed25519 key recorded for this host:port: what an attacker's server would show.
  const std::string other_key = read_file(sshd_->wrong_key() + ".pub");
  write_file(options.known_hosts, absl::StrCat("[127.0.0.1]:", sshd_->port(), " ", other_key));
  for (HostKeyCheck policy : {HostKeyCheck::kAcceptNew, HostKeyCheck::kStrict}) {
    options.host_key_check = policy;
    try {
      make_node(options)->run("true");
      ADD_FAILURE() << "no exception";
    } catch (const ConnectionError& error) {
      EXPECT_THAT(error.what(), HasSubstr("host key changed"));
    }
  }
  options.host_key_check = HostKeyCheck::kInsecure;
  EXPECT_EQ(make_node(options)->run("true").exit_code, 0);
  EXPECT_EQ(read_file(options.known_hosts).find('\n'), read_file(options.known_hosts).rfind('\n'))
      << "insecure must not write known_hosts";
}

TEST_F(SshTest, ConnectionRefusedNamesHostAndPort) {
  NodeOptions options = sshd_->node_options(LocalSshd::kOtherUser);
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  options.port = bind_loopback_port(listener);
  ::close(listener);  // bound then closed: nothing listens there
  ASSERT_NE(options.port, 0);
  auto job = make_ssh_job(make_node(options), {ssh::Run{"true"}}, {.critical = false});
  run_jobs({job});
  const std::string error = connection_error_of(*job);
  EXPECT_THAT(error, HasSubstr(absl::StrCat("127.0.0.1:", options.port)));
  EXPECT_THAT(error, HasSubstr("connection refused"));
}

TEST_F(SshTest, ConnectTimeoutNamesHostAndPort) {
  // A socket that listens (the kernel completes the TCP handshake) but never sends a banner.
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  NodeOptions options = sshd_->node_options(LocalSshd::kOtherUser);
  options.port = bind_loopback_port(listener);
  ASSERT_NE(options.port, 0);
  ASSERT_EQ(::listen(listener, 8), 0);
  options.connect_timeout = absl::Milliseconds(500);
  const absl::Time start = absl::Now();
  auto job = make_ssh_job(make_node(options), {ssh::Run{"true"}}, {.critical = false});
  run_jobs({job});
  const absl::Duration elapsed = absl::Now() - start;
  ::close(listener);
  EXPECT_GE(elapsed, absl::Milliseconds(450));
  EXPECT_LT(elapsed, absl::Seconds(20));
  const std::string error = connection_error_of(*job);
  EXPECT_THAT(error, HasSubstr(absl::StrCat("127.0.0.1:", options.port)));
  EXPECT_THAT(error, HasSubstr("timeout"));
}

TEST_F(SshTest, WrongKeyIsAnAuthenticationError) {
  NodeOptions options = sshd_->node_options(LocalSshd::kOtherUser);
  options.identities = {sshd_->wrong_key()};
  try {
    make_node(options)->run("true");
    ADD_FAILURE() << "no exception";
  } catch (const ConnectionError& error) {
    EXPECT_THAT(error.what(), HasSubstr(absl::StrCat("127.0.0.1:", sshd_->port())));
    EXPECT_THAT(error.what(), HasSubstr("authentication failed"));
  }
}

// Cancels a long remote command as soon as it has started (a critical job fails then, so
// the scheduler cancels the rest) and checks that it is gone from the process table.
void expect_cancel_kills(std::shared_ptr<Node> host, const std::string& marker) {
  Event started;
  auto long_job = make_ssh_job(
      host, {ssh::Run{absl::StrCat("echo started; sleep ", marker, "; echo never"),
                 {.on_stdout = [&](const Node&, std::string_view) { started.set(); }}}});
  auto stopper = make_job([&] {
    started.wait();
    throw std::runtime_error("stop");
  });
  const absl::Time start = absl::Now();
  // The kill takes a round trip and a remote login shell's start (seconds for a heavy
  // ~/.bashrc): more than the default shutdown_timeout, which shielded cleanup may exceed.
  Scheduler scheduler({long_job, stopper}, {.critical = false});
  EXPECT_FALSE(scheduler.run());
  EXPECT_TRUE(long_job->is_cancelled());
  EXPECT_FALSE(long_job->is_abandoned());
  EXPECT_LT(absl::Now() - start, absl::Seconds(30));
  // Gone by the time the job ended: its channel closed once the command had exited.
  EXPECT_FALSE(process_with("sleep " + marker)) << "the remote `sleep " << marker << "` survived";
  // The node is still usable afterwards.
  EXPECT_EQ(host->run("echo again", {.on_stdout = discard()}).out, "again\n");
  host->close();
}

TEST_F(SshTest, CancelKillsTheRemoteCommandAsRoot) {
  if (::geteuid() != 0) GTEST_FAIL() << "the tests run as root (they log in as root)";
  expect_cancel_kills(node("root"), absl::StrCat(700000 + ::getpid() % 99999));
}

TEST_F(SshTest, CancelKillsTheRemoteCommandAsAnotherUser) {
  expect_cancel_kills(node(LocalSshd::kOtherUser), absl::StrCat(800000 + ::getpid() % 99999));
}

// The most commands that ran at once, from the "+" and "-" lines each appended to `log`
// as it started and ended (O_APPEND: lines do not mix).
int most_at_once(const std::string& log) {
  int now = 0, most = 0;
  for (const char mark : read_file(log)) {
    if (mark == '+') most = std::max(most, ++now);
    if (mark == '-') --now;
  }
  return most;
}

std::string logged(const std::string& log, const std::string& command) {
  return absl::StrCat("echo + >> ", log, "; ", command, "; echo - >> ", log);
}

// With max_sessions 1 no slot is kept for the kill: the command's channel closes first.
TEST_F(SshTest, CancelKillsTheRemoteCommandWithASingleSession) {
  NodeOptions options = sshd_->node_options(LocalSshd::kOtherUser);
  options.max_sessions = 1;
  expect_cancel_kills(make_node(options), absl::StrCat(900000 + ::getpid() % 99999));
}

// Nine commands fill a stock node's slots but the one kept for kills; all cancelled at
// once, each is killed through that slot in turn.
TEST_F(SshTest, CancellingEveryRunningCommandKillsThemAll) {
  auto host = node();
  const std::string marker = absl::StrCat(600000 + ::getpid() % 99999);
  const std::string log = sshd_->dir() + "/nine.log";
  // The timeout only ends a run whose commands never all start.
  Scheduler scheduler({.critical = false, .timeout = absl::Seconds(30)});
  for (int i = 0; i < 9; ++i) {
    scheduler.add(make_ssh_job(host, {ssh::Run{logged(log, "sleep " + marker)}}));
  }
  // Cancelled once all nine have started (polling their log: no event tells it).
  scheduler.add(make_job([&] {
    while (most_at_once(log) < 9) sleep_for(absl::Milliseconds(20));
    throw std::runtime_error("stop");
  }));
  const absl::Time start = absl::Now();
  EXPECT_FALSE(scheduler.run());
  EXPECT_LT(absl::Now() - start, absl::Seconds(60));
  EXPECT_EQ(most_at_once(log), 9);
  EXPECT_FALSE(process_with("sleep " + marker)) << "a remote `sleep " << marker << "` survived";
  EXPECT_EQ(host->run("echo again", {.on_stdout = discard()}).out, "again\n");
  host->close();
}

// Against OpenSSH's stock MaxSessions (10): the node queues its commands.
TEST_F(SshTest, HundredJobsShareOneConnection) {
  auto host = node();
  host->run("true");  // connected: one socket more than at the start
  const int connected_fds = open_fd_count();
  EXPECT_EQ(connected_fds, fds_at_start_ + 1);
  const std::string log = sshd_->dir() + "/hundred.log";
  std::vector<std::shared_ptr<SshJob>> jobs;
  Scheduler scheduler;
  for (int i = 0; i < 100; ++i) {
    const std::string command = logged(log, absl::StrCat("sleep 0.2; echo job", i));
    jobs.push_back(make_ssh_job(host, {ssh::Run{command, {.on_stdout = discard()}}}));
    scheduler.add(jobs.back());
  }
  const absl::Time start = absl::Now();
  ASSERT_TRUE(scheduler.run());
  EXPECT_LT(absl::Now() - start, absl::Seconds(30)) << "the commands did not run concurrently";
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(jobs[i]->result<std::vector<CommandResult>>()[0].out, absl::StrCat("job", i, "\n"));
  }
  const int most = most_at_once(log);
  EXPECT_GE(most, 2);
  EXPECT_LE(most, 10) << "more channels than the server's MaxSessions";
  EXPECT_EQ(open_fd_count(), connected_fds) << "more than one connection";
  host->close();
}

TEST_F(SshTest, PlainRunsFromManyJobsAtOnce) {
  auto host = node();
  std::vector<CommandResult> results(25);
  Scheduler scheduler;
  for (int i = 0; i < 25; ++i) {
    scheduler.add(make_job([&, i] {
      results[i] = host->run(absl::StrCat("sleep 0.1; echo ", i), {.on_stdout = discard()});
    }));
  }
  ASSERT_TRUE(scheduler.run());
  for (int i = 0; i < 25; ++i) EXPECT_EQ(results[i].out, absl::StrCat(i, "\n"));
  host->close();
}

// Stock MaxStartups (10:30:100) drops some of 60 simultaneous handshakes: they are retried.
TEST_F(SshTest, SixtyNodesConnectAtOnce) {
  std::vector<std::shared_ptr<Node>> nodes;
  std::vector<std::shared_ptr<SshJob>> jobs;
  Scheduler scheduler;
  for (int i = 0; i < 60; ++i) {
    nodes.push_back(node());
    const ssh::Run command{absl::StrCat("echo ", i), {.on_stdout = discard()}};
    jobs.push_back(make_ssh_job(nodes.back(), {command}, {.critical = false}));
    scheduler.add(jobs.back());
  }
  scheduler.run();
  int failures = 0;
  for (int i = 0; i < 60; ++i) {
    if (jobs[i]->raised_exception() != nullptr) {
      ++failures;
      ADD_FAILURE() << "node " << i << ": " << connection_error_of(*jobs[i]);
    } else {
      EXPECT_EQ(jobs[i]->result<std::vector<CommandResult>>()[0].out, absl::StrCat(i, "\n"));
    }
  }
  EXPECT_EQ(failures, 0);
  const std::string log = sshd_->log();
  int drops = 0;
  for (size_t at = 0; (at = log.find("past MaxStartups", at)) != std::string::npos; ++at) ++drops;
  std::cout << "handshakes dropped by sshd (MaxStartups) and retried: " << drops << "\n";
  for (auto& each : nodes) each->close();
}

// A server allowing fewer sessions than the node's max_sessions: refused channels wait for
// others to close and are retried.
TEST_F(SshTest, LowerServerMaxSessionsStillRunsEverything) {
  LocalSshd small({.max_sessions = 3});
  auto host = make_node(small.node_options(LocalSshd::kOtherUser));
  const std::string log = small.dir() + "/small.log";
  std::vector<std::shared_ptr<SshJob>> jobs;
  Scheduler scheduler;
  for (int i = 0; i < 20; ++i) {
    const std::string command = logged(log, absl::StrCat("sleep 0.1; echo ", i));
    jobs.push_back(make_ssh_job(host, {ssh::Run{command, {.on_stdout = discard()}}}));
    scheduler.add(jobs.back());
  }
  ASSERT_TRUE(scheduler.run());
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(jobs[i]->result<std::vector<CommandResult>>()[0].out, absl::StrCat(i, "\n"));
  }
  EXPECT_LE(most_at_once(log), 3);
  host->close();
}

// One command at a time (max_sessions 2 keeps a slot for kills): they run in the order
// their jobs asked.
TEST_F(SshTest, QueuedCommandsRunInOrder) {
  NodeOptions options = sshd_->node_options(LocalSshd::kOtherUser);
  options.max_sessions = 2;
  auto host = make_node(options);
  host->run("true");
  const std::string log = sshd_->dir() + "/order.log";
  Scheduler scheduler;
  for (int i = 0; i < 6; ++i) {
    scheduler.add(make_ssh_job(host, {ssh::Run{absl::StrCat("echo ", i, " >> ", log)}}));
  }
  ASSERT_TRUE(scheduler.run());
  EXPECT_EQ(read_file(log), "0\n1\n2\n3\n4\n5\n");
  host->close();
}

// With max_sessions 2 one command runs at a time (one slot stays for kills); a job that
// times out while queued leaves the queue and the next one still runs.
TEST_F(SshTest, CancelledWaiterLeavesTheQueue) {
  NodeOptions options = sshd_->node_options(LocalSshd::kOtherUser);
  options.max_sessions = 2;
  auto host = make_node(options);
  host->run("true");
  auto first = make_ssh_job(host, {ssh::Run{"sleep 1; echo first", {.on_stdout = discard()}}});
  auto waiting = make_ssh_job(host, {ssh::Run{"echo waiting", {.on_stdout = discard()}}},
                              {.critical = false, .timeout = absl::Milliseconds(300)});
  auto last = make_ssh_job(host, {ssh::Run{"echo last", {.on_stdout = discard()}}});
  const absl::Time start = absl::Now();
  ASSERT_TRUE(run_jobs({first, waiting, last}));
  EXPECT_GE(absl::Now() - start, absl::Seconds(1)) << "`last` did not wait for `first`";
  EXPECT_NE(waiting->raised_exception(), nullptr);
  EXPECT_EQ(last->result<std::vector<CommandResult>>()[0].out, "last\n");
  EXPECT_EQ(host->run("echo again", {.on_stdout = discard()}).out, "again\n");
  host->close();
}

TEST_F(SshTest, ConcurrentFirstUsesConnectOnce) {
  auto host = node();
  std::vector<std::shared_ptr<SshJob>> jobs;
  Scheduler scheduler;
  int fds_before = 0;  // in the run: the reactor has descriptors of its own
  scheduler.add(make_job([&] { fds_before = open_fd_count(); }));
  for (int i = 0; i < 10; ++i) {
    jobs.push_back(make_ssh_job(host, {ssh::Run{"echo x", {.on_stdout = discard()}}}));
    scheduler.add(jobs.back());
  }
  int fds_during = 0;
  scheduler.add(make_job([&] { fds_during = open_fd_count(); }, {.required = {jobs[0]}}));
  ASSERT_TRUE(scheduler.run());
  EXPECT_EQ(fds_during, fds_before + 1);
  host->close();
}

}  // namespace
}  // namespace asyncjobs::ssh
