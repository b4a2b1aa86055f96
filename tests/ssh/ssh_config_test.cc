// The OpenSSH client config subset, parsed and resolved without any server.
#include "asyncjobs/ssh/ssh_config.h"

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace asyncjobs::ssh::internal {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(HostMatchesTest, WildcardsNegationAndSeveralPatterns) {
  EXPECT_TRUE(host_matches({"*"}, "anything"));
  EXPECT_TRUE(host_matches({"fit??"}, "fit01"));
  EXPECT_FALSE(host_matches({"fit??"}, "fit001"));
  EXPECT_TRUE(host_matches({"a", "fit*"}, "fit7"));
  EXPECT_FALSE(host_matches({"fit*", "!fit13"}, "fit13"));
  EXPECT_TRUE(host_matches({"fit*", "!fit13"}, "fit12"));
  EXPECT_FALSE(host_matches({"!fit13"}, "other"));  // a negation alone matches nothing
  EXPECT_TRUE(host_matches({"FIT*"}, "fit1"));      // case-insensitive, as OpenSSH
}

TEST(ParseSshConfigTest, FirstValueObtainedWins) {
  const HostConfig config = parse_ssh_config(R"(
# comment
Host web
  HostName 10.0.0.%h
  User alice
  Port 2222
Host w* !worker
  User bob
  Port 22
  ConnectTimeout 7
Host *
  User nobody
  ProxyJump gw
)", "web");
  EXPECT_EQ(config.hostname, "10.0.0.web");
  EXPECT_EQ(config.user, "alice");
  EXPECT_EQ(config.port, 2222);
  EXPECT_EQ(config.connect_timeout, absl::Seconds(7));
  EXPECT_EQ(config.proxy_jump, "gw");
}

TEST(ParseSshConfigTest, NegatedHostSkipsTheBlock) {
  const HostConfig config = parse_ssh_config("Host w* !worker\n  User bob\n", "worker");
  EXPECT_FALSE(config.user.has_value());
}

TEST(ParseSshConfigTest, GlobalLinesEqualsSignQuotesAndCase) {
  const HostConfig config = parse_ssh_config(
      "port=2022\nHOST other\n  user x\nhost h\n  USER = \"y z\"\n  connecttimeout 1m30s\n", "h");
  EXPECT_EQ(config.port, 2022);
  EXPECT_EQ(config.user, "y z");
  EXPECT_EQ(config.connect_timeout, absl::Seconds(90));
}

TEST(ParseSshConfigTest, IdentityFilesAccumulateWithHomeExpanded) {
  ::setenv("HOME", "/home/tester", 1);
  const HostConfig config = parse_ssh_config(
      "Host h\n  IdentityFile ~/.ssh/a\nHost *\n  IdentityFile /keys/%h\n  IdentityFile %d/b\n",
      "h");
  EXPECT_THAT(config.identity_files,
              ElementsAre("/home/tester/.ssh/a", "/keys/h", "/home/tester/b"));
}

TEST(ParseSshConfigTest, MatchBlocksAndUnknownKeywordsAreSkipped) {
  const HostConfig config = parse_ssh_config(
      "ForwardAgent yes\nMatch all\n  User m\nHost *\n  User u\n", "h");
  EXPECT_EQ(config.user, "u");
}

TEST(ParseSshConfigTest, MalformedValueNamesFileAndLine) {
  try {
    parse_ssh_config("Host h\n  Port eighty\n", "h", "/etc/cfg");
    FAIL() << "no exception";
  } catch (const std::invalid_argument& error) {
    EXPECT_THAT(error.what(), HasSubstr("/etc/cfg:2: bad port eighty"));
  }
  EXPECT_THROW(parse_ssh_config("Host h\n  User\n", "h"), std::invalid_argument);
  EXPECT_THROW(parse_ssh_config("Host h\n  ConnectTimeout soon\n", "h"), std::invalid_argument);
}

// A config file in a fresh temporary directory, removed at the end.
class ResolveOptionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/aj-sshcfg-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
    key_ = dir_ + "/key";
    std::ofstream(key_) << "not read here";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  NodeOptions with_config(const std::string& text, const std::string& host) {
    std::ofstream(dir_ + "/config") << text;
    NodeOptions options;
    options.host = host;
    options.ssh_config = dir_ + "/config";
    return options;
  }

  std::string dir_, key_;
};

