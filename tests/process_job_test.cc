#include "asyncjobs/process_job.h"

#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "asyncjobs/asyncjobs.h"
#include "gtest/gtest.h"
#include "tests/open_fds.h"

namespace aj = asyncjobs;

namespace {

using aj::testing::open_fd_count;

#ifdef ASYNCJOBS_TEST_POLLED_EXITS
// process_job_polled_test: every test again, with exits polled as without pidfd_open.
const bool kPolledExits = [] { return setenv("ASYNCJOBS_NO_PIDFD", "1", 1) == 0; }();
#else
const bool kPolledExits = false;
#endif

// Options running `argv`, otherwise default. (Designated initializers would make g++ 12
// warn about every member left out.)
aj::ProcessOptions command(std::vector<std::string> argv, std::string stdin_data = "") {
  aj::ProcessOptions options;
  options.argv = std::move(argv);
  options.stdin_data = std::move(stdin_data);
  return options;
}

aj::ProcessOptions shell(std::string script) { return command({"sh", "-c", std::move(script)}); }

// Not critical, cancelled after 0.2 s.
aj::SchedulerOptions timing_out() {
  aj::SchedulerOptions options;
  options.critical = false;
  options.timeout = absl::Milliseconds(200);
  return options;
}

// Processes of group `pgid` that are not zombies (orphans whose reaper is slow stay zombies).
int live_members_of_group(pid_t pgid) {
  int live = 0;
  DIR* dir = opendir("/proc");
  while (dirent* entry = readdir(dir)) {
    std::ifstream stat(std::string("/proc/") + entry->d_name + "/stat");
    std::string line;
    if (entry->d_name[0] < '1' || entry->d_name[0] > '9' || !std::getline(stat, line)) continue;
    char state;
    int ppid, pgrp;
    if (sscanf(line.c_str() + line.rfind(')') + 1, " %c %d %d", &state, &ppid, &pgrp) == 3 &&
        pgrp == pgid && state != 'Z') {
      ++live;
    }
  }
  closedir(dir);
  return live;
}

// `pid` was reaped and nothing of its process group runs any more.
void expect_gone(pid_t pid) {
  ASSERT_GT(pid, 0);
  const int result = kill(pid, 0);
  const int error = errno;
  EXPECT_EQ(result, -1);
  EXPECT_EQ(error, ESRCH);
  // The rest of the group was sent SIGKILL: the kernel ends them asynchronously, so give
  // it a generous bound (2 shared cores under load) rather than a single look.
  const aj::Watch watch;
  while (live_members_of_group(pid) > 0 && watch.seconds() < 10) usleep(1000);
  EXPECT_EQ(live_members_of_group(pid), 0);
}

// Descriptors of this process that are pidfds.
int open_pidfd_count() { return open_fd_count("anon_inode:[pidfd]"); }

// A script that prints its pid, then runs `rest`; `pid` receives the first line.
aj::ProcessOptions reporting_pid(const std::string& rest, pid_t& pid) {
  aj::ProcessOptions options = shell("echo $$; " + rest);
  options.on_stdout = [&pid](std::string_view line) {
    if (pid == 0) pid = std::stoi(std::string(line));
  };
  return options;
}

// The exit is watched through a pidfd where the kernel has pidfd_open, polled otherwise
// (ASYNCJOBS_NO_PIDFD forces that: process_job_polled_test runs this file so).
TEST(ProcessJobTest, ExitIsWatchedThroughAPidfdUnlessPolled) {
  int pidfds_while_running = -1;
  aj::ProcessOptions options = shell("echo started; sleep 0.2");
  options.on_stdout = [&](std::string_view) { pidfds_while_running = open_pidfd_count(); };
  aj::run_process(options);
  EXPECT_EQ(pidfds_while_running, kPolledExits ? 0 : 1);
  EXPECT_EQ(open_pidfd_count(), 0);
}

TEST(ProcessJobTest, EchoOutputIsCaptured) {
  const aj::ProcessResult result = aj::run_process(command({"echo", "hello", "world"}));
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.signal, 0);
  EXPECT_EQ(result.out, "hello world\n");
  EXPECT_EQ(result.err, "");
}

TEST(ProcessJobTest, LineCallbacksComeInOrderWithTheLastUnterminatedLine) {
  std::vector<std::string> out, err;
  aj::ProcessOptions options = shell("printf 'a\\n\\nb\\n'; echo oops >&2; printf c");
  options.on_stdout = [&](std::string_view line) { out.emplace_back(line); };
  options.on_stderr = [&](std::string_view line) { err.emplace_back(line); };
  const aj::ProcessResult result = aj::run_process(options);
  EXPECT_EQ(out, (std::vector<std::string>{"a", "", "b", "c"}));
  EXPECT_EQ(err, std::vector<std::string>{"oops"});
  EXPECT_EQ(result.out, "a\n\nb\nc");
  EXPECT_EQ(result.err, "oops\n");
}

