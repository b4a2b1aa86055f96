#ifndef ASYNCJOBS_TESTS_TEST_UTIL_H_
#define ASYNCJOBS_TESTS_TEST_UTIL_H_

// Helpers for tests: run plain lambdas as Tasks of a fresh Reactor (reactor layer), and a
// fixture and stack probe for tests of jobs and schedulers.

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <deque>
#include <exception>
#include <functional>
#include <initializer_list>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

#include "asyncjobs/cancelled.h"
#include "asyncjobs/fiber_calls.h"
#include "asyncjobs/internal/reactor/reactor.h"
#include "asyncjobs/job.h"
#include "gtest/gtest.h"

namespace asyncjobs::testing {

// A non-blocking pipe, closed on destruction.
struct Pipe {
  int read_end = -1, write_end = -1;
  Pipe() {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) std::abort();
    read_end = fds[0];
    write_end = fds[1];
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  ~Pipe() {
    if (read_end >= 0) close(read_end);
    if (write_end >= 0) close(write_end);
  }
  void close_write() {
    close(write_end);
    write_end = -1;
  }
};

// Appends `name` to `*trace` when destroyed: shows which destructors ran, in which order.
struct Tracer {
  std::string* trace;
  char name;
  ~Tracer() { *trace += name; }
};

// A Task running `body`. Nothing may escape a fiber, so the entry keeps what the body threw:
// `cancelled()` for Cancelled, `error()` for anything else.
class TestTask {
 public:
  explicit TestTask(std::function<void()> body, std::string name = "task")
      : body_(std::move(body)), name_(std::move(name)), task_(&TestTask::entry, this) {
    task_.set_name(&name_);
  }
  TestTask(const TestTask&) = delete;
  TestTask& operator=(const TestTask&) = delete;

  Task* task() { return &task_; }
  bool cancelled() const { return cancelled_; }
  std::exception_ptr error() const { return error_; }

 private:
  static void entry(void* self) {
    auto* test_task = static_cast<TestTask*>(self);
    try {
      test_task->body_();
    } catch (const Cancelled&) {
      test_task->cancelled_ = true;
    } catch (...) {
      test_task->error_ = std::current_exception();
    }
  }

  std::function<void()> body_;
  std::string name_;
  Task task_;
  bool cancelled_ = false;
  std::exception_ptr error_;
};

struct RunOutcome {
  bool stalled = false;
  int cancelled = 0;  // tasks that ended with Cancelled
};

// Spawns each body as a task (in order) on `reactor`, runs it until all have finished and
// rethrows the first exception other than Cancelled that a body threw. Checks that nothing
// is left running on the thread.
inline RunOutcome run_tasks_on(Reactor& reactor, std::deque<TestTask>& tasks) {
  for (TestTask& task : tasks) reactor.spawn(task.task());
  reactor.run();
  EXPECT_EQ(Reactor::current(), nullptr);
  EXPECT_EQ(Task::current(), nullptr);
  RunOutcome outcome{reactor.stalled(), 0};
  for (TestTask& task : tasks) {
    EXPECT_TRUE(task.task()->finished());
    if (task.cancelled()) ++outcome.cancelled;
  }
  for (TestTask& task : tasks) {
    if (task.error()) std::rethrow_exception(task.error());
  }
  return outcome;
}

inline RunOutcome run_tasks(std::initializer_list<std::function<void()>> bodies) {
  std::deque<TestTask> tasks;
  for (const auto& body : bodies) tasks.emplace_back(body);
  Reactor reactor;
  return run_tasks_on(reactor, tasks);
}

// --- Helpers for tests of the job layer (jobs, sequences, schedulers).

// Checks after every test that nothing is left running on the thread: no reactor bound, no
// task current (marl's marl_test.h checks allocations the same way).
template <class Base = ::testing::Test>
class NothingLeftRunning : public Base {
 protected:
  void TearDown() override {
    EXPECT_EQ(Reactor::current(), nullptr);
    EXPECT_EQ(Task::current(), nullptr);
  }
};

// Sets `*flag` when destroyed: put one on a job's stack to prove that cancelling the job
// unwound its stack.
class SetOnDestruction {
 public:
  explicit SetOnDestruction(bool* flag) : flag_(flag) {}
  SetOnDestruction(const SetOnDestruction&) = delete;
  SetOnDestruction& operator=(const SetOnDestruction&) = delete;
  ~SetOnDestruction() { *flag_ = true; }

 private:
  bool* flag_;
};

// What test jobs throw.
struct Boom : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A job labelled `name` that appends `name` to `*trace` after sleeping `ms` milliseconds.
inline std::shared_ptr<Job> step(std::string* trace, std::string name, int ms,
                                 JobOptions options = {}) {
  options.label = name;
  return make_job(
      [trace, name, ms] {
        if (ms > 0) sleep_for(absl::Milliseconds(ms));
        *trace += name;
      },
      std::move(options));
}

}  // namespace asyncjobs::testing

#endif  // ASYNCJOBS_TESTS_TEST_UTIL_H_
