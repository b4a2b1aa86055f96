// Jobs alone and in a scheduler: lifecycle, results and exceptions, requirements, custom
// jobs, cancellation.

#include "asyncjobs/job.h"

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "asyncjobs/asyncjobs.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace asyncjobs {
namespace {

using JobTest = testing::NothingLeftRunning<>;
using testing::SetOnDestruction;
using testing::Boom;

std::shared_ptr<Job> idle(const std::string& label) {
  return make_job([] {}, {.label = label});
}

TEST_F(JobTest, GeneratedLabelsAreUnique) {
  auto a = make_job([] {});
  auto b = make_job([] {});
  EXPECT_FALSE(a->label().empty());
  EXPECT_NE(a->label(), b->label());
  EXPECT_EQ(idle("named")->label(), "named");
  a->set_label("renamed");
  EXPECT_EQ(a->label(), "renamed");
}

TEST_F(JobTest, OptionsAndSetters) {
  auto job = make_job([] {}, {.critical = false, .forever = true});
  EXPECT_FALSE(job->critical());
  EXPECT_TRUE(job->forever());
  job->set_critical(true);
  job->set_forever(false);
  EXPECT_TRUE(job->critical());
  EXPECT_FALSE(job->forever());
  EXPECT_TRUE(make_job([] {})->critical());  // the default
}

TEST_F(JobTest, NewJobIsIdle) {
  auto job = idle("a");
  EXPECT_TRUE(job->is_idle());
  EXPECT_FALSE(job->is_scheduled());
  EXPECT_FALSE(job->is_running());
  EXPECT_FALSE(job->is_done());
  EXPECT_FALSE(job->is_cancelled());
  EXPECT_EQ(job->raised_exception(), nullptr);
}

TEST_F(JobTest, ResultThrowsLogicErrorWhenNotDone) {
  auto job = idle("a");
  EXPECT_THROW(job->result(), std::logic_error);
  EXPECT_THROW(job->result<int>(), std::logic_error);
}

TEST_F(JobTest, StandaloneRunReturnsTheResult) {
  auto job = make_job([] { return 42; });
  Value value = job->standalone_run();
  EXPECT_EQ(std::any_cast<int>(value), 42);
  EXPECT_TRUE(job->is_done());
  EXPECT_FALSE(job->is_cancelled());
  EXPECT_EQ(job->result<int>(), 42);
  EXPECT_EQ(job->raised_exception(), nullptr);
}

TEST_F(JobTest, VoidBodyGivesAnEmptyResult) {
  auto job = make_job([] {});
  job->standalone_run();
  EXPECT_TRUE(job->is_done());
  EXPECT_FALSE(job->result().has_value());
}

TEST_F(JobTest, ResultOfTheWrongTypeThrowsBadAnyCast) {
  auto job = make_job([] { return std::string("text"); });
  job->standalone_run();
  EXPECT_EQ(job->result<std::string>(), "text");
  EXPECT_THROW(job->result<int>(), std::bad_any_cast);
}

TEST_F(JobTest, StandaloneRunRethrowsAndResultRethrows) {
  auto job = make_job([]() -> int { throw Boom("boom"); });
  EXPECT_THROW(job->standalone_run(), Boom);
  EXPECT_TRUE(job->is_done());  // raising is a way of being done
  EXPECT_FALSE(job->is_cancelled());
  ASSERT_NE(job->raised_exception(), nullptr);
  try {
    job->result();
    FAIL() << "result() did not rethrow";
  } catch (const Boom& error) {
    EXPECT_STREQ(error.what(), "boom");
  }
  EXPECT_THROW(std::rethrow_exception(job->raised_exception()), Boom);
}

TEST_F(JobTest, StandaloneRunSuspendsOnlyInsideAJob) {
  Watch watch;
  auto job = make_job([] {
    sleep_for(absl::Milliseconds(50));
    return 1;
  });
  EXPECT_EQ(std::any_cast<int>(job->standalone_run()), 1);
  EXPECT_GE(watch.seconds(), 0.045);
  EXPECT_LT(watch.seconds(), 0.5);
}

TEST_F(JobTest, StandaloneRunInsideAJobUsesItsReactor) {
  std::string trace;
  Reactor* outer_reactor = nullptr;
  Reactor* inner_reactor = nullptr;
  auto inner = make_job([&] {
    inner_reactor = Reactor::current();
    sleep_for(absl::Milliseconds(50));
    trace += "i";
    return 7;
  });
  auto outer = make_job([&] {
    outer_reactor = Reactor::current();
    return inner->standalone_run();
  });
  auto sibling = make_job([&] {
    sleep_for(absl::Milliseconds(10));
    trace += "s";  // runs while `outer` waits for `inner`
  });
  Scheduler scheduler{outer, sibling};
  Watch watch;
  EXPECT_TRUE(scheduler.run());
  EXPECT_EQ(trace, "si");
  EXPECT_NE(outer_reactor, nullptr);
  EXPECT_EQ(outer_reactor, inner_reactor);
  EXPECT_EQ(inner->result<int>(), 7);
  EXPECT_LT(watch.seconds(), 0.5);
}

TEST_F(JobTest, LifecycleIdleScheduledRunningDone) {
  // Window 1: while `a` runs, `b` is scheduled (its requirements are done: it has none) and
  // `c` (requires b) is idle.
  std::string states;
  std::shared_ptr<Job> a, b, c;
  auto state = [](const JobPtr& job) {
    return job->is_idle() ? "I" : job->is_scheduled() ? "S" : job->is_running() ? "R"
                                                      : job->is_done() ? "D" : "?";
  };
  a = make_job([&] { states = std::string(state(a)) + state(b) + state(c); });
  b = make_job([&] { states += std::string(":") + state(a) + state(b) + state(c); });
  c = make_job([] {}, {.required = {b}});
  Scheduler scheduler({a, b, c}, {.jobs_window = 1});
  EXPECT_TRUE(scheduler.run());
  EXPECT_EQ(states, "RSI:DRI");
  for (const JobPtr& job : {JobPtr(a), JobPtr(b), JobPtr(c)}) {
    EXPECT_TRUE(job->is_done());
    EXPECT_FALSE(job->is_cancelled());
  }
}

TEST_F(JobTest, CurrentJobIsTheRunningOne) {
  AbstractJob* seen = nullptr;
  bool inside = false;
  auto job = make_job([&] {
    seen = current_job();
    inside = in_job();
  });
  EXPECT_EQ(current_job(), nullptr);
  EXPECT_FALSE(in_job());
  job->standalone_run();
  EXPECT_EQ(seen, job.get());
  EXPECT_TRUE(inside);
}

TEST_F(JobTest, StartAndEndTimes) {
  auto job = make_job([] { sleep_for(absl::Milliseconds(50)); });
  EXPECT_EQ(job->start_time(), absl::InfinitePast());
  job->standalone_run();
  EXPECT_GE(job->end_time() - job->start_time(), absl::Milliseconds(45));
}

// --- Requirements

TEST_F(JobTest, RequireTakesJobsSequencesVectorsAndSeveralAtOnce) {
  auto a = idle("a"), b = idle("b"), c = idle("c"), d = idle("d"), e = idle("e");
  Sequence sequence{b, c};
  auto job = idle("job");
  job->require(a, sequence, std::vector<JobPtr>{d, e});
  EXPECT_EQ(job->required(), (std::vector<JobPtr>{a, c, d, e}));
}

TEST_F(JobTest, RequireASequenceTakesItsLastJobAtCallTime) {
  auto a = idle("a"), b = idle("b"), later = idle("later");
  Sequence sequence{a, b};
  auto job = idle("job");
  job->require(sequence);
  sequence.append(later);
  EXPECT_EQ(job->required(), (std::vector<JobPtr>{b}));
}

TEST_F(JobTest, RequireAcceptsAnySubclass) {
  class Custom : public AbstractJob {
   public:
    Value co_run() override { return {}; }
  };
  auto custom = std::make_shared<Custom>();
  auto nested = make_scheduler();
  auto job = idle("job");
  job->require(custom).require(nested);  // chains
  EXPECT_EQ(job->required(), (std::vector<JobPtr>{custom, nested}));
}

TEST_F(JobTest, RequireSelfDoesNothing) {
  auto job = idle("job");
  job->require(job);
  EXPECT_TRUE(job->required().empty());
}

TEST_F(JobTest, RequireTwiceKeepsOneRequirement) {
  auto a = idle("a");
  auto job = idle("job");
  job->require(a, a);
  job->require(a);
  EXPECT_EQ(job->required(), (std::vector<JobPtr>{a}));
}

TEST_F(JobTest, OptionsRequiredIsLikeRequire) {
  auto a = idle("a"), b = idle("b");
  auto job = make_job([] {}, {.required = {a, b}});
  EXPECT_EQ(job->required(), (std::vector<JobPtr>{a, b}));
}

TEST_F(JobTest, UnrequireRemovesJobsSequencesAndVectors) {
  auto a = idle("a"), b = idle("b"), c = idle("c"), d = idle("d");
  Sequence sequence{idle("s1"), b};
  auto job = idle("job");
  job->require(a, b, c, d);
  job->unrequire(sequence, std::vector<JobPtr>{d});
  EXPECT_EQ(job->required(), (std::vector<JobPtr>{a, c}));
  job->unrequire(a).unrequire(c);
  EXPECT_TRUE(job->required().empty());
}

// Requirements are linked at both ends (internal/jobs/job_links.cc): whichever end dies or
// lets go first, the other's list stays right.
TEST_F(JobTest, UnrequireAndDeathsKeepTheOtherLinks) {
  auto a = idle("a"), b = idle("b"), c = idle("c"), d = idle("d");
  auto job = idle("job"), other = idle("other");
  job->require(a, b, c, d);
  other->require(c, b);
  job->unrequire(a);
  b.reset();
  EXPECT_EQ(job->required(), (std::vector<JobPtr>{c, d}));
  EXPECT_EQ(other->required(), (std::vector<JobPtr>{c}));
  job->unrequire(c);
  EXPECT_EQ(other->required(), (std::vector<JobPtr>{c}));
  job.reset();  // c and d forget it
  auto late = idle("late");
  late->require(c);
  c.reset();
  EXPECT_TRUE(other->required().empty());
  EXPECT_TRUE(late->required().empty());
  EXPECT_EQ(d.use_count(), 1);
}

// A job many others require: its dependents die in a scattered order and new ones arrive
// (the list compacts its dead links as it grows); what each job requires stays exact.
TEST_F(JobTest, AJobRequiredByManyKeepsExactLinksThroughDeathsAndGrowth) {
  constexpr int kJobs = 3000;
  auto hub = idle("hub");
  std::vector<std::shared_ptr<Job>> dependents;
  for (int i = 0; i < kJobs; ++i) {
    dependents.push_back(idle("d"));
    dependents.back()->require(hub);
  }
  for (int i = 0; i < kJobs; ++i) {
    if (i % 3 != 0) dependents[(i * 7919) % kJobs].reset();  // 7919 is prime: a permutation
  }
  for (int i = 0; i < kJobs; ++i) {
    dependents.push_back(idle("late"));
    dependents.back()->require(hub);
  }
  int alive = 0;
  for (const auto& job : dependents) {
    if (job == nullptr) continue;
    ++alive;
    EXPECT_EQ(job->required(), (std::vector<JobPtr>{hub}));
  }
  EXPECT_EQ(alive, kJobs + kJobs / 3);
  Scheduler scheduler({hub});
  for (const auto& job : dependents) {
    if (job != nullptr) scheduler.add(job);
  }
  EXPECT_TRUE(scheduler.run());
  for (const auto& job : dependents) {
    if (job != nullptr) {
      EXPECT_TRUE(job->is_done());
    }
  }
  hub.reset();  // the scheduler still holds it
  EXPECT_EQ(dependents.back()->required().size(), 1u);
}

TEST_F(JobTest, UnrequireAnAbsentJobThrowsInvalidArgument) {
  auto a = idle("a"), b = idle("b");
  auto job = idle("job");
  job->require(a);
  EXPECT_THROW(job->unrequire(b), std::invalid_argument);
  EXPECT_EQ(job->required(), (std::vector<JobPtr>{a}));
}

// --- Custom jobs

class Counter : public AbstractJob {
 public:
  Counter(int start, std::string* trace, JobOptions options = {})
      : AbstractJob(std::move(options)), value_(start), trace_(trace) {}
  Value co_run() override {
    *trace_ += "run ";
    sleep_for(absl::Milliseconds(10));
    return value_ + 1;
  }
  void co_shutdown() override {
    *trace_ += "shutdown ";
    ++shutdowns;
  }
  std::string details() const override { return "counting from " + std::to_string(value_); }
  std::string type_name() const override { return "Counter"; }
  int shutdowns = 0;

