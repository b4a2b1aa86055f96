// Faults injected into the library's system calls (internal/base/fault_injection.h): each gives
// the affected job a clear exception, the rest of the run goes on by the critical rules, and
// nothing leaks (ASan's leak checker in CI; fd counts here).

#include "asyncjobs/internal/base/fault_injection.h"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "asyncjobs/asyncjobs.h"
#include "gtest/gtest.h"
#include "tests/open_fds.h"
#include "tests/test_util.h"

namespace asyncjobs {
namespace {

using internal::Fault;
using internal::inject_fault;
using testing::open_fd_count;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string what(const JobPtr& job) {
  try {
    std::rethrow_exception(job->raised_exception());
  } catch (const std::exception& error) {
    return error.what();
  }
}

// 40 jobs that block at once (each waits until the others have started or failed): past
// the first slab of stacks (16), the next mapping fails once.
struct Blockers {
  static constexpr int kJobs = 40;
  std::vector<JobPtr> jobs;
  int started = 0;
  Event all_in;

  void add_to(Scheduler& scheduler, bool critical) {
    for (int i = 0; i < kJobs; ++i) {
      jobs.push_back(scheduler.add(make_job(
          [this] {
            ++started;
            all_in.wait();
          },
          {.critical = critical})));
    }
    // Sets the event once every blocker has started or could not.
    scheduler.add(make_job(
        [this] {
          while (started + raised() < kJobs) sleep_for(absl::Milliseconds(1));
          all_in.set();
        },
        {.critical = false}));
  }
  int raised() const {
    int count = 0;
    for (const JobPtr& job : jobs) count += job->raised_exception() != nullptr;
    return count;
  }
};

TEST(FaultInjectionTest, NoStackForAJobFailsItAndTheRunGoesOn) {
  std::thread fresh([] {  // stacks are per thread: this one has none yet
    inject_fault(Fault::kStackMap, /*count=*/1, /*skip=*/1);
    Blockers blockers;
    Scheduler scheduler({.critical = false});
    blockers.add_to(scheduler, /*critical=*/false);
    EXPECT_TRUE(scheduler.run());
    for (const JobPtr& job : blockers.jobs) {
      EXPECT_TRUE(job->is_done());
      if (!job->raised_exception()) continue;
      EXPECT_TRUE(contains(what(job), "could not start")) << what(job);
      EXPECT_TRUE(contains(what(job), "fiber stacks")) << what(job);
    }
    EXPECT_GT(blockers.raised(), 0);
    EXPECT_GT(blockers.started, 0);
    EXPECT_EQ(blockers.started + blockers.raised(), Blockers::kJobs);
    // The failure was transient: the next run of the thread gets its stacks.
    Scheduler again({make_job([] { sleep_for(absl::Milliseconds(1)); })});
    EXPECT_TRUE(again.run());
  });
  fresh.join();
}

TEST(FaultInjectionTest, NoStackForACriticalJobFailsTheRun) {
  std::thread fresh([] {
    inject_fault(Fault::kStackMap, 1, 1);
    Blockers blockers;
    Scheduler scheduler;
    blockers.add_to(scheduler, /*critical=*/true);
    try {
      scheduler.run();
      ADD_FAILURE() << "expected the run to throw";
    } catch (const std::runtime_error& error) {
      EXPECT_TRUE(contains(error.what(), "could not start")) << error.what();
    }
    EXPECT_TRUE(scheduler.failed_critical());
  });
  fresh.join();
}

TEST(FaultInjectionTest, NoStackForTheRunItselfThrowsFromRun) {
  std::thread fresh([] {
    inject_fault(Fault::kStackMap, 1);
    Scheduler scheduler({make_job([] {})});
    EXPECT_THROW(scheduler.run(), std::runtime_error);
  });
  fresh.join();
}

TEST(FaultInjectionTest, EpollAndEventfdFailuresThrowFromRunAndLeakNoFd) {
  for (Fault fault : {Fault::kEpollCreate, Fault::kEventFd}) {
    const int before = open_fd_count();
    bool ran = false;
    Scheduler scheduler({make_job([&] { ran = true; })});
    inject_fault(fault);
    try {
      scheduler.run();
      ADD_FAILURE() << "expected a system_error";
    } catch (const std::system_error& error) {
      EXPECT_TRUE(contains(error.what(), "reactor")) << error.what();
    }
    EXPECT_FALSE(ran);
    EXPECT_EQ(open_fd_count(), before);
    EXPECT_TRUE(scheduler.run());  // nothing started: the scheduler can still run
    EXPECT_TRUE(ran);
  }
}

TEST(FaultInjectionTest, NoWorkerThreadFailsTheJobCallingRunInThread) {
  auto threaded = make_job([] { return run_in_thread([] { return 1; }); },
                           {.label = "threaded", .critical = false});
  auto plain = make_job([] { return 2; });
  Scheduler scheduler{threaded, plain};
  inject_fault(Fault::kThreadCreate, 1000);
  EXPECT_TRUE(scheduler.run());
  inject_fault(Fault::kThreadCreate, 0);
  ASSERT_NE(threaded->raised_exception(), nullptr);
  EXPECT_TRUE(contains(what(threaded), "cannot start a worker thread")) << what(threaded);
  EXPECT_EQ(plain->result<int>(), 2);
}

TEST(FaultInjectionTest, SomeWorkerThreadsAreEnough) {
  inject_fault(Fault::kThreadCreate, 1, 1);  // the second thread fails, the others start
  auto threaded = make_job([] { return run_in_thread([] { return 7; }); });
  Scheduler scheduler{threaded};
  EXPECT_TRUE(scheduler.run());
  EXPECT_EQ(threaded->result<int>(), 7);
}

TEST(FaultInjectionTest, ASpawnFailureFailsOnlyThatProcessJob) {
  const int before = open_fd_count();
  auto process = make_process_job({"true"}, {.label = "p", .critical = false});
  auto plain = make_job([] { return 3; });
  Scheduler scheduler{process, plain};
  inject_fault(Fault::kSpawn);
  EXPECT_TRUE(scheduler.run());
  ASSERT_NE(process->raised_exception(), nullptr);
  EXPECT_TRUE(contains(what(process), "cannot run `true`")) << what(process);
  EXPECT_EQ(plain->result<int>(), 3);
  EXPECT_EQ(open_fd_count(), before);  // its pipes were closed
}

// Real fd exhaustion, in a child process whose RLIMIT_NOFILE leaves no room for the pipes.
TEST(FaultInjectionTest, FdExhaustionFailsTheProcessJobWithAClearError) {
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    int status = 0;
    try {
      Scheduler scheduler;  // its reactor's fds are made before the limit is lowered
      auto process = make_process_job({"true"}, {.critical = false});
      auto plain = make_job([] {
        // Room for one pipe of the three.
        const rlimit limit{static_cast<rlim_t>(open_fd_count() + 2), static_cast<rlim_t>(1024)};
        setrlimit(RLIMIT_NOFILE, &limit);
        return 4;
      });
      process->require(plain);
      scheduler.update({plain, process});
      if (!scheduler.run()) status |= 1;
      if (process->raised_exception() == nullptr) status |= 2;
      else if (!contains(what(process), "pipe2")) status |= 4;
      if (plain->result<int>() != 4) status |= 8;
    } catch (...) {
      status |= 16;
    }
    _exit(status);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

// No memory for the runner that starts the members: run() throws std::bad_alloc. It hung
// before, waiting for a job counted as running that no runner would ever take.
TEST(FaultInjectionTest, NoMemoryForTheFirstRunnerThrowsFromRun) {
  bool ran = false;
  auto job = make_job([&ran] { ran = true; });
  Scheduler scheduler({job});
  inject_fault(Fault::kJobPool, 1);
  EXPECT_THROW(scheduler.run(), std::bad_alloc);
  inject_fault(Fault::kJobPool, 0);
  EXPECT_FALSE(ran);
  EXPECT_FALSE(job->is_done());
}

// A job about to block hands the rest of the queue to a new runner; when there is no memory
// for one, its wait (here a yield) throws std::bad_alloc with nothing of it registered, and
// the jobs queued behind it run on its runner once it returns. Before, the yield had put
// the task back in the ready queue first: the loop later resumed a fiber that had finished.
TEST(FaultInjectionTest, NoMemoryForARunnerFailsTheWaitThatNeededIt) {
  // The run's first block from the job pool is the runner that starts the members; the
  // second, the one that `blocking` needs to hand `next` over.
  constexpr int kRunnerOfTheFirstBlock = 1;
  for (const bool sleeping : {false, true}) {
    auto blocking = make_job(
        [sleeping] {
          if (sleeping) {
            sleep_for(absl::Milliseconds(1));
          } else {
            yield();
          }
        },
        {.critical = false});
    auto next = make_job([] { return 7; });
    Scheduler scheduler({blocking, next});
    inject_fault(Fault::kJobPool, 1, /*skip=*/kRunnerOfTheFirstBlock);
    scheduler.run();
    inject_fault(Fault::kJobPool, 0);
    ASSERT_TRUE(blocking->is_done());
    EXPECT_THROW(std::rethrow_exception(blocking->raised_exception()), std::bad_alloc);
    EXPECT_EQ(next->result<int>(), 7);
  }
}

// A job's result is kept in the job pool: when there is no memory for it, the job raises
// std::bad_alloc instead (and when there is none for that exception either, still does).
// The run's first block from the pool is its runner (internal/jobs/batch_runner.h).
TEST(FaultInjectionTest, AResultThatFindsNoMemoryRaisesBadAlloc) {
  for (int failures : {1, 2}) {
    auto job = make_job([] { return 42; });
    inject_fault(Fault::kJobPool, failures, /*skip=*/1);
    EXPECT_THROW(job->standalone_run(), std::bad_alloc) << failures << " failures";
    inject_fault(Fault::kJobPool, 0);
    EXPECT_TRUE(job->is_done());
    EXPECT_THROW(job->result(), std::bad_alloc);
  }
}

// require() that finds no memory to grow either job's list throws std::bad_alloc and links
// nothing: the graph runs as if it had not been called.
TEST(FaultInjectionTest, ARequirementThatFindsNoMemoryLinksNothing) {
  auto shared = make_job([] {}), other = make_job([] {});
  auto a = make_job([] {}), b = make_job([] {}), c = make_job([] {}), d = make_job([] {});
  a->require(shared);
  b->require(shared);  // shared's two dependents are held inline: a third needs memory
  c->require(other);   // c's one requirement is held inline: a second needs memory
  inject_fault(Fault::kJobPool, 1);
  EXPECT_THROW(c->require(shared), std::bad_alloc);  // c's list cannot grow
  inject_fault(Fault::kJobPool, 1);
  EXPECT_THROW(d->require(shared), std::bad_alloc);  // shared's list cannot grow
  inject_fault(Fault::kJobPool, 0);
  EXPECT_EQ(c->required(), std::vector<JobPtr>{other});
  EXPECT_TRUE(d->required().empty());

  Scheduler scheduler({shared, other, a, b, c, d});
  EXPECT_TRUE(scheduler.run());
  for (const auto& job : {shared, other, a, b, c, d}) EXPECT_TRUE(job->is_done());
  d->require(shared);  // with memory, the same call links
  EXPECT_EQ(d->required(), std::vector<JobPtr>{shared});
  // A half link left by the failed call would name d after it died (ASan: use after free).
  scheduler.remove(d);
  d.reset();
  shared.reset();
}

}  // namespace
}  // namespace asyncjobs
