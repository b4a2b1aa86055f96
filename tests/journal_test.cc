// The journal (SchedulerOptions::journal): codecs, restoring and recording, make's rule,
// nested schedulers, reruns after a cancel, a critical failure and a timeout, the errors,
// pending tokens and the views. Each test runs a scenario twice or more on one journal in
// a temporary directory; the journal is a real SQLite file. Kills: journal_crash_test.cc.
#include <signal.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "asyncjobs/asyncjobs.h"
#include "asyncjobs/internal/scheduler/scheduler_journal.h"
#include "asyncjobs/journal.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace asyncjobs {
namespace {

using Runs = std::map<std::string, int>;  // how many times each job's body ran

std::string temp_path(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  std::string path = std::string(dir != nullptr ? dir : "/tmp") + "/" + name + "_" +
                     std::to_string(getpid());
  std::remove(path.c_str());
  std::remove((path + "-wal").c_str());
  return path;
}

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void sql(const std::string& path, const std::string& statement) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  EXPECT_EQ(sqlite3_exec(db, statement.c_str(), nullptr, nullptr, &error), SQLITE_OK)
      << (error ? error : "");
  sqlite3_free(error);
  sqlite3_close(db);
}

// A job that counts its runs in `runs` and returns `value`.
template <class T>
JobPtr counted(Runs& runs, const std::string& label, T value, JobOptions options = {}) {
  options.label = label;
  return make_job(
      [&runs, label, value] {
        ++runs[label];
        return value;
      },
      std::move(options));
}

class JournalTest : public testing::NothingLeftRunning<> {
 protected:
  std::string journal_ = temp_path("journal");
};

TEST(ResultCodecTest, RoundTripsTheProvidedTypes) {
  EXPECT_EQ(ResultCodec<int>::decode(ResultCodec<int>::encode(-42)), -42);
  EXPECT_EQ(ResultCodec<double>::decode(ResultCodec<double>::encode(0.1)), 0.1);
  EXPECT_EQ(ResultCodec<bool>::decode(ResultCodec<bool>::encode(true)), true);
  EXPECT_EQ(ResultCodec<uint64_t>::decode(ResultCodec<uint64_t>::encode(UINT64_MAX)),
            UINT64_MAX);
  const std::string binary("a\0b:c", 5);
  EXPECT_EQ(ResultCodec<std::string>::decode(ResultCodec<std::string>::encode(binary)), binary);
  const std::vector<std::string> list = {"", "1:2", binary, "x"};
  EXPECT_EQ(ResultCodec<std::vector<std::string>>::decode(
                ResultCodec<std::vector<std::string>>::encode(list)),
            list);
  const ProcessResult process{-1, 9, "out\n", "err"};
  const ProcessResult back =
      ResultCodec<ProcessResult>::decode(ResultCodec<ProcessResult>::encode(process));
  EXPECT_EQ(back.exit_code, -1);
  EXPECT_EQ(back.signal, 9);
  EXPECT_EQ(back.out, "out\n");
  EXPECT_EQ(back.err, "err");
  EXPECT_THROW(ResultCodec<int>::decode("12x"), std::invalid_argument);
  EXPECT_THROW(ResultCodec<std::vector<std::string>>::decode("5:ab"), std::invalid_argument);
  EXPECT_THROW(ResultCodec<ProcessResult>::decode("1:0"), std::invalid_argument);
}

TEST_F(JournalTest, ASecondRunRestoresWhatTheFirstRecorded) {
  Runs runs;
  auto scenario = [&] {
    auto a = counted(runs, "a", 40);
    auto b = make_job([&runs, a] { ++runs["b"]; return a->result<int>() + 2; },
                      JobOptions{.label = "b", .required = {a}});
    auto c = counted(runs, "c", std::string("text"), {.required = {b}});
    auto d = make_job([&runs] { ++runs["d"]; }, JobOptions{.label = "d"});
    Scheduler scheduler({a, b, c, d}, {.journal = journal_});
    EXPECT_TRUE(scheduler.run());
    EXPECT_EQ(b->result<int>(), 42);
    EXPECT_EQ(c->result<std::string>(), "text");
    return std::vector<bool>{a->restored(), b->restored(), c->restored(), d->restored(),
                             scheduler.restored()};
  };
  EXPECT_EQ(scenario(), std::vector<bool>(5, false));
  EXPECT_EQ(scenario(), std::vector<bool>(5, true));
  EXPECT_EQ(runs, (Runs{{"a", 1}, {"b", 1}, {"c", 1}, {"d", 1}}));
}