 private:
  int value_;
  std::string* trace_;
};

TEST_F(JobTest, CustomJobBySubclassing) {
  std::string trace;
  auto counter = std::make_shared<Counter>(41, &trace, JobOptions{.label = "c"});
  auto after = make_job([&] { trace += "after "; });
  after->require(counter);
  Scheduler scheduler{counter, after};
  EXPECT_TRUE(scheduler.run());
  EXPECT_EQ(trace, "run after shutdown ");
  EXPECT_EQ(counter->result<int>(), 42);
  EXPECT_EQ(counter->shutdowns, 1);
  EXPECT_EQ(counter->details(), "counting from 41");
  EXPECT_EQ(counter->type_name(), "Counter");
  EXPECT_NE(counter->repr().find("<Counter `c`>"), std::string::npos) << counter->repr();
}

class PlainCustom : public AbstractJob {
 public:
  Value co_run() override { return std::string("plain"); }
};

TEST_F(JobTest, DefaultTypeNameIsTheUnqualifiedClassName) {
  auto job = std::make_shared<PlainCustom>();
  EXPECT_EQ(job->type_name(), "PlainCustom");
  EXPECT_EQ(make_job([] {})->type_name(), "Job");
  EXPECT_EQ(std::any_cast<std::string>(job->standalone_run()), "plain");
  EXPECT_EQ(job->details(), "");
}

// --- Cancellation

TEST_F(JobTest, CancelledWhileRunningIsNotDone) {
  bool unwound = false;
  auto sleeper = make_job([&] {
    SetOnDestruction probe(&unwound);
    sleep_for(absl::Seconds(10));
    return 1;
  });
  Scheduler scheduler({sleeper}, {.critical = false, .timeout = absl::Milliseconds(50)});
  EXPECT_FALSE(scheduler.run());
  EXPECT_TRUE(unwound);
  EXPECT_TRUE(sleeper->is_cancelled());
  EXPECT_FALSE(sleeper->is_done());
  EXPECT_THROW(sleeper->result(), std::logic_error);
  EXPECT_EQ(sleeper->raised_exception(), nullptr);
}

TEST_F(JobTest, CancelledWhileScheduledIsNotDone) {
  std::string trace;
  auto sleeper = make_job([&] { sleep_for(absl::Seconds(10)); });
  auto waiting = make_job([&] { trace += "waiting ran"; });
  Scheduler scheduler({sleeper, waiting},
                      {.critical = false, .jobs_window = 1, .timeout = absl::Milliseconds(50)});
  EXPECT_FALSE(scheduler.run());
  EXPECT_EQ(trace, "");
  EXPECT_TRUE(waiting->is_cancelled());
  EXPECT_FALSE(waiting->is_done());
  EXPECT_FALSE(waiting->is_running());
  EXPECT_THROW(waiting->result(), std::logic_error);
}

TEST_F(JobTest, SwallowingCancelledStillEndsCancelled) {
  std::string trace;
  auto stubborn = make_job([&] {
    try {
      sleep_for(absl::Seconds(10));
    } catch (...) {
      trace += "swallowed ";
    }
    return 5;
  });
  Scheduler scheduler({stubborn}, {.critical = false, .timeout = absl::Milliseconds(50)});
  Watch watch;
  EXPECT_FALSE(scheduler.run());
  EXPECT_LT(watch.seconds(), 1.0);
  EXPECT_EQ(trace, "swallowed ");
  EXPECT_TRUE(stubborn->is_cancelled());
  EXPECT_FALSE(stubborn->is_done());
  EXPECT_THROW(stubborn->result(), std::logic_error);
}

TEST_F(JobTest, SwallowedCancelledComesBackAtTheNextSuspension) {
  std::string trace;
  bool unwound = false;
  auto stubborn = make_job([&] {
    SetOnDestruction probe(&unwound);
    try {
      sleep_for(absl::Seconds(10));
    } catch (...) {
      trace += "swallowed ";
    }
    sleep_for(absl::Seconds(10));  // cancelled again right here
    trace += "not reached";
  });
  Scheduler scheduler({stubborn}, {.critical = false, .timeout = absl::Milliseconds(50)});
  Watch watch;
  EXPECT_FALSE(scheduler.run());
  EXPECT_LT(watch.seconds(), 1.0);
  EXPECT_EQ(trace, "swallowed ");
  EXPECT_TRUE(unwound);
  EXPECT_TRUE(stubborn->is_cancelled());
}

TEST_F(JobTest, EveryDestructorOnACancelledStackRunsBeforeRunReturns) {
  bool outer_frame = false, inner_frame = false, catch_all_frame = false;
  auto deep = make_job([&] {
    SetOnDestruction outer(&outer_frame);
    auto helper = [&] {
      SetOnDestruction inner(&inner_frame);
      try {
        SetOnDestruction in_try(&catch_all_frame);
        sleep_for(absl::Seconds(10));
      } catch (const std::exception&) {  // Cancelled is not a std::exception
        ADD_FAILURE() << "Cancelled caught as std::exception";
      }
    };
    helper();
  });
  Scheduler scheduler({deep}, {.critical = false, .timeout = absl::Milliseconds(30)});
  EXPECT_FALSE(scheduler.run());
  EXPECT_TRUE(outer_frame);
  EXPECT_TRUE(inner_frame);
  EXPECT_TRUE(catch_all_frame);
  EXPECT_TRUE(deep->is_cancelled());
}

// Graphs of a million jobs are what users build: a plain Job (with a body capturing up to
// three pointers) and its shared_ptr control block fit a 200-byte pool block, under the
// 240 bytes a Taskflow task takes; its rarely used parts (label, timeout, retries), its
// result and its requirements beyond the second are out of line (docs/design.md, "What a
// job costs").
TEST_F(JobTest, APlainJobFitsInTwoHundredBytes) {
  EXPECT_LE(sizeof(Job) + 2 * sizeof(void*), 200u);
  int a = 0, b = 0, c = 0;
  auto job = make_job([&a, &b, &c] { return a + b + c; });
  EXPECT_EQ(job->standalone_run().has_value(), true);
}

TEST_F(JobTest, AGeneratedLabelIsMadeOnceAndKept) {
  auto job = make_job([] {});
  const std::string label = job->label();
  make_job([] {})->label();  // another job takes the next number
  EXPECT_EQ(job->label(), label);
}

}  // namespace
}  // namespace asyncjobs