// About 1 MiB of numbered lines: more than a pipe holds, so writing and reading interleave.
std::string big_input() {
  std::string data;
  for (int i = 0; data.size() < 1 << 20; ++i) data += std::to_string(i) + "\n";
  return data;
}

TEST(ProcessJobTest, StdinDataRoundTripsThroughCat) {
  const std::string data = big_input();
  aj::ProcessOptions options = command({"cat"}, data);
  int lines = 0;
  options.on_stdout = [&](std::string_view) { ++lines; };
  EXPECT_EQ(aj::run_process(options).out, data);
  EXPECT_EQ(lines, std::count(data.begin(), data.end(), '\n'));
}

TEST(ProcessJobTest, TwoCatsRoundTripInJobsAtOnce) {
  const std::string data = big_input();
  auto first = std::make_shared<aj::ProcessJob>(command({"cat"}, data));
  auto second = std::make_shared<aj::ProcessJob>(command({"cat"}, data));
  aj::Scheduler scheduler{first, second};
  EXPECT_TRUE(scheduler.run());
  EXPECT_EQ(first->result<aj::ProcessResult>().out, data);
  EXPECT_EQ(second->result<aj::ProcessResult>().out, data);
}

TEST(ProcessJobTest, StdinDataTheChildDoesNotReadIsDropped) {
  // Its stdin closes while data is pending: the write fails with EPIPE, SIGPIPE is swallowed.
  EXPECT_EQ(aj::run_process(command({"true"}, std::string(1 << 20, 'x'))).exit_code, 0);
}

TEST(ProcessJobTest, EnvironmentIsAddedAndWorkingDirectoryIsSet) {
  setenv("ASYNCJOBS_INHERITED", "kept", 1);
  aj::ProcessOptions options = shell("echo $ASYNCJOBS_INHERITED $ASYNCJOBS_ADDED $HOME; pwd -P");
  options.environment = {{"ASYNCJOBS_ADDED", "added"}, {"HOME", "/nowhere"}};
  char* root = realpath("/", nullptr);
  options.working_directory = root;
  EXPECT_EQ(aj::run_process(options).out, std::string("kept added /nowhere\n") + root + "\n");
  free(root);
}

TEST(ProcessJobTest, NonZeroExitWithCheckThrowsProcessError) {
  try {
    aj::run_process(shell("echo partial; exit 3"));
    FAIL() << "no ProcessError";
  } catch (const aj::ProcessError& error) {
    EXPECT_EQ(error.result().exit_code, 3);
    EXPECT_EQ(error.result().out, "partial\n");
    EXPECT_STREQ(error.what(), "`sh -c echo partial; exit 3` exited with code 3");
  }
}

TEST(ProcessJobTest, NonZeroExitWithoutCheckReturnsTheResult) {
  aj::ProcessOptions options = shell("exit 3");
  options.check = false;
  const aj::ProcessResult result = aj::run_process(options);
  EXPECT_EQ(result.exit_code, 3);
  EXPECT_EQ(result.signal, 0);
}

TEST(ProcessJobTest, KilledBySignal) {
  aj::ProcessOptions options = shell("kill -KILL $$");
  options.check = false;
  const aj::ProcessResult result = aj::run_process(options);
  EXPECT_EQ(result.exit_code, -1);
  EXPECT_EQ(result.signal, SIGKILL);
  options.check = true;
  try {
    aj::run_process(options);
    FAIL() << "no ProcessError";
  } catch (const aj::ProcessError& error) {
    EXPECT_EQ(error.result().signal, SIGKILL);
    EXPECT_STREQ(error.what(), "`sh -c kill -KILL $$` was killed by signal 9 (SIGKILL)");
  }
}

TEST(ProcessJobTest, MissingProgramThrowsInTheParent) {
  try {
    aj::run_process(command({"asyncjobs-no-such-program", "x"}));
    FAIL() << "no exception";
  } catch (const std::system_error& error) {
    EXPECT_EQ(error.code().value(), ENOENT);
    EXPECT_EQ(std::string(error.what()).find("cannot run `asyncjobs-no-such-program x`"), 0u)
        << error.what();
  }
  aj::ProcessOptions nowhere = command({"true"});
  nowhere.working_directory = "/no/such/dir";
  EXPECT_THROW(aj::run_process(nowhere), std::system_error);
  EXPECT_THROW(aj::run_process({}), std::invalid_argument);
}

