// Batch jobs in runs with a journal, against the real test cluster (see test_cluster.h): their
// results recorded and restored, and re-attaching to the Slurm job an earlier run submitted,
// with the orchestrator (batch_journal_child.cc) killed by SIGKILL while its job runs.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "asyncjobs/asyncjobs.h"
#include "asyncjobs/internal/scheduler/scheduler_journal.h"
#include "asyncjobs/process_job.h"
#include "asyncjobs/slurm.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/slurm/test_cluster.h"

extern char** environ;

namespace aj = asyncjobs;
namespace slurm = asyncjobs::slurm;
using ::testing::ElementsAre;

namespace {

using BatchJournalTest = slurm::testing::ClusterTest;

const auto* const kCluster = ::testing::AddGlobalTestEnvironment(new slurm::testing::TestCluster);

constexpr absl::Duration kPoll = absl::Milliseconds(100);

slurm::BatchOptions shell_script(const std::string& directory, const std::string& body) {
  return slurm::testing::shell_script(directory, body, {"--output=/dev/null"}, kPoll);
}

// A job labelled "batch" that leaves `token` as its pending token in the journal, as a batch
// job does when its run dies, then raises (so that nothing is recorded under its key).
aj::JobPtr pending_token_job(const std::string& token) {
  return aj::make_job(
      [token] {
        aj::internal::record_pending(*aj::current_job(), token);
        throw std::runtime_error("the orchestrator died");
      },
      {.label = "batch"});
}

// The kOutput lines of a run's jobs.
struct OutputLines {
  std::vector<std::string> lines;
  std::function<void(const aj::JobEvent&)> callback() {
    return [this](const aj::JobEvent& event) {
      if (event.kind == aj::JobEvent::Kind::kOutput) lines.emplace_back(event.text);
    };
  }
};

TEST(BatchResultCodecTest, RoundTrips) {
  const slurm::BatchResult result{.job_id = "12", .state = "FAILED", .exit_code = 3, .signal = 9};
  const auto decoded = aj::ResultCodec<slurm::BatchResult>::decode(
      aj::ResultCodec<slurm::BatchResult>::encode(result));
  EXPECT_EQ(decoded.job_id, "12");
  EXPECT_EQ(decoded.state, "FAILED");
  EXPECT_EQ(decoded.exit_code, 3);
  EXPECT_EQ(decoded.signal, 9);

  using Elements = std::vector<slurm::BatchResult>;
  const Elements elements = {{.job_id = "7_0", .state = "COMPLETED"},
                             {.job_id = "7_1", .state = "TIMEOUT", .exit_code = 0, .signal = 15}};
  const Elements back =
      aj::ResultCodec<Elements>::decode(aj::ResultCodec<Elements>::encode(elements));
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[1].job_id, "7_1");
  EXPECT_EQ(back[1].state, "TIMEOUT");
  EXPECT_EQ(back[1].signal, 15);
  EXPECT_TRUE(aj::ResultCodec<Elements>::decode("").empty());

  EXPECT_THROW(aj::ResultCodec<slurm::BatchResult>::decode("2:12"), std::invalid_argument);
  EXPECT_THROW(aj::ResultCodec<slurm::BatchResult>::decode("2:121:x1:a1:0"),
               std::invalid_argument);
  EXPECT_THROW(aj::ResultCodec<Elements>::decode("3:abc"), std::invalid_argument);
}

// A second run restores a BatchJob and a BatchArrayJob that completed: same results, no sbatch.
TEST_F(BatchJournalTest, CompletedBatchJobsAreRestored) {
  const std::string dir = make_work_directory();
  const std::string journal = dir + "/journal";
  slurm::testing::CommandLog sbatch(dir + "/bin", "sbatch");
  auto run = [&] {
    auto job = slurm::make_batch_job(shell_script(dir, "true"), {.label = "plain"});
    auto array = slurm::make_batch_array_job(shell_script(dir, "true"), 2, {.label = "array"});
    aj::Scheduler scheduler({job, array}, {.journal = journal});
    EXPECT_TRUE(scheduler.run());
    return std::make_pair(job, array);
  };

  const auto [first_job, first_array] = run();
  ASSERT_EQ(sbatch.calls().size(), 2u);
  const auto [job, array] = run();

  EXPECT_EQ(sbatch.calls().size(), 2u);
  EXPECT_TRUE(job->restored());
  EXPECT_TRUE(array->restored());
  EXPECT_EQ(job->result<slurm::BatchResult>().job_id, first_job->slurm_job_id());
  EXPECT_EQ(job->result<slurm::BatchResult>().state, "COMPLETED");
  const auto elements = array->result<std::vector<slurm::BatchResult>>();
  ASSERT_EQ(elements.size(), 2u);
  EXPECT_EQ(elements[1].job_id, first_array->slurm_job_id() + "_1");
  EXPECT_EQ(elements[1].state, "COMPLETED");
  EXPECT_EQ(array->format_result(),
            absl::StrCat("2 COMPLETED (Slurm array job ", first_array->slurm_job_id(), ")"));
}

