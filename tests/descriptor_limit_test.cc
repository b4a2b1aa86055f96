// Out of file descriptors: jobs wait their turn instead of failing. Each scenario runs in a
// forked child whose RLIMIT_NOFILE the test sets (tests/limited_child.h).
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "asyncjobs/asyncjobs.h"
#include "asyncjobs/internal/process/fd.h"
#include "gtest/gtest.h"
#include "tests/limited_child.h"
#include "tests/open_fds.h"

namespace aj = asyncjobs;

namespace {

using aj::testing::ChildOutcome;
using aj::testing::open_fd_count;

int count_of(const std::string& text, const std::string& part) {
  int count = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++count;
  return count;
}

std::string leak_check(int before) {
  const int after = open_fd_count();
  return after == before ? "" : absl::StrCat("open descriptors: ", before, " before, ", after, " after; ");
}

// The limit under which exactly `free` descriptor numbers are left (open ones above the
// limit take no place under it).
rlim_t limit_leaving(int free) {
  std::vector<int> open;
  aj::testing::for_each_open_fd([&](int fd) { open.push_back(fd); });
  for (int limit = free;; ++limit) {
    int below = 0;
    for (int fd : open) below += fd < limit ? 1 : 0;
    if (limit - below == free) return limit;
  }
}

// Opens /dev/null until no descriptor is left; closes them all when destroyed.
struct AllDescriptors {
  std::vector<aj::internal::Fd> held;
  AllDescriptors() {
    for (;;) {
      aj::internal::Fd fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
      if (!fd.is_open()) break;
      held.push_back(std::move(fd));
    }
  }
};

TEST(DescriptorLimitTest, ThousandProcessJobsUnderALimitOf256AllCompleteWithTheirOutput) {
  const ChildOutcome outcome = aj::testing::in_limited_child(256, [] {
    const int before = open_fd_count();
    std::vector<std::shared_ptr<aj::ProcessJob>> jobs;
    bool ran;
    {
      aj::Scheduler scheduler;
      for (int i = 0; i < 1000; ++i) {
        jobs.push_back(aj::make_process_job({"sh", "-c", absl::StrCat("sleep 0.2; echo ", i)}));
        scheduler.add(jobs.back());
      }
      ran = scheduler.run();
    }
    std::string failure = ran ? "" : "run() returned false; ";
    int wrong = 0;
    for (int i = 0; i < 1000; ++i) {
      if (!jobs[i]->is_done() || jobs[i]->raised_exception() != nullptr ||
          jobs[i]->result<aj::ProcessResult>().out != absl::StrCat(i, "\n")) {
        ++wrong;
      }
    }
    if (wrong > 0) absl::StrAppend(&failure, wrong, " job(s) without their output; ");
    jobs.clear();
    return failure + leak_check(before);
  });
  EXPECT_EQ(outcome.failure, "") << outcome.errors;
  // They did run into the limit, and were told once.
  EXPECT_EQ(count_of(outcome.errors, "asyncjobs: out of file descriptors"), 1) << outcome.errors;
  EXPECT_TRUE(absl::StrContains(outcome.errors, "limit of 256 open files")) << outcome.errors;
  EXPECT_TRUE(absl::StrContains(outcome.errors, "jobs holding descriptors at once"))
      << outcome.errors;
}

TEST(DescriptorLimitTest, ThreeHundredCriticalProcessJobsUnderALimitOf128RunToTheEnd) {
  const ChildOutcome outcome = aj::testing::in_limited_child(128, [] {
    const int before = open_fd_count();
    std::string failure;
    {
      aj::Scheduler scheduler;
      for (int i = 0; i < 300; ++i) {
        scheduler.add(aj::make_process_job({"sleep", "0.1"}, {.critical = true}));
      }
      if (!scheduler.run()) failure = absl::StrCat("run() returned false: ", scheduler.why(), "; ");
    }
    return failure + leak_check(before);
  });
  EXPECT_EQ(outcome.failure, "") << outcome.errors;
  EXPECT_EQ(count_of(outcome.errors, "asyncjobs: out of file descriptors"), 1) << outcome.errors;
}

// With one job's worth of descriptors, jobs run one at a time, in the order they asked.
TEST(DescriptorLimitTest, WaitingJobsTakeTheirTurnInOrder) {
  const ChildOutcome outcome = aj::testing::in_limited_child(0, [] {
    // The reactor's epoll and eventfd, then three pipes (two ends each): then the child's
    // ends close and its pidfd and epoll set come, leaving one descriptor, too few for a pipe.
    const rlim_t limit = limit_leaving(8);
    aj::testing::set_nofile_limit(limit, limit);
    const int before = open_fd_count();
    std::vector<int> order;
    {
      aj::Scheduler scheduler;
      for (int i = 0; i < 10; ++i) {
        scheduler.add(aj::make_job([i, &order] {
          aj::ProcessOptions echo;
          echo.argv = {"sh", "-c", "echo x"};
          aj::run_process(echo);
          order.push_back(i);
        }));
      }
      if (!scheduler.run()) return absl::StrCat("run() returned false: ", scheduler.why());
    }
    std::string failure;
    for (int i = 0; i < 10; ++i) {
      if (i >= static_cast<int>(order.size()) || order[i] != i) {
        failure = absl::StrCat("order: ", absl::StrJoin(order, " "), "; ");
        break;
      }
    }
    return failure + leak_check(before);
  });
  EXPECT_EQ(outcome.failure, "") << outcome.errors;
  EXPECT_EQ(count_of(outcome.errors, "asyncjobs: out of file descriptors"), 1) << outcome.errors;
}

// A job whose timeout expires while it waits for descriptors leaves the queue: it ends with
// TimeoutError, and the job behind it still gets its turn.
TEST(DescriptorLimitTest, AJobTimedOutWhileWaitingLeavesTheQueue) {
  const ChildOutcome outcome = aj::testing::in_limited_child(0, [] {
    const rlim_t limit = limit_leaving(8);  // one process job at a time, as above
    aj::testing::set_nofile_limit(limit, limit);
    const int before = open_fd_count();
    std::string failure;
    {
      auto first = aj::make_process_job({"sleep", "0.5"});
      auto impatient = aj::make_process_job(
          {"true"}, {.label = "impatient", .critical = false, .timeout = absl::Milliseconds(100)});
      auto last = aj::make_process_job({"echo", "last"});
      aj::Scheduler scheduler({first, impatient, last});
      if (!scheduler.run()) failure = absl::StrCat("run() returned false: ", scheduler.why(), "; ");
      try {
        impatient->result();
        failure += "the impatient job did not raise; ";
      } catch (const aj::TimeoutError&) {
      } catch (const std::exception& error) {
        absl::StrAppend(&failure, "the impatient job raised: ", error.what(), "; ");
      }
      if (!last->is_done() || last->result<aj::ProcessResult>().out != "last\n") {
        failure += "the last job did not run; ";
      }
    }
    return failure + leak_check(before);
  });
  EXPECT_EQ(outcome.failure, "") << outcome.errors;
  EXPECT_EQ(count_of(outcome.errors, "asyncjobs: out of file descriptors"), 1) << outcome.errors;
}

// The test holds every descriptor left, outside any job: nothing can be released, so the job
// raises at once, and says which job, what limit and how to fix it.
TEST(DescriptorLimitTest, AJobThatCanNeverGetDescriptorsRaisesNamingJobLimitAndFix) {
  const ChildOutcome outcome = aj::testing::in_limited_child(64, [] {
    const int before = open_fd_count();
    std::unique_ptr<AllDescriptors> all;
    std::string failure;
    {
      auto fill = aj::make_job([&all] { all = std::make_unique<AllDescriptors>(); });
      auto needy = aj::make_process_job({"true"}, {.label = "needy"});
      needy->require(fill);
      aj::Scheduler scheduler({fill, needy});
      try {
        scheduler.run();
        failure = "run() did not throw; ";
      } catch (const std::system_error& error) {
        const std::string what = error.what();
        for (const char* part : {"job `needy`", "pipe2", "limit of 64 open files", "ulimit -n",
                                 "jobs window", "no other job holds any"}) {
          if (!absl::StrContains(what, part)) absl::StrAppend(&failure, "no '", part, "' in: ", what, "; ");
        }
        if (error.code().value() != EMFILE) absl::StrAppend(&failure, "code ", error.code().value(), "; ");
      }
      if (all == nullptr || all->held.empty()) failure += "the filler held nothing; ";
    }
    all.reset();
    return failure + leak_check(before);
  });
  EXPECT_EQ(outcome.failure, "") << outcome.errors;
}

// A descriptor held by a job that waits for something nobody will do: the job needing
// descriptors waits (that one might be released), until the run cannot progress; then it
// raises the same clear error instead of the run stalling.
TEST(DescriptorLimitTest, AWaitingJobRaisesOnceTheRunCannotProgress) {
  const ChildOutcome outcome = aj::testing::in_limited_child(64, [] {
    const int before = open_fd_count();
    std::string failure;
    {
      aj::Event never;
      auto holder = aj::make_job([&never] {
        const aj::internal::Fd held = aj::internal::Fd::open(
            [] { return ::open("/dev/null", O_RDONLY | O_CLOEXEC); }, "open");
        AllDescriptors all;
        never.wait();
      });
      auto needy = aj::make_process_job({"true"}, {.label = "needy"});
      aj::Scheduler scheduler({holder, needy});
      try {
        scheduler.run();
        failure = "run() did not throw; ";
      } catch (const std::system_error& error) {
        if (!absl::StrContains(error.what(), "job `needy`")) {
          absl::StrAppend(&failure, "not the needy job's error: ", error.what(), "; ");
        }
      }
    }
    return failure + leak_check(before);
  });
  EXPECT_EQ(outcome.failure, "") << outcome.errors;
  // It did wait first.
  EXPECT_EQ(count_of(outcome.errors, "asyncjobs: out of file descriptors"), 1) << outcome.errors;
}

std::string soft_limit_after_a_run(rlim_t soft) {
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_max <= soft) return "the hard limit is too low for this test";
  aj::testing::set_nofile_limit(soft, limit.rlim_max);
  aj::Scheduler scheduler({aj::make_job([] {})});
  scheduler.run();
  ::getrlimit(RLIMIT_NOFILE, &limit);
  return limit.rlim_cur == limit.rlim_max ? "raised" : absl::StrCat(limit.rlim_cur);
}

TEST(DescriptorLimitTest, TheFirstRunRaisesTheSoftLimitToTheHardLimit) {
  const ChildOutcome outcome = aj::testing::in_limited_child(0, [] {
    const std::string after = soft_limit_after_a_run(64);
    return after == "raised" ? "" : "soft limit after the run: " + after;
  });
  EXPECT_EQ(outcome.failure, "") << outcome.errors;
}

TEST(DescriptorLimitTest, TheEnvironmentKeepsTheSoftLimit) {
  const ChildOutcome outcome = aj::testing::in_limited_child(0, [] {
    ::setenv("ASYNCJOBS_KEEP_NOFILE_LIMIT", "1", 1);
    const std::string after = soft_limit_after_a_run(64);
    return after == "64" ? "" : "soft limit after the run: " + after;
  });
  EXPECT_EQ(outcome.failure, "") << outcome.errors;
}

}  // namespace