TEST_F(ResolveOptionsTest, AliasTakesTheFileValues) {
  const NodeOptions options = resolve_options(with_config(
      "Host alias\n  HostName 127.0.0.1\n  User alice\n  Port 2200\n  IdentityFile " + key_ +
          "\n  IdentityFile " + dir_ + "/missing\n  ConnectTimeout 5\n",
      "alias"));
  EXPECT_EQ(options.host, "127.0.0.1");
  EXPECT_EQ(options.user, "alice");
  EXPECT_EQ(options.port, 2200);
  EXPECT_THAT(options.identities, ElementsAre(key_));  // missing files dropped, as OpenSSH
  EXPECT_EQ(options.connect_timeout, absl::Seconds(5));
  EXPECT_EQ(options.gateway, nullptr);
  EXPECT_EQ(Node(options).name(), "alice@127.0.0.1:2200");
}

TEST_F(ResolveOptionsTest, ExplicitOptionsWinOverTheFile) {
  NodeOptions explicit_options = with_config(
      "Host alias\n  HostName h\n  User alice\n  Port 2200\n  IdentityFile " + key_ +
          "\n  ConnectTimeout 5\n  ProxyJump gw\n",
      "alias");
  explicit_options.user = "bob";
  explicit_options.port = 2;
  explicit_options.identities = {"/other"};
  explicit_options.connect_timeout = absl::Seconds(9);
  auto gateway = make_node({.host = "explicit-gw"});
  explicit_options.gateway = gateway;
  const NodeOptions options = resolve_options(explicit_options);
  EXPECT_EQ(options.host, "h");
  EXPECT_EQ(options.user, "bob");
  EXPECT_EQ(options.port, 2);
  EXPECT_THAT(options.identities, ElementsAre("/other"));
  EXPECT_EQ(options.connect_timeout, absl::Seconds(9));
  EXPECT_EQ(options.gateway, gateway);
}

TEST_F(ResolveOptionsTest, NoConfigChangesNothing) {
  NodeOptions options;
  options.host = "alias";
  EXPECT_EQ(resolve_options(options).host, "alias");
}

TEST_F(ResolveOptionsTest, ProxyJumpBecomesAResolvedGateway) {
  NodeOptions given = with_config(
      "Host target\n  HostName 10.1.1.1\n  ProxyJump jumper@gw:2022\nHost gw\n  HostName "
      "gw.example.org\n  IdentityFile " + key_ + "\n",
      "target");
  given.known_hosts = dir_ + "/known";
  given.host_key_check = HostKeyCheck::kStrict;
  const NodeOptions options = resolve_options(given);
  ASSERT_NE(options.gateway, nullptr);
  EXPECT_EQ(options.gateway->name(), "jumper@gw.example.org:2022");
  EXPECT_THAT(options.gateway->options().identities, ElementsAre(key_));
  EXPECT_EQ(options.gateway->options().known_hosts, dir_ + "/known");
  EXPECT_EQ(options.gateway->options().host_key_check, HostKeyCheck::kStrict);
  EXPECT_EQ(options.gateway->options().gateway, nullptr);
}

TEST_F(ResolveOptionsTest, ChainOfJumpsAndJumpsOfJumps) {
  const NodeOptions chain = resolve_options(
      with_config("Host target\n  ProxyJump a,b\nHost *\n  User u\n", "target"));
  ASSERT_NE(chain.gateway, nullptr);
  EXPECT_EQ(chain.gateway->name(), "u@b:22");
  ASSERT_NE(chain.gateway->options().gateway, nullptr);
  EXPECT_EQ(chain.gateway->options().gateway->name(), "u@a:22");

  const NodeOptions nested = resolve_options(
      with_config("Host target\n  ProxyJump a\nHost a\n  ProxyJump b\n", "target"));
  ASSERT_NE(nested.gateway, nullptr);
  ASSERT_NE(nested.gateway->options().gateway, nullptr);
  EXPECT_EQ(nested.gateway->options().gateway->options().host, "b");
}

TEST_F(ResolveOptionsTest, ProxyJumpNoneAndLoops) {
  EXPECT_EQ(resolve_options(with_config("Host *\n  ProxyJump none\n", "t")).gateway, nullptr);
  try {
    resolve_options(with_config("Host *\n  ProxyJump t\n", "t"));
    FAIL() << "no exception";
  } catch (const std::invalid_argument& error) {
    EXPECT_THAT(error.what(), HasSubstr("loop"));
  }
}

TEST_F(ResolveOptionsTest, UnreadableFileIsAnError) {
  NodeOptions options;
  options.host = "h";
  options.ssh_config = dir_ + "/nope";
  EXPECT_THROW(Node{options}, std::invalid_argument);
}

}  // namespace
}  // namespace asyncjobs::ssh::internal