// The journal names a Slurm job that Slurm never knew (or forgot): the job is submitted anew.
TEST_F(BatchJournalTest, SlurmJobNoLongerKnownIsSubmittedAnew) {
  const std::string dir = make_work_directory();
  const std::string journal = dir + "/journal";
  aj::Scheduler died({pending_token_job("slurm:99999999")},
                     {.critical = false, .journal = journal});
  EXPECT_FALSE(died.run());
  slurm::testing::CommandLog sbatch(dir + "/bin", "sbatch");
  OutputLines output;
  auto job = slurm::make_batch_job(shell_script(dir, "true"), {.label = "batch"});
  aj::Scheduler scheduler({job}, {.journal = journal, .on_event = output.callback()});

  EXPECT_TRUE(scheduler.run());

  EXPECT_EQ(sbatch.calls().size(), 1u);
  EXPECT_NE(job->slurm_job_id(), "99999999");
  EXPECT_EQ(job->result<slurm::BatchResult>().state, "COMPLETED");
  ASSERT_GE(output.lines.size(), 2u);
  EXPECT_EQ(output.lines[0], "Slurm job 99999999 (an earlier run's) is no longer known to Slurm");
  EXPECT_EQ(output.lines[1], absl::StrCat("Slurm job ", job->slurm_job_id(), " submitted"));
}

// The Slurm job an earlier run left failed meanwhile: the re-attached job raises its
// BatchError without submitting; having raised, it forgot the id, so the next run submits.
TEST_F(BatchJournalTest, ReattachedJobThatFailedMeanwhileRaisesThenRunsAgain) {
  const std::string dir = make_work_directory();
  const std::string journal = dir + "/journal";
  auto failing = slurm::make_batch_job(shell_script(dir, "exit 3"));
  EXPECT_THROW(failing->standalone_run(), slurm::BatchError);
  const std::string failed_id = failing->slurm_job_id();
  aj::Scheduler died({pending_token_job("slurm:" + failed_id)},
                     {.critical = false, .journal = journal});
  EXPECT_FALSE(died.run());
  slurm::testing::CommandLog sbatch(dir + "/bin", "sbatch");

  auto reattached = slurm::make_batch_job(shell_script(dir, "true"), {.label = "batch"});
  aj::Scheduler second({reattached}, {.critical = false, .journal = journal});
  second.run();
  ASSERT_NE(reattached->raised_exception(), nullptr);
  EXPECT_EQ(sbatch.calls().size(), 0u);
  EXPECT_EQ(reattached->slurm_job_id(), failed_id);
  try {
    std::rethrow_exception(reattached->raised_exception());
  } catch (const slurm::BatchError& error) {
    EXPECT_EQ(error.result().job_id, failed_id);
    EXPECT_EQ(error.result().state, "FAILED");
    EXPECT_EQ(error.result().exit_code, 3);
  } catch (...) {
    ADD_FAILURE() << "not a BatchError";
  }

  auto again = slurm::make_batch_job(shell_script(dir, "true"), {.label = "batch"});
  aj::Scheduler third({again}, {.journal = journal});
  EXPECT_TRUE(third.run());
  EXPECT_EQ(sbatch.calls().size(), 1u);
  EXPECT_NE(again->slurm_job_id(), failed_id);
  EXPECT_EQ(again->result<slurm::BatchResult>().state, "COMPLETED");
}

// --- The orchestrator killed while its Slurm job runs.

std::string child_path() {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  const std::string path = "tests/slurm/batch_journal_child";
  if (srcdir == nullptr || workspace == nullptr) return path;
  return absl::StrCat(srcdir, "/", workspace, "/", path);
}