TEST(ProcessJobTest, NoDescriptorLeaks) {
  const int before = open_fd_count();
  aj::run_process(command({"cat"}, "x"));
  EXPECT_THROW(aj::run_process(shell("exit 1")), aj::ProcessError);
  EXPECT_THROW(aj::run_process(command({"asyncjobs-no-such-program"})), std::system_error);
  EXPECT_EQ(open_fd_count(), before);
}

TEST(ProcessJobTest, ThrowingCallbackTerminatesTheChild) {
  pid_t pid = 0;
  aj::ProcessOptions options = reporting_pid("exec sleep 30", pid);
  options.on_stdout = [&pid](std::string_view line) {
    pid = std::stoi(std::string(line));
    throw std::runtime_error("enough");
  };
  const aj::Watch watch;
  EXPECT_THROW(aj::run_process(options), std::runtime_error);  // outside a job: blocking waits
  EXPECT_LT(watch.seconds(), 5);
  expect_gone(pid);
}

TEST(ProcessJobTest, ProcessJobResultIsAProcessResult) {
  auto echo = aj::make_process_job({"echo", "hi"});
  aj::JobOptions not_critical;
  not_critical.critical = false;
  auto failing = aj::make_process_job({"false"}, not_critical);
  auto in_job = aj::make_job([] { return aj::run_process(command({"echo", "inside"})).out; });
  aj::Scheduler scheduler{echo, failing, in_job};
  EXPECT_TRUE(scheduler.run());
  EXPECT_EQ(echo->result<aj::ProcessResult>().out, "hi\n");
  EXPECT_EQ(echo->details(), "echo hi");
  EXPECT_THROW(failing->result(), aj::ProcessError);
  EXPECT_EQ(in_job->result<std::string>(), "inside\n");
}

TEST(ProcessJobTest, FiftyMegabytesOfStdoutAreCaptured) {
  auto job = aj::make_process_job({"head", "-c", "52428800", "/dev/zero"});
  aj::Scheduler scheduler{job};
  EXPECT_TRUE(scheduler.run());
  EXPECT_EQ(job->result<aj::ProcessResult>().out.size(), 52428800u);
}

TEST(ProcessJobTest, ThreeHundredConcurrentProcessJobsLeaveNoDescriptor) {
  const int before = open_fd_count();
  auto scheduler = aj::make_scheduler();
  std::vector<std::shared_ptr<aj::ProcessJob>> jobs;
  for (int i = 0; i < 300; ++i) {
    jobs.push_back(aj::make_process_job({"sh", "-c", "echo $$"}));
    scheduler->add(jobs.back());
  }
  EXPECT_TRUE(scheduler->run());
  for (const auto& job : jobs) EXPECT_EQ(job->result<aj::ProcessResult>().exit_code, 0);
  EXPECT_EQ(open_fd_count(), before);
}

TEST(ProcessJobTest, ProcessJobsRunConcurrently) {
  auto scheduler = aj::make_scheduler();
  std::vector<std::shared_ptr<aj::ProcessJob>> jobs;
  for (int i = 0; i < 3; ++i) {
    jobs.push_back(aj::make_process_job({"sleep", "0.3"}));
    scheduler->add(jobs.back());
  }
  const aj::Watch watch;
  EXPECT_TRUE(scheduler->run());
  EXPECT_GE(watch.seconds(), 0.29);
  EXPECT_LT(watch.seconds(), 0.8);
  for (const auto& job : jobs) EXPECT_EQ(job->result<aj::ProcessResult>().exit_code, 0);
}

TEST(ProcessJobTest, CancelledProcessJobLeavesNoProcessBehind) {
  pid_t pid = 0;
  auto job = std::make_shared<aj::ProcessJob>(reporting_pid("exec sleep 30", pid));
  aj::Scheduler scheduler({job}, timing_out());
  const aj::Watch watch;
  EXPECT_FALSE(scheduler.run());
  EXPECT_LT(watch.seconds(), 3);
  EXPECT_TRUE(job->is_cancelled());
  expect_gone(pid);
}

TEST(ProcessJobTest, ChildIgnoringSigtermIsKilledAfterTheGrace) {
  pid_t pid = 0;
  aj::ProcessOptions options = reporting_pid("trap '' TERM; sleep 30; echo survived", pid);
  options.kill_grace = absl::Milliseconds(300);
  auto job = std::make_shared<aj::ProcessJob>(std::move(options));
  aj::Scheduler scheduler({job}, timing_out());
  const aj::Watch watch;
  EXPECT_FALSE(scheduler.run());
  EXPECT_GE(watch.seconds(), 0.45);
  EXPECT_LT(watch.seconds(), 5);
  EXPECT_TRUE(job->is_cancelled());
  expect_gone(pid);
}

}  // namespace
