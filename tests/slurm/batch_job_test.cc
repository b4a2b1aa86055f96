// BatchJob against a real single-node Slurm (see test_cluster.h): results, failures,
// cancellation, submission errors and requirements between batch jobs.
#include <signal.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "asyncjobs/asyncjobs.h"
#include "asyncjobs/slurm.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/slurm/test_cluster.h"

namespace aj = asyncjobs;
namespace slurm = asyncjobs::slurm;

namespace {

using BatchJobTest = slurm::testing::ClusterTest;

const auto* const kCluster = ::testing::AddGlobalTestEnvironment(new slurm::testing::TestCluster);

constexpr absl::Duration kPoll = absl::Milliseconds(100);

// A batch job running `body` under /bin/sh in `directory`, polled every kPoll.
std::shared_ptr<slurm::BatchJob> shell_batch_job(const std::string& directory,
                                                 const std::string& body,
                                                 std::vector<std::string> sbatch_args = {},
                                                 aj::JobOptions options = {}) {
  return slurm::make_batch_job(
      slurm::testing::shell_script(directory, body, std::move(sbatch_args), kPoll),
      std::move(options));
}

// The BatchError a standalone run of `job` raises (fails the test if it raises none).
slurm::BatchError run_expecting_batch_error(aj::AbstractJob& job) {
  try {
    job.standalone_run();
  } catch (const slurm::BatchError& error) {
    return error;
  }
  ADD_FAILURE() << "no BatchError";
  return slurm::BatchError("none", {});
}

TEST_F(BatchJobTest, CompletedJobReturnsItsResult) {
  const std::string dir = make_work_directory();
  auto job = shell_batch_job(dir, "echo hello from $SLURM_JOB_ID > out.txt");
  EXPECT_EQ(job->slurm_job_id(), "");

  const auto result = std::any_cast<slurm::BatchResult>(job->standalone_run());

  EXPECT_NE(job->slurm_job_id(), "");
  EXPECT_EQ(result.job_id, job->slurm_job_id());
  EXPECT_EQ(result.state, "COMPLETED");
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.signal, 0);
  EXPECT_EQ(slurm::testing::read_file(dir + "/out.txt"),
            absl::StrCat("hello from ", job->slurm_job_id(), "\n"));
  EXPECT_EQ(job->result<slurm::BatchResult>().job_id, result.job_id);
}

TEST_F(BatchJobTest, NonZeroExitRaisesBatchErrorWithFailedState) {
  auto job = shell_batch_job(make_work_directory(), "exit 3");

  const slurm::BatchError error = run_expecting_batch_error(*job);

  EXPECT_EQ(error.result().job_id, job->slurm_job_id());
  EXPECT_EQ(error.result().state, "FAILED");
  EXPECT_EQ(error.result().exit_code, 3);
  EXPECT_EQ(error.result().signal, 0);
  EXPECT_EQ(std::string(error.what()),
            absl::StrCat("Slurm job ", job->slurm_job_id(), " ended FAILED with exit code 3"));
  EXPECT_THROW(job->result(), slurm::BatchError);
}

TEST_F(BatchJobTest, ScriptKilledBySignalRaisesBatchErrorWithTheSignal) {
  auto job = shell_batch_job(make_work_directory(), "kill -KILL $$");

  const slurm::BatchError error = run_expecting_batch_error(*job);

  EXPECT_EQ(error.result().state, "FAILED");
  EXPECT_EQ(error.result().signal, SIGKILL);
  EXPECT_EQ(std::string(error.what()), absl::StrCat("Slurm job ", job->slurm_job_id(),
                                                    " ended FAILED with exit code 0 and signal 9"));
}

// The scheduler's timeout cancels the batch job, which scancels its Slurm job and waits for
// Slurm to report it ended: once run() returns, the job is CANCELLED and out of the queue,
// and the script's process (if it had started) is gone.
TEST_F(BatchJobTest, SchedulerTimeoutScancelsTheSlurmJob) {
  const std::string dir = make_work_directory();
  auto job = shell_batch_job(dir, "echo $$ > pid\nexec sleep 300");
  aj::Scheduler scheduler({job}, {.critical = false, .timeout = absl::Seconds(4)});

  EXPECT_FALSE(scheduler.run());

  EXPECT_TRUE(job->is_cancelled());
  ASSERT_NE(job->slurm_job_id(), "");
  EXPECT_EQ(slurm::testing::scontrol_state(job->slurm_job_id()), "CANCELLED");
  EXPECT_FALSE(slurm::testing::in_queue(job->slurm_job_id()));
  int pid = 0;
  if (absl::SimpleAtoi(absl::StripAsciiWhitespace(slurm::testing::read_file(dir + "/pid")), &pid)) {
    EXPECT_EQ(::kill(pid, 0), -1) << "the script still runs";
  }
}

TEST_F(BatchJobTest, SbatchRefusalIsAClearError) {
  auto job = shell_batch_job(make_work_directory(), "true", {"--time=not-a-time"});

  const slurm::BatchError error = run_expecting_batch_error(*job);

  EXPECT_EQ(job->slurm_job_id(), "");
  EXPECT_EQ(error.result().state, "");
  EXPECT_EQ(std::string(error.what()),
            "sbatch refused the job (exit code 255): sbatch: error: Invalid --time specification");
}

