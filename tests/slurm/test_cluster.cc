// The single-node cluster of the Slurm tests, and what the tests ask Slurm directly.
#include "tests/slurm/test_cluster.h"

#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/algorithm/container.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "asyncjobs/process_job.h"

namespace asyncjobs::slurm::testing {
namespace {

constexpr char kClusterScript[] = "tests/slurm/cluster.sh";  // in the test's runfiles
// CPUs the node claims: enough for hundreds of short jobs at once (the scale tests).
constexpr char kCpus[] = "256";

ProcessResult run_cluster_script(const std::string& action, const std::string& directory) {
  std::vector<std::string> argv = {kClusterScript, action, directory};
  if (action == "start") argv.push_back(kCpus);
  return run_process({.argv = std::move(argv), .check = false});
}

}  // namespace

void TestCluster::SetUp() {
  try {
    start();
  } catch (const std::exception& error) {
    start_error_ = error.what();
  }
}

void TestCluster::start() {
  char pattern[] = "/tmp/asyncjobs-slurm-XXXXXX";
  if (::mkdtemp(pattern) == nullptr) {
    start_error_ = std::string("mkdtemp: ") + std::strerror(errno);
    return;
  }
  directory_ = pattern;
  const ProcessResult started = run_cluster_script("start", directory_);
  if (started.exit_code != 0) {
    start_error_ = "the test cluster did not start:\n" + started.err;
    return;
  }
  ::setenv("SLURM_CONF", (directory_ + "/slurm.conf").c_str(), 1);
  start_error_.clear();
}

void TestCluster::TearDown() {
  if (directory_.empty()) return;
  try {
    const ProcessResult stopped = run_cluster_script("stop", directory_);
    EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
  } catch (const std::exception& error) {
    ADD_FAILURE() << "cannot stop the test cluster: " << error.what();
  }
  std::filesystem::remove_all(directory_);
}

std::string TestCluster::make_work_directory(const std::string& name) {
  const std::string path = directory_ + "/work/" + name;
  std::filesystem::remove_all(path);
  std::filesystem::create_directories(path);
  return path;
}

std::string ClusterTest::make_work_directory() {
  return TestCluster::make_work_directory(
      ::testing::UnitTest::GetInstance()->current_test_info()->name());
}

BatchOptions shell_script(const std::string& directory, const std::string& body,
                          std::vector<std::string> sbatch_args, absl::Duration poll_interval) {
  return {.script = "#!/bin/sh\n" + body + "\n",
          .sbatch_args = std::move(sbatch_args),
          .working_directory = directory,
          .poll_interval = poll_interval};
}

std::string scontrol_state(const std::string& job_id) {
  const ProcessResult shown =
      run_process({.argv = {"scontrol", "show", "job", "-o", job_id}, .check = false});
  for (absl::string_view field : absl::StrSplit(shown.out, absl::ByAnyChar(" \n"))) {
    if (absl::ConsumePrefix(&field, "JobState=")) return std::string(field);
  }
  return "";
}

bool in_queue(const std::string& job_id) {
  const ProcessResult listed = run_process({.argv = {"squeue", "-h", "-o", "%i"}});
  for (absl::string_view line : absl::StrSplit(listed.out, '\n')) {
    if (line == job_id) return true;
  }
  return false;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

namespace {

// The first `command` in PATH, as the shell would run it.
std::string find_in_path(const std::string& command) {
  for (absl::string_view dir : absl::StrSplit(std::getenv("PATH"), ':', absl::SkipEmpty())) {
    const std::string path = absl::StrCat(dir, "/", command);
    if (::access(path.c_str(), X_OK) == 0) return path;
  }
  return "/nonexistent/" + command;
}

}  // namespace

CommandOverride::CommandOverride(const std::string& directory, const std::string& command,
                                 const std::string& body)
    : old_path_(std::getenv("PATH")) {
  std::filesystem::create_directories(directory);
  const std::string script = directory + "/" + command;
  std::ofstream(script) << "#!/bin/sh\nREAL=" << find_in_path(command) << "\n" << body << "\n";
  std::filesystem::permissions(script, std::filesystem::perms::owner_all);
  ::setenv("PATH", (directory + ":" + old_path_).c_str(), 1);
}

CommandOverride::~CommandOverride() { ::setenv("PATH", old_path_.c_str(), 1); }

CommandLog::CommandLog(const std::string& directory, const std::string& command)
    : log_(directory + "/" + command + ".log"),
      override_(directory, command, "echo \"$*\" >> " + log_ + "\nexec \"$REAL\" \"$@\"") {}

std::vector<std::string> CommandLog::calls() const {
  return absl::StrSplit(read_file(log_), '\n', absl::SkipEmpty());
}

}  // namespace asyncjobs::slurm::testing