TEST_F(JournalTest, RestoredJobsAreOneRestoredEventEach) {
  Runs runs;
  auto scenario = [&] {
    std::vector<std::string> events;
    auto a = counted(runs, "a", 1);
    auto b = counted(runs, "b", 2, {.required = {a}});
    Scheduler scheduler({a, b}, {.journal = journal_, .on_event = [&](const JobEvent& event) {
                                   events.push_back(absl::StrCat(
                                       event.job->label(), ":", static_cast<int>(event.kind)));
                                 }});
    EXPECT_TRUE(scheduler.run());
    return events;
  };
  const auto started = [](const char* label) {
    return absl::StrCat(label, ":", static_cast<int>(JobEvent::Kind::kStarted));
  };
  const auto done = [](const char* label) {
    return absl::StrCat(label, ":", static_cast<int>(JobEvent::Kind::kDone));
  };
  const auto restored = [](const char* label) {
    return absl::StrCat(label, ":", static_cast<int>(JobEvent::Kind::kRestored));
  };
  EXPECT_EQ(scenario(), (std::vector<std::string>{started("a"), done("a"), started("b"),
                                                  done("b")}));
  EXPECT_EQ(scenario(), (std::vector<std::string>{restored("a"), restored("b")}));
  EXPECT_EQ(runs, (Runs{{"a", 1}, {"b", 1}}));
}

struct Point {
  int x, y;
};

TEST_F(JournalTest, AJobWithoutCodecRunsAgainAndSoDoesWhatRequiresIt) {
  Runs runs;
  std::string listing;
  auto scenario = [&] {
    auto a = counted(runs, "a", 1);
    auto point = counted(runs, "point", Point{1, 2}, {.required = {a}});
    auto after = counted(runs, "after", 3, {.required = {point}});
    auto aside = counted(runs, "aside", 4, {.required = {a}});
    Scheduler scheduler({a, point, after, aside}, {.journal = journal_});
    EXPECT_TRUE(scheduler.run());
    std::ostringstream out;
    scheduler.list(true, out);
    listing = out.str();
    return std::vector<bool>{a->restored(), point->restored(), after->restored(),
                             aside->restored()};
  };
  scenario();
  EXPECT_EQ(scenario(), (std::vector<bool>{true, false, false, true}));
  EXPECT_EQ(runs, (Runs{{"a", 1}, {"point", 2}, {"after", 2}, {"aside", 1}}));
  EXPECT_NE(listing.find("not journaled: no ResultCodec for asyncjobs::(anonymous "
                         "namespace)::Point"),
            std::string::npos)
      << listing;
  EXPECT_NE(listing.find("[[ restored -> 1]]"), std::string::npos) << listing;
}

// Make's rule across runs: `a` runs again (its record is gone), `b` then runs again and the
// run dies (critical failure) before `c`; the next run must not restore `c` from its record
// of the first run, which is older than `b`'s new one.
TEST_F(JournalTest, ARecordOlderThanWhatItRequiresIsStale) {
  Runs runs;
  bool b_fails = false;
  auto scenario = [&] {
    auto a = counted(runs, "a", 1);
    auto b = make_job(
        [&] {
          ++runs["b"];
          if (b_fails) throw std::runtime_error("b failed");
          return 2;
        },
        JobOptions{.label = "b", .required = {a}});
    auto c = counted(runs, "c", 3, {.required = {b}});
    Scheduler scheduler({a, b, c}, {.critical = false, .journal = journal_});
    scheduler.run();
    return std::vector<bool>{a->restored(), b->restored(), c->restored()};
  };
  scenario();
  sql(journal_, "DELETE FROM records WHERE key = 'a'");
  b_fails = true;
  EXPECT_EQ(scenario(), (std::vector<bool>{false, false, false}));
  b_fails = false;
  EXPECT_EQ(scenario(), (std::vector<bool>{true, false, false}));
  EXPECT_EQ(runs, (Runs{{"a", 2}, {"b", 3}, {"c", 2}}));
  EXPECT_EQ(scenario(), (std::vector<bool>{true, true, true}));
}

