// Slurm at scale against the real single-node cluster (256 CPUs claimed, see
// test_cluster.h): thousands of batch jobs share one status query per poll interval, job
// arrays, batched cancellation, and jobs whose id Slurm does not know.
#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "asyncjobs/asyncjobs.h"
#include "asyncjobs/slurm.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/slurm/test_cluster.h"

namespace aj = asyncjobs;
namespace slurm = asyncjobs::slurm;
using ::testing::HasSubstr;

namespace {

using ScaleTest = slurm::testing::ClusterTest;

const auto* const kCluster = ::testing::AddGlobalTestEnvironment(new slurm::testing::TestCluster);

// A script that ends at once; its output is not kept (thousands of files otherwise).
slurm::BatchOptions quick_script(const std::string& directory, const std::string& body = "true",
                                 std::vector<std::string> sbatch_args = {}) {
  sbatch_args.push_back("--output=/dev/null");
  return slurm::testing::shell_script(directory, body, std::move(sbatch_args));
}

// The ids Slurm still lists as pending, running or completing, among `ids`.
std::vector<std::string> still_queued(const std::vector<std::string>& ids) {
  const aj::ProcessResult listed = aj::run_process(
      {.argv = {"squeue", "--noheader", "--format=%i", "--jobs=" + absl::StrJoin(ids, ",")},
       .check = false});
  return absl::StrSplit(listed.out, '\n', absl::SkipEmpty());
}

// 2,000 batch jobs polled at the default interval: slurmctld answers about one
// job-information RPC per second of run, not one per job per second (each job polling on
// its own made 5 per job, 10,000 here).
TEST_F(ScaleTest, TwoThousandBatchJobsShareOneStatusQueryPerInterval) {
  const std::string dir = make_work_directory();
  std::vector<aj::JobPtr> jobs;
  for (int i = 0; i < 2000; ++i) jobs.push_back(slurm::make_batch_job(quick_script(dir)));
  aj::Scheduler scheduler({.timeout = absl::Minutes(5)});
  for (const aj::JobPtr& job : jobs) scheduler.add(job);
  const auto before = slurm::testing::rpc_counts();
  const absl::Time start = absl::Now();

  ASSERT_TRUE(scheduler.run());

  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  const auto after = slurm::testing::rpc_counts();
  for (const aj::JobPtr& job : jobs) {
    ASSERT_EQ(job->result<slurm::BatchResult>().state, "COMPLETED");
  }
  const long job_info = slurm::testing::job_info_rpcs(after) - slurm::testing::job_info_rpcs(before);
  EXPECT_LE(job_info, 3 * seconds + 3)
      << "in " << seconds << " s: " << slurm::testing::rpc_difference(before, after);
  EXPECT_THAT(slurm::testing::rpc_difference(before, after),
              HasSubstr("REQUEST_SUBMIT_BATCH_JOB 2000"));
  std::cerr << "2,000 batch jobs in " << seconds
            << " s; RPCs: " << slurm::testing::rpc_difference(before, after) << "\n";
}

// 40 batch jobs starting together: their sbatch calls overlap (they do not wait for one
// another) but never more than 8 at a time. The wrapper holds each call 0.2 s so that
// overlaps show; it counts the calls running under flock.
TEST_F(ScaleTest, SubmissionsOverlapButAreBounded) {
  const std::string dir = make_work_directory();
  const std::string count = dir + "/running", peaks = dir + "/peaks", lock = dir + "/lock";
  slurm::testing::CommandOverride counting_sbatch(
      dir + "/bin", "sbatch",
      absl::StrCat("(flock 9; n=$(( $(cat ", count, " 2>/dev/null || echo 0) + 1 )); echo $n > ",
                   count, "; echo $n >> ", peaks, ") 9>", lock, "\n",
                   "sleep 0.2; \"$REAL\" \"$@\"; rc=$?\n",
                   "(flock 9; echo $(( $(cat ", count, ") - 1 )) > ", count, ") 9>", lock, "\n",
                   "exit $rc"));
  aj::Scheduler scheduler;
  for (int i = 0; i < 40; ++i) scheduler.add(slurm::make_batch_job(quick_script(dir)));

  EXPECT_TRUE(scheduler.run());

  int peak = 0;
  for (absl::string_view line : absl::StrSplit(slurm::testing::read_file(peaks), '\n',
                                               absl::SkipEmpty())) {
    int running = 0;
    ASSERT_TRUE(absl::SimpleAtoi(line, &running)) << line;
    peak = std::max(peak, running);
  }
  EXPECT_LE(peak, 8);
  EXPECT_GE(peak, 4) << "sbatch calls barely overlap";
}

// One sbatch for the whole array; the results come in index order.
TEST_F(ScaleTest, ThousandElementArrayCompletesInIndexOrder) {
  const std::string dir = make_work_directory();
  slurm::testing::CommandLog sbatch(dir + "/bin", "sbatch");
  auto array = slurm::make_batch_array_job(quick_script(dir), 1000);

  const auto elements = std::any_cast<std::vector<slurm::BatchResult>>(array->standalone_run());

  EXPECT_EQ(sbatch.calls().size(), 1u);
  ASSERT_EQ(elements.size(), 1000u);
  for (int i = 0; i < 1000; ++i) {
    EXPECT_EQ(elements[i].job_id, absl::StrCat(array->slurm_job_id(), "_", i));
    EXPECT_EQ(elements[i].state, "COMPLETED") << elements[i].job_id;
  }
  EXPECT_EQ(array->format_result(),
            absl::StrCat("1000 COMPLETED (Slurm array job ", array->slurm_job_id(), ")"));
  EXPECT_THAT(array->details(), HasSubstr("--array=0-999"));
}

TEST_F(ScaleTest, FailingArrayElementIsNamedInTheError) {
  const std::string dir = make_work_directory();
  auto array = slurm::make_batch_array_job(
      quick_script(dir, "[ \"$SLURM_ARRAY_TASK_ID\" != 37 ] || exit 4"), 50);

  try {
    array->standalone_run();
    ADD_FAILURE() << "no BatchError";
  } catch (const slurm::BatchError& error) {
    const std::string element = absl::StrCat(array->slurm_job_id(), "_37");
    EXPECT_EQ(std::string(error.what()),
              absl::StrCat("Slurm array job ", array->slurm_job_id(), ": 1 of 50 elements failed: ",
                           element, " FAILED with exit code 4"));
    EXPECT_EQ(error.result().job_id, element);
    EXPECT_EQ(error.result().exit_code, 4);
  }
  EXPECT_THAT(array->details(),
              HasSubstr(absl::StrCat("(Slurm array job ", array->slurm_job_id(),
                                     ": 49 COMPLETED, 1 FAILED)")));
}

// A critical job raises once 500 batch jobs are pending (held back an hour): the run is
// cancelled, the jobs are scancelled in a few calls and none is left in Slurm's queue.
TEST_F(ScaleTest, CancellingFiveHundredPendingJobsUsesFewScancels) {
  const std::string dir = make_work_directory();
  slurm::testing::CommandLog scancel(dir + "/bin", "scancel");
  std::vector<std::shared_ptr<slurm::BatchJob>> batch_jobs;
  std::vector<aj::JobPtr> jobs;
  for (int i = 0; i < 500; ++i) {
    batch_jobs.push_back(
        slurm::make_batch_job(quick_script(dir, "true", {"--begin=now+1hour"})));
    jobs.push_back(batch_jobs.back());
  }
  jobs.push_back(aj::make_job([&] {
    auto submitted = [&] {
      return absl::c_all_of(batch_jobs, [](const auto& job) { return !job->slurm_job_id().empty(); });
    };
    while (!submitted()) aj::sleep_for(absl::Milliseconds(50));
    throw std::runtime_error("enough");
  }));
  aj::Scheduler scheduler({.critical = false, .timeout = absl::Minutes(3)});
  for (const aj::JobPtr& job : jobs) scheduler.add(job);

  EXPECT_FALSE(scheduler.run());

  std::vector<std::string> ids;
  for (const auto& job : batch_jobs) {
    EXPECT_TRUE(job->is_cancelled());
    ids.push_back(job->slurm_job_id());
  }
  EXPECT_EQ(still_queued(ids), std::vector<std::string>{});
  EXPECT_LE(scancel.calls().size(), 5u) << absl::StrJoin(scancel.calls(), "\n");
  EXPECT_EQ(slurm::testing::scontrol_state(ids.front()), "CANCELLED");
  EXPECT_EQ(slurm::testing::scontrol_state(ids.back()), "CANCELLED");
}

TEST_F(ScaleTest, CancelledArrayIsScancelledWhole) {
  const std::string dir = make_work_directory();
  auto array = slurm::make_batch_array_job(quick_script(dir, "true", {"--begin=now+1hour"}), 100);
  aj::Scheduler scheduler({array}, {.critical = false, .timeout = absl::Seconds(2)});

  EXPECT_FALSE(scheduler.run());

  EXPECT_TRUE(array->is_cancelled());
  ASSERT_NE(array->slurm_job_id(), "");
  EXPECT_EQ(still_queued({array->slurm_job_id()}), std::vector<std::string>{});
}

// Slurm holds a job whose launch failed (slurmd overloaded): the poller releases it, and
// gives up after 3 releases with a BatchError, scancelling the job. Here a squeue wrapper
// shows a job held back an hour as held after a failed launch, whatever release does.
TEST_F(ScaleTest, JobHeldAfterFailedLaunchIsReleasedThenGivenUp) {
  const std::string dir = make_work_directory();
  slurm::testing::CommandOverride held_squeue(
      dir + "/bin", "squeue",
      "\"$REAL\" \"$@\" | sed 's/ PENDING 0 BeginTime $/ PENDING 0 launch failed requeued held /'");
  slurm::testing::CommandLog scontrol(dir + "/bin", "scontrol");
  slurm::BatchOptions batch = quick_script(dir, "true", {"--begin=now+1hour"});
  batch.poll_interval = absl::Milliseconds(100);
  auto job = slurm::make_batch_job(batch);

  try {
    job->standalone_run();
    ADD_FAILURE() << "no BatchError";
  } catch (const slurm::BatchError& error) {
    EXPECT_THAT(error.what(), HasSubstr(absl::StrCat("Slurm job ", job->slurm_job_id(),
                                                     " could not be launched")));
    EXPECT_THAT(error.what(), HasSubstr("released 3 times"));
  }
  EXPECT_EQ(scontrol.calls(),
            std::vector<std::string>(3, "release " + job->slurm_job_id()));
  EXPECT_EQ(still_queued({job->slurm_job_id()}), std::vector<std::string>{});
}

// sbatch answers with ids Slurm never gave: each job ends with a BatchError saying so,
// whether it is the only job asked about or one of several.
TEST_F(ScaleTest, JobsWhoseIdVanishedEndWithAClearError) {
  const std::string dir = make_work_directory();
  slurm::testing::CommandOverride fake_sbatch(dir + "/bin", "sbatch",
                                              "cat > /dev/null; echo $(( 900000 + $$ ))");
  for (int count : {1, 3}) {
    std::vector<std::shared_ptr<slurm::BatchJob>> batch_jobs;
    for (int i = 0; i < count; ++i) {
      batch_jobs.push_back(slurm::make_batch_job(
          {.script = "#!/bin/sh\ntrue\n", .poll_interval = absl::Milliseconds(100)},
          {.critical = false}));
    }
    aj::Scheduler scheduler({.critical = false});
    for (const auto& job : batch_jobs) scheduler.add(job);

    scheduler.run();  // true: the jobs that raised were not critical

    for (const auto& job : batch_jobs) {
      try {
        job->result();
        ADD_FAILURE() << "no BatchError";
      } catch (const slurm::BatchError& error) {
        EXPECT_EQ(error.result().job_id, job->slurm_job_id());
        EXPECT_THAT(error.what(), HasSubstr(absl::StrCat("Slurm job ", job->slurm_job_id(),
                                                         " vanished before a final state")));
      }
    }
  }
}

}  // namespace
