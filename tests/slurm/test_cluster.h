#ifndef ASYNCJOBS_TESTS_SLURM_TEST_CLUSTER_H_
#define ASYNCJOBS_TESTS_SLURM_TEST_CLUSTER_H_

// A real single-node Slurm for the tests: a gtest Environment that starts munged, slurmctld
// and slurmd with cluster.sh in a fresh directory, exports SLURM_CONF, and stops them by pid
// at the end. When the cluster cannot start, `start_error()` says why (cluster.sh's reason and
// the daemons' logs) and every test of `ClusterTest` fails with it: nothing is skipped.

#include <map>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "asyncjobs/slurm.h"
#include "gtest/gtest.h"
#include "tests/slurm/sdiag.h"

namespace asyncjobs::slurm::testing {

class TestCluster : public ::testing::Environment {
 public:
  void SetUp() override;
  void TearDown() override;

  // Why the cluster did not start; empty once it runs.
  static const std::string& start_error() { return start_error_; }
  // A fresh empty directory for one test's scripts and outputs, inside the cluster's.
  static std::string make_work_directory(const std::string& name);

 private:
  static void start();

  static inline std::string directory_;  // short: munge's socket lives in it
  static inline std::string start_error_ = "the test cluster was not set up";
};

// The fixture of tests that need the cluster: fails the test when the cluster is not up.
class ClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(TestCluster::start_error().empty()) << TestCluster::start_error();
  }
  // A fresh work directory named after the running test.
  static std::string make_work_directory();
};

// A batch job's options: `body` run by /bin/sh in `directory`, with `sbatch_args`, polled
// every `poll_interval`.
BatchOptions shell_script(const std::string& directory, const std::string& body,
                          std::vector<std::string> sbatch_args = {},
                          absl::Duration poll_interval = BatchOptions{}.poll_interval);

// What `scontrol show job -o <id>` says of the job's JobState ("" if Slurm does not know it).
std::string scontrol_state(const std::string& job_id);
// True while `squeue` lists the job (pending, running or completing).
bool in_queue(const std::string& job_id);
// The whole content of a file ("" if it cannot be read).
std::string read_file(const std::string& path);

// While alive, `command` found in PATH is a script of `body` (run by /bin/sh with the
// caller's arguments; $REAL is the real command's path), in a directory put first in PATH.
class CommandOverride {
 public:
  CommandOverride(const std::string& directory, const std::string& command,
                  const std::string& body);
  ~CommandOverride();
  CommandOverride(const CommandOverride&) = delete;
  CommandOverride& operator=(const CommandOverride&) = delete;

 private:
  std::string old_path_;
};

// While alive, every call of `command` appends its arguments as one line to a log, then
// runs the real command.
class CommandLog {
 public:
  CommandLog(const std::string& directory, const std::string& command);
  std::vector<std::string> calls() const;  // one line per call, its arguments

 private:
  std::string log_;
  CommandOverride override_;
};

}  // namespace asyncjobs::slurm::testing

#endif  // ASYNCJOBS_TESTS_SLURM_TEST_CLUSTER_H_