TEST_F(JournalTest, NestedSchedulersRestoreJobByJobUnderTheirKeys) {
  Runs runs;
  auto scenario = [&](bool forget_x) {
    auto x = counted(runs, "x", 1);
    auto p = counted(runs, "p", 2);
    auto q = counted(runs, "q", 3, {.required = {p}});
    auto inner = make_scheduler({p, q}, {.label = "inner", .required = {x}});
    auto y = counted(runs, "y", 4, {.required = {inner}});
    // The same label in another scheduler is another key.
    auto other_p = counted(runs, "other/p", 5);
    Scheduler scheduler({x, inner, y, other_p}, {.journal = journal_});
    EXPECT_TRUE(scheduler.run());
    return std::vector<bool>{x->restored(), p->restored(), q->restored(), inner->restored(),
                             y->restored()};
  };
  EXPECT_EQ(scenario(false), std::vector<bool>(5, false));
  EXPECT_EQ(scenario(false), std::vector<bool>(5, true));
  sql(journal_, "DELETE FROM records WHERE key = 'x'");
  // `inner` requires `x`, which runs again: so do its jobs and what requires it.
  EXPECT_EQ(scenario(true), std::vector<bool>(5, false));
  EXPECT_EQ(runs, (Runs{{"x", 2}, {"p", 2}, {"q", 2}, {"y", 2}, {"other/p", 1}}));
  sql(journal_, "DELETE FROM records WHERE key = 'inner/q'");
  // Only q, then y: inner is not restored as a whole, p is.
  EXPECT_EQ(scenario(false), (std::vector<bool>{true, true, false, false, false}));
}

TEST_F(JournalTest, TwoJobsWithOneKeyPathThrowBeforeAnythingRuns) {
  Runs runs;
  auto first = counted(runs, "first", 1, {.key = "same"});
  auto second = counted(runs, "second", 2, {.key = "same"});
  Scheduler scheduler({first, second}, {.journal = journal_});
  try {
    scheduler.run();
    FAIL() << "no GraphError";
  } catch (const GraphError& error) {
    const std::string what = error.what();
    EXPECT_NE(what.find("`first`"), std::string::npos) << what;
    EXPECT_NE(what.find("`second`"), std::string::npos) << what;
    EXPECT_NE(what.find("`same`"), std::string::npos) << what;
  }
  EXPECT_TRUE(runs.empty());
  EXPECT_TRUE(first->is_idle());
}

TEST_F(JournalTest, AFileThatIsNotAJournalThrowsAndStaysUnchanged) {
  {
    std::ofstream garbage(journal_, std::ios::binary);
    garbage << std::string(4096, 'x') << "not a database";
  }
  const std::string before = file_bytes(journal_);
  Runs runs;
  Scheduler scheduler({counted(runs, "a", 1)}, {.journal = journal_});
  try {
    scheduler.run();
    FAIL() << "no JournalError";
  } catch (const JournalError& error) {
    EXPECT_NE(std::string(error.what()).find(journal_), std::string::npos) << error.what();
  }
  EXPECT_TRUE(runs.empty());
  EXPECT_EQ(file_bytes(journal_), before);
  EXPECT_NE(access((journal_ + "-wal").c_str(), F_OK), 0);
}

TEST_F(JournalTest, AJournalOfANewerFormatThrowsAndStaysUnchanged) {
  Runs runs;
  EXPECT_TRUE(Scheduler({counted(runs, "a", 1)}, {.journal = journal_}).run());
  sql(journal_, "PRAGMA user_version = 99");
  const std::string before = file_bytes(journal_);
  Scheduler scheduler({counted(runs, "a", 1)}, {.journal = journal_});
  try {
    scheduler.run();
    FAIL() << "no JournalError";
  } catch (const JournalError& error) {
    const std::string what = error.what();
    EXPECT_NE(what.find(journal_), std::string::npos) << what;
    EXPECT_NE(what.find("format 99"), std::string::npos) << what;
  }
  EXPECT_EQ(runs["a"], 1);
  EXPECT_EQ(file_bytes(journal_), before);
}

TEST_F(JournalTest, AnotherDatabaseIsNotAJournal) {
  sql(journal_, "CREATE TABLE mine(x); INSERT INTO mine VALUES(1)");
  const std::string before = file_bytes(journal_);
  Runs runs;
  EXPECT_THROW(Scheduler({counted(runs, "a", 1)}, {.journal = journal_}).run(), JournalError);
  EXPECT_EQ(file_bytes(journal_), before);
}

