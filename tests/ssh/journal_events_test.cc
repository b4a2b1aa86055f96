// SshJob in a journaled run (restored, not run again), its output lines as job events, and
// the local node's recursive copies, against a real OpenSSH sshd on 127.0.0.1.
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
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
using testing::LocalSshd;
using testing::shell;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

RunOptions quiet(RunOptions options = {}) {
  options.on_stdout = options.on_stderr = [](const Node&, std::string_view) {};
  return options;
}

class JournalEventsTest : public SharedSshdTest {
 protected:
  void SetUp() override {
    SharedSshdTest::SetUp();
    if (HasFatalFailure()) return;
    char pattern[] = "/tmp/aj-journal-events-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string dir_;
};

TEST(SshResultCodecTest, RoundTripsEveryField) {
  const std::vector<CommandResult> results = {
      {0, "", "out\nwith:colons 3:", ""}, {-1, "TERM", "", "err\0x"}, {42, "", "", ""}};
  using Codec = ResultCodec<std::vector<CommandResult>>;
  const std::vector<CommandResult> back = Codec::decode(Codec::encode(results));
  ASSERT_EQ(back.size(), results.size());
  for (size_t i = 0; i < results.size(); ++i) {
    EXPECT_EQ(back[i].exit_code, results[i].exit_code);
    EXPECT_EQ(back[i].signal, results[i].signal);
    EXPECT_EQ(back[i].out, results[i].out);
    EXPECT_EQ(back[i].err, results[i].err);
  }
  EXPECT_TRUE(Codec::decode("").empty());
  EXPECT_THROW(Codec::decode("1:0"), std::invalid_argument);  // one field of four
}

// The command appends to a file on the server: a second execution would show.
TEST_F(JournalEventsTest, SshJobIsRestoredFromTheJournalAndNotRunAgain) {
  const std::string journal = dir_ + "/journal.db";
  const std::string side_effect = dir_ + "/runs";
  const std::string command = absl::StrCat("echo ran >> ", side_effect, "; echo out; echo err >&2; exit 3");
  const auto run_once = [&] {
    auto host = make_node(sshd_->node_options());
    auto job = make_ssh_job(host, {ssh::Run{command, quiet({.allowed_exits = {3}})}, ssh::Run{"echo two", quiet()}},
                            {.label = "remote"});
    Scheduler scheduler({job}, {.journal = journal});
    EXPECT_TRUE(scheduler.run());
    host->close();
    return job;
  };
  const auto first = run_once();
  ASSERT_TRUE(first->is_done());
  EXPECT_FALSE(first->restored());
  const auto second = run_once();
  EXPECT_TRUE(second->restored());
  EXPECT_EQ(read_file(side_effect), "ran\n") << "the command ran again";
  const auto& ran = first->result<std::vector<CommandResult>>();
  const auto& results = second->result<std::vector<CommandResult>>();
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].exit_code, 3);
  EXPECT_EQ(results[0].out, "out\n");
  EXPECT_THAT(results[0].err, ::testing::EndsWith("err\n"));  // after the login shell's noise
  EXPECT_EQ(results[0].err, ran[0].err);
  EXPECT_EQ(results[1].out, "two\n");
}

// Lines of both streams, whatever the RunOptions callbacks: events in the order they came
// for each stream (the two streams race each other on the wire).
std::vector<std::string> output_events(const std::shared_ptr<Node>& host, RunOptions options) {
  std::vector<std::string> lines;
  const AbstractJob* reported = nullptr;
  auto job = make_ssh_job(host, {ssh::Run{"for i in 1 2 3; do echo line$i; done; echo bad >&2", options},
                                 ssh::Run{"printf 'last'", options}});
  Scheduler scheduler({job}, {.on_event = [&](const JobEvent& event) {
                         if (event.kind != JobEvent::Kind::kOutput) return;
                         reported = event.job;
                         // Only the command's own lines: the remote login shell may add
                         // noise of its own on stderr (a busy machine's profile scripts).
                         if (event.text.starts_with("line") || event.text == "last") {
                           lines.emplace_back(event.text);
                         }
                       }});
  EXPECT_TRUE(scheduler.run());
  EXPECT_EQ(reported, job.get());
  return lines;
}

