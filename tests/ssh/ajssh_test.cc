// //:ajssh end to end: the built binary against the test sshd, reached under several names
// of 127.0.0.1 ("127.0.0.1", "localhost"), as users, ports and files of targets.
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/ssh/local_sshd.h"
#include "tests/ssh/shared_sshd_test.h"

namespace asyncjobs::ssh {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;
using testing::LocalSshd;

constexpr const char* kAjssh = "tools/ajssh";  // in the test's runfiles

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_file(const std::string& path, const std::string& content) {
  std::ofstream(path, std::ios::binary) << content;
}

std::string quote(const std::string& word) {
  std::string quoted = "'";
  for (const char c : word) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

std::vector<std::string> sorted_lines(const std::string& text) {
  std::vector<std::string> lines = absl::StrSplit(text, '\n', absl::SkipEmpty());
  std::sort(lines.begin(), lines.end());
  return lines;
}

struct Outcome {
  int status = -1;  // the exit status
  std::string out, err;
};

class AjsshTest : public SharedSshdTest {
 protected:
  void SetUp() override {
    SharedSshdTest::SetUp();
    if (HasFatalFailure()) return;
    char pattern[] = "/tmp/aj-ajssh-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Runs ajssh with the sshd's key, known_hosts, port and the non-root user as defaults,
  // then `args`.
  Outcome ajssh(const std::vector<std::string>& args) const {
    std::vector<std::string> words = {kAjssh, "-i", sshd_->user_key(), "--known-hosts",
                                      sshd_->dir() + "/known_hosts", "-p",
                                      std::to_string(sshd_->port()), "-u", LocalSshd::kOtherUser};
    words.insert(words.end(), args.begin(), args.end());
    std::vector<std::string> quoted;
    for (const std::string& word : words) quoted.push_back(quote(word));
    const std::string command = absl::StrCat(absl::StrJoin(quoted, " "), " >", dir_, "/out 2>",
                                             dir_, "/err </dev/null");
    const int status = std::system(command.c_str());
    EXPECT_TRUE(WIFEXITED(status)) << command;
    return {WEXITSTATUS(status), read_file(dir_ + "/out"), read_file(dir_ + "/err")};
  }

  // "name:PORT", how ajssh labels a host of the test sshd.
  static std::string label(const std::string& name) {
    return absl::StrCat(name, ":", sshd_->port());
  }

  std::string dir_;
};

TEST_F(AjsshTest, EachHostsLinesPrefixedByItsName) {
  const Outcome outcome = ajssh({"-t", "127.0.0.1", "-t", "localhost", "--", "echo", "hello;",
                                 "whoami;", "echo", "oops", ">&2"});
  EXPECT_EQ(outcome.status, 0) << outcome.err;
  EXPECT_THAT(sorted_lines(outcome.out),
              ElementsAre(label("127.0.0.1") + ":ajtest", label("127.0.0.1") + ":hello",
                          label("localhost") + ":ajtest", label("localhost") + ":hello"));
  EXPECT_THAT(outcome.err, HasSubstr(label("127.0.0.1") + ":oops\n"));
  EXPECT_THAT(outcome.err, HasSubstr(label("localhost") + ":oops\n"));
  EXPECT_THAT(outcome.err, HasSubstr("ajssh: 2 of 2 host(s) succeeded, 0 failed\n"));
}

TEST_F(AjsshTest, FailedHostsNamedWithWhyAndExitStatusOne) {
  // A port nothing listens on: bound, never listening, so connections are refused.
  const int reserved = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int closed_port = testing::bind_loopback_port(reserved);
  write_file(dir_ + "/hosts", absl::StrCat("# lab machines\n127.0.0.1\n\n  root@localhost  # as root\n",
                                           "localhost:", closed_port, "\n"));
  const Outcome outcome = ajssh({"-t", dir_ + "/hosts", "--connect-timeout", "20", "--",
                                 "test $(whoami) = ajtest && echo fine || exit 3"});
  ::close(reserved);
  EXPECT_EQ(outcome.status, 1);
  EXPECT_EQ(outcome.out, label("127.0.0.1") + ":fine\n");
  EXPECT_THAT(outcome.err, HasSubstr("ajssh: root@localhost: exit code 3\n"));
  EXPECT_THAT(outcome.err, MatchesRegex(absl::StrCat("(.|\n)*ajssh: localhost:", closed_port,
                                                     ": connection failed: .*refused(.|\n)*")));
  EXPECT_THAT(outcome.err, Not(HasSubstr("ajssh: 127.0.0.1:")));
  EXPECT_THAT(outcome.err, HasSubstr("ajssh: 1 of 3 host(s) succeeded, 2 failed\n"));
}

TEST_F(AjsshTest, OutDirHoldsOneFilePerHost) {
  const std::string out_dir = dir_ + "/outputs";
  const Outcome outcome = ajssh({"-t", "127.0.0.1", "-t", "localhost", "-d", out_dir, "--",
                                 "echo $((6 * 7)); echo warn >&2"});
  EXPECT_EQ(outcome.status, 0) << outcome.err;
  EXPECT_EQ(outcome.out, "");
  for (const char* name : {"127.0.0.1", "localhost"}) {
    EXPECT_EQ(read_file(out_dir + "/" + label(name)), "42\n") << name;
    EXPECT_EQ(read_file(out_dir + "/" + label(name) + ".err"), "warn\n") << name;
  }
}

TEST_F(AjsshTest, LocalScriptRunsWithItsArguments) {
  write_file(dir_ + "/probe.sh", "#!/bin/sh\necho \"$# args: [$1] [$2] as $(whoami)\"\n");
  const Outcome outcome =
      ajssh({"-t", "127.0.0.1", "-s", dir_ + "/probe.sh", "--", "one", "two words"});
  EXPECT_EQ(outcome.status, 0) << outcome.err;
  EXPECT_EQ(outcome.out, label("127.0.0.1") + ":2 args: [one] [two words] as ajtest\n");
}

TEST_F(AjsshTest, RawAndTimeModes) {
  const Outcome raw = ajssh({"-t", "127.0.0.1", "--raw", "--", "echo", "plain"});
  EXPECT_EQ(raw.status, 0) << raw.err;
  EXPECT_EQ(raw.out, "plain\n");
  const Outcome timed = ajssh({"-t", "127.0.0.1", "--time", "--", "echo", "stamped"});
  EXPECT_EQ(timed.status, 0) << timed.err;
  EXPECT_THAT(timed.out, MatchesRegex(absl::StrCat("[0-9]{2}:[0-9]{2}:[0-9]{2}-",
                                                   label("127.0.0.1"), ":stamped\n")));
}

TEST_F(AjsshTest, GatewayReachesTheHosts) {
  const Outcome outcome = ajssh({"-g", label("127.0.0.1"), "-t", "localhost", "--", "echo", "via"});
  EXPECT_EQ(outcome.status, 0) << outcome.err;
  EXPECT_EQ(outcome.out, label("localhost") + ":via\n");
}

TEST_F(AjsshTest, TimeoutStopsTheRunAndNamesTheHosts) {
  const absl::Time start = absl::Now();
  const Outcome outcome = ajssh({"-t", "127.0.0.1", "--timeout", "2", "--", "sleep", "60"});
  EXPECT_LT(absl::Now() - start, absl::Seconds(40));  // far below the command's 60 s
  EXPECT_EQ(outcome.status, 1);
  EXPECT_THAT(outcome.err, HasSubstr("ajssh: 127.0.0.1: did not finish within --timeout 2s\n"));
}

TEST_F(AjsshTest, PushCopiesTheFilesToEachHost) {
  const std::string remote_dir = sshd_->dir() + "/pushed-" + std::to_string(::getpid());
  write_file(dir_ + "/payload", "some bytes\n");
  const Outcome outcome = ajssh({"-t", "127.0.0.1", "--push", remote_dir, "--", dir_ + "/payload"});
  EXPECT_EQ(outcome.status, 0) << outcome.err;
  EXPECT_EQ(read_file(remote_dir + "/payload"), "some bytes\n");  // the "remote" host is here
  std::filesystem::remove_all(remote_dir);
}

TEST_F(AjsshTest, UsageErrorsExitWithTwo) {
  EXPECT_EQ(ajssh({"-t", "127.0.0.1"}).status, 2);  // no command
  EXPECT_EQ(ajssh({"-t", "127.0.0.1", "--raw", "--time", "--", "true"}).status, 2);
  const Outcome bad_port = ajssh({"-t", "127.0.0.1:http", "--", "true"});
  EXPECT_EQ(bad_port.status, 2);
  EXPECT_THAT(bad_port.err, HasSubstr("ajssh: no port number after ':' in 127.0.0.1:http"));
}

}  // namespace
}  // namespace asyncjobs::ssh
