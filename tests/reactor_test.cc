// The reactor alone, driven with Tasks: ready queue, timers, cancellation, stalls, fds,
// worker threads.

#include "asyncjobs/internal/reactor/reactor.h"

#include <fcntl.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <future>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace asyncjobs {
namespace {

using testing::Pipe;
using testing::Tracer;
using testing::run_tasks;
using testing::run_tasks_on;
using testing::TestTask;

Reactor& reactor() { return *Reactor::current(); }

TEST(ReactorTest, TasksStartInSpawnOrder) {
  std::string trace;
  const auto outcome =
      run_tasks({[&] { trace += 'A'; }, [&] { trace += 'B'; }, [&] { trace += 'C'; }});
  EXPECT_EQ(trace, "ABC");
  EXPECT_FALSE(outcome.stalled);
  EXPECT_EQ(outcome.cancelled, 0);
}

TEST(ReactorTest, YieldAlternatesTasks) {
  std::string trace;
  auto body = [&](char c) {
    return [&trace, c] {
      for (int i = 0; i < 2; ++i) {
        trace += c;
        reactor().yield();
      }
    };
  };
  run_tasks({body('A'), body('B')});
  EXPECT_EQ(trace, "ABAB");
}

TEST(ReactorTest, YieldRunsAfterEveryTaskNowReady) {
  std::string trace;
  run_tasks({[&] {
               trace += "a1";
               reactor().yield();
               trace += "a2";
             },
             [&] { trace += "b"; }, [&] { trace += "c"; }});
  EXPECT_EQ(trace, "a1bca2");
}

TEST(ReactorTest, CurrentIsSetOnlyWhileRunning) {
  Reactor r;
  Reactor* seen_reactor = nullptr;
  Task* seen_task = nullptr;
  std::deque<TestTask> tasks;
  tasks.emplace_back([&] {
    seen_reactor = Reactor::current();
    seen_task = Task::current();
  });
  EXPECT_EQ(Reactor::current(), nullptr);
  run_tasks_on(r, tasks);
  EXPECT_EQ(seen_reactor, &r);
  EXPECT_EQ(seen_task, tasks[0].task());
}

TEST(ReactorTest, WakeResumesAWaitingTask) {
  std::deque<TestTask> tasks;
  Reactor::WakeReason reason = Reactor::WakeReason::kTimedOut;
  bool woke = false, woke_again = true, woke_self = true;
  tasks.emplace_back([&] { reason = reactor().wait(absl::InfiniteFuture()); });
  tasks.emplace_back([&] {
    woke_self = reactor().wake(Task::current());   // running, not waiting
    woke = reactor().wake(tasks[0].task());
    woke_again = reactor().wake(tasks[0].task());  // already ready
  });
  Reactor r;
  run_tasks_on(r, tasks);
  EXPECT_TRUE(woke);
  EXPECT_FALSE(woke_again);
  EXPECT_FALSE(woke_self);
  EXPECT_EQ(reason, Reactor::WakeReason::kNotified);
  EXPECT_FALSE(r.stalled());
}

TEST(ReactorTest, WaitWithDeadlineTimesOut) {
  Reactor::WakeReason reason = Reactor::WakeReason::kNotified;
  absl::Duration waited;
  run_tasks({[&] {
    const absl::Time start = absl::Now();
    reason = reactor().wait(start + absl::Milliseconds(50));
    waited = absl::Now() - start;
  }});
  EXPECT_EQ(reason, Reactor::WakeReason::kTimedOut);
  EXPECT_GE(waited, absl::Milliseconds(50));
  EXPECT_LT(waited, absl::Milliseconds(500));
}

// Tasks woken early leave the timer heap at once; the others still time out in deadline
// order (a broken heap removal would reorder them or wake a task twice).
TEST(ReactorTest, TimerHeapSurvivesEarlyWakes) {
  constexpr int kWaiters = 1000;
  std::mt19937 random(42);
  std::uniform_int_distribution<int> millis(0, 100);
  const absl::Time base = absl::Now() + absl::Milliseconds(20);
  std::vector<absl::Time> deadlines;
  for (int i = 0; i < kWaiters; ++i) deadlines.push_back(base + absl::Milliseconds(millis(random)));

  std::vector<int> timed_out, notified;
  int wakeups = 0;
  std::deque<TestTask> tasks;
  for (int i = 0; i < kWaiters; ++i) {
    tasks.emplace_back([&, i] {
      const auto reason = reactor().wait(deadlines[i]);
      ++wakeups;
      if (reason == Reactor::WakeReason::kTimedOut) {
        EXPECT_GE(absl::Now(), deadlines[i]);
        timed_out.push_back(i);
      } else {
        notified.push_back(i);
      }
    });
  }
  tasks.emplace_back([&] {
    for (int i = 0; i < kWaiters; i += 3) EXPECT_TRUE(reactor().wake(tasks[i].task()));
  });
  Reactor r;
  run_tasks_on(r, tasks);

  std::vector<int> expected_notified;
  for (int i = 0; i < kWaiters; i += 3) expected_notified.push_back(i);
  EXPECT_EQ(notified, expected_notified);
  std::vector<int> expected_timed_out;
  for (int i = 0; i < kWaiters; ++i) {
    if (i % 3 != 0) expected_timed_out.push_back(i);
  }
  std::stable_sort(expected_timed_out.begin(), expected_timed_out.end(),
                   [&](int a, int b) { return deadlines[a] < deadlines[b]; });
  EXPECT_EQ(timed_out, expected_timed_out);
  EXPECT_EQ(wakeups, kWaiters);
}

TEST(ReactorTest, CancelUnwindsAWaitingTaskBeforeRunReturns) {
  std::string trace;
  std::deque<TestTask> tasks;
  bool after_wait = false;
  tasks.emplace_back([&] {
    Tracer outer{&trace, 'o'};
    {
      Tracer inner{&trace, 'i'};
      reactor().wait(absl::Now() + absl::Hours(1));
      after_wait = true;
    }
  });
  tasks.emplace_back([&] {
    reactor().cancel(tasks[0].task());
    EXPECT_TRUE(tasks[0].task()->cancel_requested());
  });
  Reactor r;
  const absl::Time start = absl::Now();
  const auto outcome = run_tasks_on(r, tasks);
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  EXPECT_EQ(trace, "io");
  EXPECT_FALSE(after_wait);
  EXPECT_TRUE(tasks[0].cancelled());
  EXPECT_EQ(outcome.cancelled, 1);
  EXPECT_FALSE(outcome.stalled);
}

TEST(ReactorTest, CancelBeforeStartThrowsAtTheFirstSuspensionPoint) {
  std::string trace;
  std::deque<TestTask> tasks;
  tasks.emplace_back([&] {
    trace += "started ";
    reactor().yield();
    trace += "not here";
  });
  Reactor r;
  r.cancel(tasks[0].task());
  run_tasks_on(r, tasks);
  EXPECT_EQ(trace, "started ");
  EXPECT_TRUE(tasks[0].cancelled());
}

TEST(ReactorTest, SelfCancelThrowsAtTheNextSuspensionPoint) {
  std::string trace;
  std::deque<TestTask> tasks;
  tasks.emplace_back([&] {
    reactor().cancel(Task::current());
    trace += "still running ";
    Reactor::check_cancelled();
    trace += "not here";
  });
  Reactor r;
  run_tasks_on(r, tasks);
  EXPECT_EQ(trace, "still running ");
  EXPECT_TRUE(tasks[0].cancelled());
}

TEST(ReactorTest, SwallowedCancelledIsThrownAgain) {
  int swallowed = 0;
  std::deque<TestTask> tasks;
  tasks.emplace_back([&] {
    try {
      reactor().wait(absl::InfiniteFuture());
    } catch (...) {
      ++swallowed;
    }
    reactor().wait(absl::Now() + absl::Hours(1));  // cancellation still stands
  });
  tasks.emplace_back([&] { reactor().cancel(tasks[0].task()); });
  Reactor r;
  run_tasks_on(r, tasks);
  EXPECT_EQ(swallowed, 1);
  EXPECT_TRUE(tasks[0].cancelled());
}

TEST(ReactorTest, CancelShieldDefersCancellation) {
  std::string trace;
  Reactor::WakeReason shielded_reason = Reactor::WakeReason::kCancelled;
  absl::Duration shielded_wait;
  std::deque<TestTask> tasks;
  tasks.emplace_back([&] {
    {
      CancelShield shield;
      const absl::Time start = absl::Now();
      shielded_reason = reactor().wait(start + absl::Milliseconds(50));
      shielded_wait = absl::Now() - start;
      reactor().yield();  // does not throw either
      trace += "shielded ";
    }
    reactor().yield();
    trace += "not here";
  });
  tasks.emplace_back([&] { reactor().cancel(tasks[0].task()); });
  Reactor r;
  run_tasks_on(r, tasks);
  EXPECT_EQ(shielded_reason, Reactor::WakeReason::kTimedOut);
  EXPECT_GE(shielded_wait, absl::Milliseconds(50));
  EXPECT_EQ(trace, "shielded ");
  EXPECT_TRUE(tasks[0].cancelled());
}

TEST(ReactorTest, NestedShieldsCount) {
  std::string trace;
  run_tasks({[&] {
    reactor().cancel(Task::current());
    {
      CancelShield outer;
      {
        CancelShield inner;
        reactor().yield();
      }
      reactor().yield();  // still shielded by `outer`
      trace += "outer ";
    }
    try {
      reactor().yield();
    } catch (const Cancelled&) {
      trace += "cancelled";
    }
  }});
  EXPECT_EQ(trace, "outer cancelled");
}

TEST(ReactorTest, StallCancelsEveryBlockedTask) {
  std::string trace;
  std::deque<TestTask> tasks;
  for (char c : std::string("AB")) {
    tasks.emplace_back([&trace, c] {
      Tracer tracer{&trace, c};
      reactor().wait(absl::InfiniteFuture());
    });
  }
  Reactor r;
  const auto outcome = run_tasks_on(r, tasks);
  EXPECT_TRUE(outcome.stalled);
  EXPECT_TRUE(r.stalled());
  EXPECT_EQ(outcome.cancelled, 2);
  EXPECT_EQ(trace, "AB");
}

TEST(ReactorTest, FinishedRunIsNotStalled) {
  Reactor r;
  std::deque<TestTask> tasks;
  tasks.emplace_back([] { reactor().wait(absl::Now() + absl::Milliseconds(1)); });
  EXPECT_FALSE(run_tasks_on(r, tasks).stalled);
}

TEST(ReactorTest, RunsAgainWithNewTasks) {
  Reactor r;
  std::string trace;
  std::deque<TestTask> first, second;
  first.emplace_back([&] { trace += '1'; });
  second.emplace_back([&] {
    reactor().yield();
    trace += '2';
  });
  run_tasks_on(r, first);
  run_tasks_on(r, second);
  EXPECT_EQ(trace, "12");
}

TEST(ReactorTest, RunWithoutTasksReturns) {
  Reactor r;
  r.run();
  EXPECT_FALSE(r.stalled());
}

TEST(ReactorTest, MisuseThrowsLogicError) {
  Reactor outside;
  EXPECT_THROW(outside.wait(absl::InfiniteFuture()), std::logic_error);
  EXPECT_THROW(outside.yield(), std::logic_error);
  EXPECT_NO_THROW(Reactor::check_cancelled());
  bool nested_run_threw = false, other_reactor_wait_threw = false;
  run_tasks({[&] {
    Reactor nested;
    try {
      nested.run();
    } catch (const std::logic_error&) {
      nested_run_threw = true;
    }
    try {
      nested.wait(absl::InfiniteFuture());  // not a task of `nested`
    } catch (const std::logic_error&) {
      other_reactor_wait_threw = true;
    }
  }});
  EXPECT_TRUE(nested_run_threw);
  EXPECT_TRUE(other_reactor_wait_threw);
}

TEST(ReactorTest, TaskSpawnedByATaskRuns) {
  std::string trace;
  TestTask child([&] { trace += "child "; });
  run_tasks({[&] {
    reactor().spawn(child.task());
    trace += "parent ";
    reactor().yield();
    trace += "parent again";
  }});
  EXPECT_TRUE(child.task()->finished());
  EXPECT_EQ(trace, "parent child parent again");
}

TEST(ReactorTest, CancelAFinishedTaskDoesNothing) {
  std::deque<TestTask> tasks;
  tasks.emplace_back([] {});
  tasks.emplace_back([&] {
    reactor().yield();
    reactor().cancel(tasks[0].task());
  });
  Reactor r;
  run_tasks_on(r, tasks);
  EXPECT_FALSE(tasks[0].task()->cancel_requested());
  EXPECT_FALSE(tasks[0].cancelled());
}

// A task that only yields must not keep timers and worker threads from waking others.
TEST(ReactorTest, BusyYieldingTaskDoesNotStarveTimersOrThreads) {
  bool slept = false, thread_returned = false;
  bool yielder_saw_both = false;
  run_tasks({[&] {
               const absl::Time give_up = absl::Now() + absl::Seconds(10);
               while (!(slept && thread_returned) && absl::Now() < give_up) reactor().yield();
               yielder_saw_both = slept && thread_returned;
             },
             [&] {
               reactor().wait(absl::Now() + absl::Milliseconds(5));
               slept = true;
             },
             [&] {
               reactor().call_in_thread([] {});
               thread_returned = true;
             }});
  EXPECT_TRUE(yielder_saw_both);
}

// --- File descriptors.

TEST(ReactorTest, WaitFdResumesWhenAnotherTaskWrites) {
  Pipe p;
  std::string trace;
  bool readable = false;
  run_tasks({[&] {
               trace += "wait ";
               readable = reactor().wait_fd(p.read_end, EPOLLIN, absl::InfiniteFuture());
               char c = 0;
               EXPECT_EQ(read(p.read_end, &c, 1), 1);
               trace += std::string("read ") + c;
             },
             [&] {
               trace += "write ";
               EXPECT_EQ(write(p.write_end, "x", 1), 1);
             }});
  EXPECT_TRUE(readable);
  EXPECT_EQ(trace, "wait write read x");
}

// The reactor remembers which fds it registered with epoll; a closed fd leaves the epoll
// set, and its number comes back with the next pipe: waiting on it must still work.
TEST(ReactorTest, WaitFdOnAReusedDescriptorNumber) {
  int waits_done = 0;
  run_tasks({[&] {
               for (int round = 0; round < 3; ++round) {
                 Pipe p;  // closed at the end of the round: the next one reuses the numbers
                 EXPECT_EQ(write(p.write_end, "x", 1), 1);
                 EXPECT_TRUE(reactor().wait_fd(p.read_end, EPOLLIN, absl::Now() + absl::Seconds(5)));
                 // Again on the same fd, now registered: the readiness is still there.
                 EXPECT_TRUE(reactor().wait_fd(p.read_end, EPOLLIN, absl::Now() + absl::Seconds(5)));
                 ++waits_done;
               }
             }});
  EXPECT_EQ(waits_done, 3);
}

TEST(ReactorTest, WaitFdTimesOut) {
  Pipe p;
  bool readable = true;
  absl::Duration waited;
  run_tasks({[&] {
    const absl::Time start = absl::Now();
    readable = reactor().wait_fd(p.read_end, EPOLLIN, start + absl::Milliseconds(30));
    waited = absl::Now() - start;
  }});
  EXPECT_FALSE(readable);
  EXPECT_GE(waited, absl::Milliseconds(30));
  EXPECT_LT(waited, absl::Seconds(1));
}

TEST(ReactorTest, WaitFdWakesOnHangup) {
  Pipe p;
  bool readable = false;
  run_tasks({[&] { readable = reactor().wait_fd(p.read_end, EPOLLIN, absl::InfiniteFuture()); },
             [&] { p.close_write(); }});
  EXPECT_TRUE(readable);
}

TEST(ReactorTest, ReaderAndWriterOfOneFdWaitTogether) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
  // Fill fds[0]'s send buffer so that it is not writable.
  const std::string chunk(4096, 'x');
  while (write(fds[0], chunk.data(), chunk.size()) > 0) {
  }
  std::string trace;
  run_tasks({[&] {
               EXPECT_TRUE(reactor().wait_fd(fds[0], EPOLLIN, absl::InfiniteFuture()));
               trace += "readable ";
             },
             [&] {
               EXPECT_TRUE(reactor().wait_fd(fds[0], EPOLLOUT, absl::InfiniteFuture()));
               trace += "writable ";
             },
             [&] {
               char buffer[65536];
               while (read(fds[1], buffer, sizeof buffer) > 0) {
               }
               trace += "drained ";
               reactor().yield();  // the next turn's poll sees fds[0] writable
               EXPECT_EQ(write(fds[1], "y", 1), 1);
             }});
  EXPECT_EQ(trace, "drained writable readable ");
  close(fds[0]);
  close(fds[1]);
}