TEST_F(JournalEventsTest, OutputLinesOfAnSshJobAreReportedInOrder) {
  auto host = make_node(sshd_->node_options());
  EXPECT_THAT(output_events(host, quiet()), ElementsAre("line1", "line2", "line3", "last"));
  std::vector<std::string> seen;
  RunOptions collecting;
  collecting.on_stdout = [&seen](const Node&, std::string_view line) { seen.emplace_back(line); };
  collecting.on_stderr = [](const Node&, std::string_view) {};
  EXPECT_THAT(output_events(host, collecting), ElementsAre("line1", "line2", "line3", "last"));
  EXPECT_THAT(seen, ElementsAre("line1", "line2", "line3", "last"));  // still called
  host->close();
}

TEST_F(JournalEventsTest, OutputLinesOfALocalNodeAreReportedInOrder) {
  EXPECT_THAT(output_events(make_local_node(), quiet()),
              ElementsAre("line1", "line2", "line3", "last"));
}

// Type, mode, path and link target of every entry, then the modification time of each one
// but the symlinks (whose own times are not copied).
std::string tree_of(const std::string& dir) {
  return shell(absl::StrCat("cd '", dir, "' && find . -printf '%y %m %p %l\\n' | sort && ",
                            "find . ! -type l ! -path . -printf '%T@ %p\\n' | sort"));
}

TEST_F(JournalEventsTest, LocalNodeRecursiveRoundTripKeepsModesTimesEmptyDirsAndSymlinks) {
  const std::string local = dir_ + "/local", there = dir_ + "/there dir", back = dir_ + "/back";
  shell(absl::StrCat(
      "mkdir -p ", local, "/tree/sub/deeper ", local, "/tree/empty ", back, " && cd ", local,
      "/tree && echo a > a.txt && head -c 100000 /dev/urandom > sub/b.bin && ",
      "echo c > 'sub/with space' && ln -s a.txt link && ln -s /nonexistent/target sub/dangling && ",
      "chmod 640 a.txt && chmod 755 sub/b.bin && chmod 700 sub && chmod 750 empty && ",
      "touch -h -d '2001-02-03 04:05:06.123456789' a.txt sub/b.bin 'sub/with space' sub/deeper && ",
      "touch -d '2002-03-04 05:06:07.5' empty sub . link"));
  auto host = make_local_node();
  const TransferOptions options{.recursive = true, .preserve_times = true};
  auto push = make_ssh_job(host, {Push{{local + "/tree"}, there, options}});
  auto pull = make_ssh_job(host, {Pull{{there + "/tree"}, back, options}}, {.required = {push}});
  Scheduler scheduler({push, pull});
  ASSERT_TRUE(scheduler.run());
  const std::string original = tree_of(local + "/tree");
  EXPECT_THAT(original, HasSubstr("l 777 ./link a.txt"));
  EXPECT_THAT(original, HasSubstr("l 777 ./sub/dangling /nonexistent/target"));
  EXPECT_THAT(original, HasSubstr("d 750 ./empty"));
  EXPECT_THAT(original, HasSubstr("981173106.1234567890 ./sub/b.bin"));
  EXPECT_EQ(tree_of(there + "/tree"), original);
  EXPECT_EQ(tree_of(back + "/tree"), original);
  EXPECT_EQ(shell(absl::StrCat("cmp ", local, "/tree/sub/b.bin ", back, "/tree/sub/b.bin && echo same")),
            "same\n");
  // Without `recursive` a directory is an error.
  EXPECT_THROW(host->push({local + "/tree"}, there), std::system_error);
}

}  // namespace
}  // namespace asyncjobs::ssh