// The child, its stdout going to `out` (stderr to `out`.err); inherits PATH and SLURM_CONF.
pid_t start_child(const std::string& journal, const std::string& dir, const std::string& kind,
                  const std::string& out) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const std::string err = out + ".err";
  posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const std::string path = child_path();
  std::vector<std::string> args = {path, journal, dir, kind};
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  EXPECT_EQ(posix_spawn(&pid, path.c_str(), &actions, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

int wait_for_exit(pid_t pid) {
  int status = 0;
  EXPECT_EQ(::waitpid(pid, &status, 0), pid);
  return status;
}

// The states squeue lists for the job's elements (one for a plain job).
std::vector<std::string> queue_states(const std::string& job_id) {
  const aj::ProcessResult listed = aj::run_process(
      {.argv = {"squeue", "-h", "--array", "-j", job_id, "-o", "%T"}, .check = false});
  return absl::StrSplit(listed.out, '\n', absl::SkipEmpty());
}

// Polls until `done` holds, for at most a minute (the cluster may be slow on 2 busy cores).
template <class Done>
bool eventually(Done done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // between polls
  }
  return true;
}

// The id in the child's "event Slurm job 12 submitted" line, once it printed it (the id is
// durable in the journal by then); "" before.
std::string submitted_id(const std::string& out, const std::string& name) {
  for (absl::string_view line : absl::StrSplit(slurm::testing::read_file(out), '\n')) {
    if (absl::ConsumePrefix(&line, absl::StrCat("event ", name, " ")) &&
        absl::ConsumeSuffix(&line, " submitted")) {
      return std::string(line);
    }
  }
  return "";
}

std::vector<std::string> lines_of(const std::string& path) {
  return absl::StrSplit(slurm::testing::read_file(path), '\n', absl::SkipEmpty());
}

struct Kind {
  std::string arg;   // the child's argument
  std::string name;  // how its events name the Slurm job
  int elements;
};

class ReattachTest : public slurm::testing::ClusterTest,
                     public ::testing::WithParamInterface<Kind> {};

// Kill the orchestrator (SIGKILL) once its Slurm job runs; the rerun re-attaches to it (no
// second sbatch, the script ran once) and gets its result; a third run restores it.
TEST_P(ReattachTest, RerunAfterKillReattachesToTheRunningSlurmJob) {
  const Kind kind = GetParam();
  const std::string dir = make_work_directory();
  const std::string journal = dir + "/journal";
  slurm::testing::CommandLog sbatch(dir + "/bin", "sbatch");

  const pid_t first = start_child(journal, dir, kind.arg, dir + "/first.out");
  std::string id;
  ASSERT_TRUE(eventually([&] {
    id = submitted_id(dir + "/first.out", kind.name);
    return !id.empty();
  })) << slurm::testing::read_file(dir + "/first.out.err");
  ASSERT_TRUE(eventually([&] {
    const std::vector<std::string> states = queue_states(id);
    return states.size() == size_t(kind.elements) &&
           std::all_of(states.begin(), states.end(),
                       [](const std::string& state) { return state == "RUNNING"; });
  }));
  ::kill(first, SIGKILL);
  const int status = wait_for_exit(first);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  ASSERT_FALSE(queue_states(id).empty()) << "the Slurm job must outlive its orchestrator";

  const pid_t second = start_child(journal, dir, kind.arg, dir + "/second.out");
  EXPECT_EQ(wait_for_exit(second), 0) << slurm::testing::read_file(dir + "/second.out.err");

  const std::vector<std::string> second_out = lines_of(dir + "/second.out");
  ASSERT_FALSE(second_out.empty());
  EXPECT_EQ(second_out.front(), absl::StrCat("event ", kind.name, " ", id, " re-attached"));
  const std::string ids = kind.elements == 1 ? id : absl::StrCat(id, "_0,", id, "_1");
  const std::string states = kind.elements == 1 ? "COMPLETED" : "COMPLETED,COMPLETED";
  EXPECT_EQ(second_out.back(), absl::StrCat("result 0 ", ids, " ", states));
  EXPECT_EQ(sbatch.calls().size(), 1u);
  EXPECT_EQ(lines_of(dir + "/runs").size(), size_t(kind.elements)) << "the script ran again";

  const pid_t third = start_child(journal, dir, kind.arg, dir + "/third.out");
  EXPECT_EQ(wait_for_exit(third), 0) << slurm::testing::read_file(dir + "/third.out.err");
  EXPECT_THAT(lines_of(dir + "/third.out"),
              ElementsAre(absl::StrCat("result 1 ", ids, " ", states)));
  EXPECT_EQ(sbatch.calls().size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(PlainAndArray, ReattachTest,
                         ::testing::Values(Kind{"plain", "Slurm job", 1},
                                           Kind{"array", "Slurm array job", 2}),
                         [](const auto& info) { return info.param.arg; });

}  // namespace