// Any number of tasks wait on one fd; each is woken when its own condition holds.
TEST(ReactorTest, TwoReadersAndAWriterShareOneSocket) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
  std::string trace;
  auto reader = [&](char name) {
    return [&, name] {
      EXPECT_TRUE(reactor().wait_fd(fds[0], EPOLLIN, absl::InfiniteFuture()));
      char byte;
      EXPECT_EQ(read(fds[0], &byte, 1), 1);
      trace += name;
    };
  };
  run_tasks({reader('A'), reader('B'),
             [&] {
               // The socket is writable at once, while both readers still wait on it.
               EXPECT_TRUE(reactor().wait_fd(fds[0], EPOLLOUT, absl::InfiniteFuture()));
               trace += 'W';
               EXPECT_EQ(write(fds[1], "xy", 2), 2);
             }});
  EXPECT_EQ(trace.size(), 3u);
  EXPECT_EQ(trace[0], 'W');
  EXPECT_NE(trace.find('A'), std::string::npos);
  EXPECT_NE(trace.find('B'), std::string::npos);
  close(fds[0]);
  close(fds[1]);
}

TEST(ReactorTest, AWaiterThatTimesOutLeavesTheOthersWaiting) {
  Pipe p;
  bool first = true, second = false;
  run_tasks({[&] {
               first = reactor().wait_fd(p.read_end, EPOLLIN,
                                         absl::Now() + absl::Milliseconds(10));
               EXPECT_EQ(write(p.write_end, "x", 1), 1);
             },
             [&] {
               second = reactor().wait_fd(p.read_end, EPOLLIN,
                                          absl::Now() + absl::Seconds(60));
             }});
  EXPECT_FALSE(first);
  EXPECT_TRUE(second);
}