TEST_F(JournalTest, UnknownKeysAreIgnored) {
  Runs runs;
  Scheduler({counted(runs, "a", 1), counted(runs, "old", 2)}, {.journal = journal_}).run();
  auto a = counted(runs, "a", 1);
  auto fresh = counted(runs, "new", 3);
  EXPECT_TRUE(Scheduler({a, fresh}, {.journal = journal_}).run());
  EXPECT_TRUE(a->restored());
  EXPECT_FALSE(fresh->restored());
  EXPECT_EQ(runs, (Runs{{"a", 1}, {"old", 1}, {"new", 1}}));
}

// The interrupted scenarios: `done` returns at once; `late` needs `done` and ends the run
// (Ctrl-C, a critical exception, the run's timeout) the first time only.
enum class Interruption { kSignal, kCritical, kTimeout, kJobTimeout };

class JournalRerunTest : public JournalTest,
                         public ::testing::WithParamInterface<Interruption> {};

TEST_P(JournalRerunTest, RerunRestoresWhatFinishedBeforeTheInterruption) {
  Runs runs;
  const Interruption how = GetParam();
  auto scenario = [&](bool interrupt) {
    auto done = counted(runs, "done", 1);
    auto independent = counted(runs, "independent", 2);
    JobOptions late_options{.label = "late", .required = {done}};
    if (interrupt && how == Interruption::kJobTimeout) {
      late_options.timeout = absl::Milliseconds(50);
    }
    auto late = make_job(
        [&runs, interrupt, how] {
          ++runs["late"];
          if (!interrupt) return 3;
          switch (how) {
            case Interruption::kSignal:
              raise(SIGINT);
              break;
            case Interruption::kCritical:
              throw std::runtime_error("critical failure");
            default:
              break;
          }
          sleep_for(absl::Seconds(30));
          return 3;
        },
        late_options);
    auto last = counted(runs, "last", 4, {.required = {late}});
    SchedulerOptions options{.critical = false,
                             .cancel_on_signals = {SIGINT},
                             .journal = journal_};
    if (interrupt && how == Interruption::kTimeout) options.timeout = absl::Milliseconds(50);
    Scheduler scheduler({done, independent, late, last}, options);
    const bool ok = scheduler.run();
    EXPECT_EQ(ok, !interrupt);
    return std::vector<bool>{done->restored(), independent->restored(), late->restored(),
                             last->restored()};
  };
  EXPECT_EQ(scenario(true), std::vector<bool>(4, false));
  EXPECT_EQ(scenario(false), (std::vector<bool>{true, true, false, false}));
  EXPECT_EQ(runs, (Runs{{"done", 1}, {"independent", 1}, {"late", 2}, {"last", 1}}));
}

INSTANTIATE_TEST_SUITE_P(Interruptions, JournalRerunTest,
                         ::testing::Values(Interruption::kSignal, Interruption::kCritical,
                                           Interruption::kTimeout, Interruption::kJobTimeout));

TEST_F(JournalTest, ForeverJobsRunEveryTime) {
  Runs runs;
  for (int run = 0; run < 2; ++run) {
    auto service = make_job(
        [&runs] {
          ++runs["service"];
          sleep_for(absl::Seconds(30));
          return 1;
        },
        JobOptions{.label = "service", .forever = true});
    auto work = counted(runs, "work", 2);
    Scheduler scheduler({service, work}, {.journal = journal_});
    EXPECT_TRUE(scheduler.run());
    EXPECT_EQ(work->restored(), run == 1);
    EXPECT_FALSE(service->restored());
    EXPECT_FALSE(service->is_done());  // cancelled at the end, as without a journal
  }
  EXPECT_EQ(runs["work"], 1);
}

TEST_F(JournalTest, ProcessJobsAreJournaled) {
  for (int run = 0; run < 2; ++run) {
    auto echo = make_process_job({"sh", "-c", "echo run; echo err >&2"}, {.label = "echo"});
    Scheduler scheduler({echo}, {.journal = journal_});
    EXPECT_TRUE(scheduler.run());
    EXPECT_EQ(echo->restored(), run == 1);
    const auto result = echo->result<ProcessResult>();
    EXPECT_EQ(result.out, "run\n");
    EXPECT_EQ(result.err, "err\n");
    EXPECT_EQ(result.exit_code, 0);
  }
}