TEST_F(BatchJobTest, SbatchMissingIsAClearError) {
  const std::string path = std::getenv("PATH");
  ::setenv("PATH", "/nonexistent", 1);
  auto job = shell_batch_job(make_work_directory(), "true");

  const slurm::BatchError error = run_expecting_batch_error(*job);

  ::setenv("PATH", path.c_str(), 1);
  EXPECT_THAT(error.what(), ::testing::HasSubstr("sbatch"));
  EXPECT_THAT(error.what(), ::testing::HasSubstr("No such file or directory"));
  EXPECT_THAT(error.what(), ::testing::HasSubstr("in PATH"));
}

TEST_F(BatchJobTest, MissingWorkingDirectoryIsAClearError) {
  auto job = shell_batch_job(make_work_directory() + "/missing", "true");

  const slurm::BatchError error = run_expecting_batch_error(*job);

  EXPECT_THAT(error.what(), ::testing::HasSubstr("/missing"));
  EXPECT_THAT(error.what(), ::testing::HasSubstr("no such working directory"));
}

// `second` requires `first`: it is submitted only once `first` completed, so its script sees
// `first`'s output. `other` runs meanwhile, unrelated.
TEST_F(BatchJobTest, BatchJobRequiringAnotherStartsAfterIt) {
  const std::string dir = make_work_directory();
  auto first = shell_batch_job(dir, "echo first > first.out", {}, {.label = "first"});
  auto second = shell_batch_job(dir, "cat first.out > second.out && echo second >> second.out", {},
                                {.label = "second", .required = {first}});
  auto other = shell_batch_job(dir, "echo other > other.out", {}, {.label = "other"});
  aj::Scheduler scheduler{first, second, other};

  EXPECT_TRUE(scheduler.run());

  EXPECT_EQ(slurm::testing::read_file(dir + "/second.out"), "first\nsecond\n");
  EXPECT_EQ(slurm::testing::read_file(dir + "/other.out"), "other\n");
  for (const auto& job : {first, second, other}) {
    EXPECT_EQ(job->result<slurm::BatchResult>().state, "COMPLETED") << job->label();
  }
  EXPECT_NE(first->slurm_job_id(), second->slurm_job_id());
}

// The kOutput lines the run reported for `job`.
struct OutputLines {
  const aj::AbstractJob* job = nullptr;
  std::vector<std::string> lines;
  std::function<void(const aj::JobEvent&)> callback() {
    return [this](const aj::JobEvent& event) {
      if (event.kind == aj::JobEvent::Kind::kOutput && event.job == job) {
        lines.emplace_back(event.text);
      }
    };
  }
};

// True if `lines` are some of `order`, in that order, each at most once.
bool in_order(const std::vector<std::string>& lines, const std::vector<std::string>& order) {
  auto next = order.begin();
  for (const std::string& line : lines) {
    next = std::find(next, order.end(), line);
    if (next == order.end()) return false;
    ++next;
  }
  return true;
}

// With on_event, a batch job reports its submission and each state it was seen in, as
// output lines, in order; nothing of what sbatch or squeue print.
TEST_F(BatchJobTest, StateChangesAreReportedAsOutputLines) {
  auto job = shell_batch_job(make_work_directory(), "sleep 3");
  OutputLines output{.job = job.get()};
  aj::Scheduler scheduler({job}, {.on_event = output.callback()});

  EXPECT_TRUE(scheduler.run());

  const std::string name = "Slurm job " + job->slurm_job_id();
  ASSERT_GE(output.lines.size(), 3u) << absl::StrJoin(output.lines, "\n");
  EXPECT_EQ(output.lines.front(), name + " submitted");
  EXPECT_EQ(output.lines.back(), name + " COMPLETED");
  EXPECT_THAT(output.lines, ::testing::Contains(name + " RUNNING"));
  EXPECT_TRUE(in_order(output.lines, {name + " submitted", name + " PENDING", name + " RUNNING",
                                      name + " COMPLETING", name + " COMPLETED"}))
      << absl::StrJoin(output.lines, "\n");
}

// An array reports how many elements are in each state whenever that changes.
TEST_F(BatchJobTest, ArrayStateCountsAreReportedAsOutputLines) {
  auto array = slurm::make_batch_array_job(
      {.script = "#!/bin/sh\nsleep 3\n",
       .working_directory = make_work_directory(),
       .poll_interval = kPoll},
      3);
  OutputLines output{.job = array.get()};
  aj::Scheduler scheduler({array}, {.on_event = output.callback()});

  EXPECT_TRUE(scheduler.run());

  const std::string name = "Slurm array job " + array->slurm_job_id();
  ASSERT_GE(output.lines.size(), 3u) << absl::StrJoin(output.lines, "\n");
  EXPECT_EQ(output.lines.front(), name + " submitted");
  EXPECT_EQ(output.lines.back(), name + ": 3 COMPLETED");
  EXPECT_THAT(output.lines, ::testing::Contains(::testing::HasSubstr("RUNNING")));
  for (size_t i = 1; i < output.lines.size(); ++i) {
    EXPECT_THAT(output.lines[i], ::testing::StartsWith(name + ": "));
    EXPECT_NE(output.lines[i], output.lines[i - 1]);
  }
}

}  // namespace
