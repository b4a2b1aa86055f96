// The ready-made output sinks: called directly with nodes that never connect, and as a real
// command's callbacks on the test sshd.
#include "asyncjobs/ssh_output.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

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

using ::testing::MatchesRegex;
using testing::LocalSshd;

std::shared_ptr<Node> offline_node(const std::string& host, int port = 22) {
  return make_node(NodeOptions{.host = host, .port = port});
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A fresh directory, removed with its contents at the end of the test.
class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/aj-output-XXXXXX";
    path_ = ::mkdtemp(pattern);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(HostLabelTest, HostAloneOnPort22ElseHostAndPort) {
  EXPECT_EQ(host_label(*offline_node("web1")), "web1");
  EXPECT_EQ(host_label(*offline_node("127.0.0.1", 2222)), "127.0.0.1:2222");
}

TEST(OutputSinksTest, HostPrefixSendsEachStreamToItsOwn) {
  std::ostringstream out, err;
  const OutputSinks sinks = host_prefix(out, err);
  const auto web1 = offline_node("web1");
  const auto web2 = offline_node("web2", 2200);
  sinks.on_stdout(*web1, "up 3 days");
  sinks.on_stderr(*web2, "warning");
  sinks.on_stdout(*web2, "");
  EXPECT_EQ(out.str(), "web1:up 3 days\nweb2:2200:\n");
  EXPECT_EQ(err.str(), "web2:2200:warning\n");
}

TEST(OutputSinksTest, RawLinesAreTheLinesAlone) {
  std::ostringstream out, err;
  const OutputSinks sinks = raw_lines(out, err);
  const auto web1 = offline_node("web1");
  sinks.on_stdout(*web1, "a:b");
  sinks.on_stderr(*web1, "oops");
  EXPECT_EQ(out.str(), "a:b\n");
  EXPECT_EQ(err.str(), "oops\n");
}

// Seconds since local midnight of "HH:MM:SS".
int seconds_of_day(const std::string& clock) {
  const std::vector<std::string> parts = absl::StrSplit(clock, ':');
  return std::stoi(parts[0]) * 3600 + std::stoi(parts[1]) * 60 + std::stoi(parts[2]);
}

std::string local_clock(absl::Time time) {
  return absl::FormatTime("%H:%M:%S", time, absl::LocalTimeZone());
}

TEST(OutputSinksTest, TimePrefixIsTheLocalArrivalTime) {
  std::ostringstream out, err;
  const OutputSinks sinks = time_and_host_prefix(out, err);
  const auto web1 = offline_node("web1");
  const absl::Time before = absl::Now();
  sinks.on_stdout(*web1, "hello");
  sinks.on_stderr(*web1, "bye");
  const absl::Time after = absl::Now();
  ASSERT_THAT(out.str(), MatchesRegex("[0-2][0-9]:[0-5][0-9]:[0-6][0-9]-web1:hello\n"));
  EXPECT_THAT(err.str(), MatchesRegex("[0-2][0-9]:[0-5][0-9]:[0-6][0-9]-web1:bye\n"));
  // Within [before, after] on the clock, also across midnight.
  const int stamped = seconds_of_day(out.str().substr(0, 8));
  const int start = seconds_of_day(local_clock(before));
  const int span = static_cast<int>(absl::ToInt64Seconds(after - before)) + 1;
  EXPECT_LE((stamped - start + 86400) % 86400, span) << out.str() << " not between "
                                                     << local_clock(before) << " and "
                                                     << local_clock(after);
}

TEST(OutputSinksTest, FilesPerHostSplitHostsAndStreams) {
  TempDir temp;
  const std::string dir = temp.path() + "/run/1";  // parents created
  const auto web1 = offline_node("web1");
  const auto web2 = offline_node("web2", 2200);
  {
    const OutputSinks sinks = files_per_host(dir);
    const OutputSinks copy = sinks;  // shares the open files
    sinks.on_stdout(*web1, "one");
    copy.on_stdout(*web2, "two");
    sinks.on_stderr(*web1, "err");
    copy.on_stdout(*web1, "three");
  }
  EXPECT_EQ(read_file(dir + "/web1"), "one\nthree\n");
  EXPECT_EQ(read_file(dir + "/web1.err"), "err\n");
  EXPECT_EQ(read_file(dir + "/web2:2200"), "two\n");
  EXPECT_FALSE(std::filesystem::exists(dir + "/web2:2200.err"));  // no stderr line
}

TEST(OutputSinksTest, FilesPerHostTruncateOnFirstLineOfANewSet) {
  TempDir temp;
  const auto web1 = offline_node("web1");
  files_per_host(temp.path()).on_stdout(*web1, "old run");
  files_per_host(temp.path()).on_stdout(*web1, "new run");
  EXPECT_EQ(read_file(temp.path() + "/web1"), "new run\n");
}

TEST(OutputSinksTest, FilesPerHostThrowsNamingAPathItCannotMake) {
  TempDir temp;
  std::ofstream(temp.path() + "/plain") << "a file, not a directory";
  try {
    files_per_host(temp.path() + "/plain/sub");
    FAIL() << "no exception";
  } catch (const std::runtime_error& error) {
    EXPECT_THAT(error.what(), ::testing::HasSubstr(temp.path() + "/plain/sub"));
  }
}

// On a real command: the sinks are what the command's lines go through, and lines of
// several jobs printing at once stay whole.
class OutputSinksSshTest : public SharedSshdTest {
 protected:
  std::shared_ptr<Node> node() const { return make_node(sshd_->node_options(LocalSshd::kOtherUser)); }

};

TEST_F(OutputSinksSshTest, RemoteLinesGoThroughTheSinks) {
  std::ostringstream out, err;
  const OutputSinks sinks = host_prefix(out, err);
  const CommandResult result = node()->run("printf 'a\\nb\\n'; echo e >&2",
                                           RunOptions{.on_stdout = sinks.on_stdout,
                                                      .on_stderr = sinks.on_stderr});
  const std::string label = absl::StrCat("127.0.0.1:", sshd_->port());
  EXPECT_EQ(out.str(), absl::StrCat(label, ":a\n", label, ":b\n"));
  EXPECT_EQ(err.str(), absl::StrCat(label, ":e\n"));
  EXPECT_EQ(result.out, "a\nb\n");  // still collected
}

TEST_F(OutputSinksSshTest, LinesOfConcurrentJobsNeverInterleave) {
  constexpr int kJobs = 4, kLines = 300;
  std::ostringstream out, err;
  const OutputSinks sinks = time_and_host_prefix(out, err);
  TempDir temp;
  const OutputSinks files = files_per_host(temp.path());
  Scheduler scheduler;
  for (int i = 0; i < kJobs; ++i) {
    // Long lines, so that a line spans several channel reads.
    const std::string command =
        absl::StrCat("for i in $(seq ", kLines, "); do printf 'job", i,
                     "-%04d-%0500d\\n' $i 0; done");
    scheduler.add(make_ssh_job(node(), {ssh::Run{command, {.on_stdout = sinks.on_stdout}},
                                        ssh::Run{command, {.on_stdout = files.on_stdout}}}));
  }
  ASSERT_TRUE(scheduler.run());
  const std::vector<std::string> lines = absl::StrSplit(out.str(), '\n', absl::SkipEmpty());
  EXPECT_EQ(lines.size(), static_cast<size_t>(kJobs * kLines));
  const std::string label = absl::StrCat("127.0.0.1:", sshd_->port());
  for (const std::string& line : lines) {
    ASSERT_THAT(line, MatchesRegex(absl::StrCat("[0-9:]{8}-", label, ":job[0-3]-[0-9]{4}-0{500}")));
  }
  // All four jobs' nodes have the same label, hence one file with every line whole.
  const std::vector<std::string> file_lines =
      absl::StrSplit(read_file(absl::StrCat(temp.path(), "/", label)), '\n', absl::SkipEmpty());
  EXPECT_EQ(file_lines.size(), static_cast<size_t>(kJobs * kLines));
  for (const std::string& line : file_lines) {
    ASSERT_THAT(line, MatchesRegex("job[0-3]-[0-9]{4}-0{500}"));
  }
}

}  // namespace
}  // namespace asyncjobs::ssh