TEST(ReactorTest, RegularFileIsAlwaysReady) {
  char path[] = "/tmp/reactor_test_XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  unlink(path);
  bool readable = false;
  run_tasks({[&] { readable = reactor().wait_fd(fd, EPOLLIN, absl::InfiniteFuture()); }});
  EXPECT_TRUE(readable);
  close(fd);
}

TEST(ReactorTest, CancelWakesATaskWaitingForAnFd) {
  Pipe p;
  std::deque<TestTask> tasks;
  tasks.emplace_back([&] { reactor().wait_fd(p.read_end, EPOLLIN, absl::InfiniteFuture()); });
  tasks.emplace_back([&] { reactor().cancel(tasks[0].task()); });
  Reactor r;
  run_tasks_on(r, tasks);
  EXPECT_TRUE(tasks[0].cancelled());
}

// A task waiting for an fd is cancelled in the same turn as the fd becomes readable: it
// must be resumed once, not twice (its entry must not run twice, the run must end).
TEST(ReactorTest, CancelAndFdReadinessInTheSameTurnResumeOnce) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        alarm(20);  // a task resumed twice may wait forever
        Pipe p;
        int entries = 0;
        std::deque<TestTask> tasks;
        tasks.emplace_back([&] {
          ++entries;
          reactor().wait_fd(p.read_end, EPOLLIN, absl::InfiniteFuture());
        });
        tasks.emplace_back([&] {
          (void)!write(p.write_end, "x", 1);
          reactor().cancel(tasks[0].task());
        });
        Reactor r;
        for (TestTask& task : tasks) r.spawn(task.task());
        r.run();
        std::fprintf(stderr, "entries=%d cancelled=%d\n", entries, tasks[0].cancelled());
        std::exit(entries == 1 && tasks[0].cancelled() ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "entries=1 cancelled=1");
}