TEST_F(JournalTest, APendingTokenOutlivesAFailedRunAndGoesWhenTheJobIsRecorded) {
  std::vector<std::string> seen;
  for (int run = 0; run < 3; ++run) {
    auto job = make_job(
        [&seen, run] {
          const AbstractJob& self = *current_job();
          seen.push_back(internal::journal_pending(self).value_or("none"));
          internal::record_pending(self, "slurm:" + std::to_string(1000 + run));
          if (run == 0) throw std::runtime_error("orchestrator died");
          return run;
        },
        JobOptions{.label = "batch"});
    Scheduler({job}, {.critical = false, .journal = journal_}).run();
  }
  // Run 2 restored the job: it did not run.
  EXPECT_EQ(seen, (std::vector<std::string>{"none", "slurm:1000"}));
  sql(journal_, "DELETE FROM records");
  auto job = make_job([&seen] { seen.push_back(internal::journal_pending(*current_job()).value_or("none")); },
                      JobOptions{.label = "batch"});
  Scheduler({job}, {.journal = journal_}).run();
  EXPECT_EQ(seen.back(), "none");
}

TEST_F(JournalTest, TraceAndVerboseSayRestored) {
  for (int run = 0; run < 2; ++run) {
    Runs runs;
    auto a = counted(runs, "a", 1);
    Scheduler scheduler({a}, {.verbose = run == 1, .journal = journal_});
    ::testing::internal::CaptureStdout();
    scheduler.run();
    const std::string said = ::testing::internal::GetCapturedStdout();
    if (run == 0) continue;
    EXPECT_NE(said.find("RESTORED: <Job `a`>"), std::string::npos) << said;
    const std::string trace = temp_path("trace.json");
    scheduler.export_trace(trace);
    EXPECT_NE(file_bytes(trace).find("\"outcome\":\"restored\""), std::string::npos);
  }
}

// Restored jobs free their successors in a loop: a long restored chain must not recurse
// (5,000 frames would overflow a 256 KiB fiber stack).
TEST_F(JournalTest, ALongChainIsRestoredWithoutRecursion) {
  constexpr int kJobs = 5000;
  for (int run = 0; run < 2; ++run) {
    Scheduler scheduler({.jobs_window = 2, .journal = journal_});
    JobPtr previous;
    std::vector<JobPtr> chain;
    for (int i = 0; i < kJobs; ++i) {
      auto job = make_job([i] { return i; }, JobOptions{.label = "c" + std::to_string(i)});
      if (previous) job->require(previous);
      scheduler.add(job);
      chain.push_back(previous = job);
    }
    EXPECT_TRUE(scheduler.run());
    EXPECT_EQ(chain.back()->restored(), run == 1);
    EXPECT_EQ(chain.back()->result<int>(), kJobs - 1);
    EXPECT_EQ(scheduler.restored(), run == 1);
  }
}

// A job type that does not override result_coder() is never journaled, and says so.
class Opaque : public AbstractJob {
 public:
  using AbstractJob::AbstractJob;
  Value co_run() override { return 7; }
};

TEST_F(JournalTest, AJobTypeWithoutResultCoderRunsAgainAndSaysWhy) {
  for (int run = 0; run < 2; ++run) {
    auto opaque = std::make_shared<Opaque>(JobOptions{.label = "opaque"});
    Scheduler scheduler({opaque}, {.journal = journal_});
    EXPECT_TRUE(scheduler.run());
    EXPECT_FALSE(opaque->restored());
    std::ostringstream out;
    scheduler.list(true, out);
    EXPECT_NE(out.str().find("not journaled: Opaque does not say its result type"),
              std::string::npos)
        << out.str();
  }
}

TEST_F(JournalTest, WithoutAJournalNothingIsWrittenNorRestored) {
  Runs runs;
  for (int run = 0; run < 2; ++run) {
    auto a = counted(runs, "a", 1);
    EXPECT_TRUE(Scheduler({a}).run());
    EXPECT_FALSE(a->restored());
  }
  EXPECT_EQ(runs["a"], 2);
}

TEST_F(JournalTest, TheJournalIsHeldByOneRunAtATime) {
  Runs runs;
  auto outer_job = make_job(
      [&] {
        Scheduler inner({counted(runs, "inner", 1)}, {.journal = journal_});
        inner.run();
      },
      JobOptions{.label = "outer_job"});
  Scheduler outer({outer_job}, {.critical = false, .journal = journal_});
  EXPECT_FALSE(outer.run());
  ASSERT_TRUE(outer_job->raised_exception());
  try {
    std::rethrow_exception(outer_job->raised_exception());
  } catch (const JournalError& error) {
    EXPECT_NE(std::string(error.what()).find("in use by another run"), std::string::npos)
        << error.what();
  }
}

}  // namespace
}  // namespace asyncjobs