// --- Worker threads.

TEST(ReactorTest, CallInThreadLeavesTheReactorRunning) {
  std::promise<void> released;
  std::future<void> release = released.get_future();
  std::string trace;
  std::thread::id worker;
  bool released_in_time = false;
  run_tasks({[&] {
               reactor().call_in_thread([&] {
                 worker = std::this_thread::get_id();
                 // Only another task of the reactor can release this.
                 released_in_time =
                     release.wait_for(std::chrono::seconds(20)) == std::future_status::ready;
               });
               trace += "returned ";
             },
             [&] {
               trace += "other task ";
               released.set_value();
             }});
  EXPECT_TRUE(released_in_time);
  EXPECT_NE(worker, std::this_thread::get_id());
  EXPECT_EQ(trace, "other task returned ");
}

TEST(ReactorTest, CancelDuringCallInThreadWaitsForTheWork) {
  std::promise<void> released;
  std::future<void> release = released.get_future();
  std::atomic<bool> work_done{false};
  bool after_call = false;
  std::deque<TestTask> tasks;
  tasks.emplace_back([&] {
    reactor().call_in_thread([&] {
      release.wait_for(std::chrono::seconds(20));
      work_done = true;
    });
    after_call = true;
  });
  tasks.emplace_back([&] {
    reactor().cancel(tasks[0].task());
    released.set_value();
  });
  Reactor r;
  run_tasks_on(r, tasks);
  EXPECT_TRUE(work_done);
  EXPECT_FALSE(after_call);
  EXPECT_TRUE(tasks[0].cancelled());
  EXPECT_FALSE(r.stalled());
}

}  // namespace
}  // namespace asyncjobs
