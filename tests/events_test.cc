// SchedulerOptions::on_event: the events of a run, at every depth, in order.
#include <string>
#include <vector>

#include "asyncjobs/asyncjobs.h"
#include "asyncjobs/internal/jobs/job_output.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace aj = asyncjobs;
using aj::testing::Boom;
using Kind = aj::JobEvent::Kind;

namespace {

class EventsTest : public aj::testing::NothingLeftRunning<> {};

std::string kind_name(Kind kind) {
  switch (kind) {
    case Kind::kStarted:
      return "started";
    case Kind::kDone:
      return "done";
    case Kind::kRaised:
      return "raised";
    case Kind::kCancelled:
      return "cancelled";
    case Kind::kRetrying:
      return "retrying";
    case Kind::kRestored:
      return "restored";
    case Kind::kOutput:
      return "output";
  }
  return "?";
}

// Records "kind label[: text]" per event, checking that times never go back.
struct Recorder {
  std::vector<std::string> lines;
  absl::Time last = absl::InfinitePast();
  bool times_in_order = true;
  std::function<void(const aj::JobEvent&)> callback(std::string prefix = "") {
    return [this, prefix](const aj::JobEvent& event) {
      std::string line = prefix + kind_name(event.kind) + " " + event.job->label();
      if (!event.text.empty()) line += ": " + std::string(event.text);
      lines.push_back(line);
      if (event.time < last) times_in_order = false;
      last = event.time;
    };
  }
};

aj::JobOptions labelled(std::string label, bool critical = true) {
  aj::JobOptions options;
  options.label = std::move(label);
  options.critical = critical;
  return options;
}

TEST_F(EventsTest, EveryStartEndRetryAndOutputLineAtEveryDepthInOrder) {
  Recorder recorder;
  auto first = aj::make_job([] {}, labelled("first"));
  int attempts = 0;
  aj::JobOptions flaky_options = labelled("flaky");
  flaky_options.retries = 1;
  auto flaky = aj::make_job(
      [&attempts] {
        if (++attempts == 1) throw Boom("boom");
        return 42;
      },
      std::move(flaky_options));
  auto inner = aj::make_scheduler({flaky}, {.label = "inner", .required = {first}});
  aj::ProcessOptions talk;
  talk.argv = {"sh", "-c", "echo one; echo two >&2"};
  auto talker = std::make_shared<aj::ProcessJob>(talk, labelled("talker"));
  talker->require(inner);
  auto bad = aj::make_job([]() -> int { throw Boom("bad"); }, labelled("bad", false));
  bad->require(talker);

  aj::Scheduler scheduler({first, inner, talker, bad}, {.on_event = recorder.callback()});
  EXPECT_TRUE(scheduler.run());

  const std::vector<std::string> expected = {
      "started first",        "done first",         "started inner", "started flaky",
      "retrying flaky: boom", "done flaky",         "done inner",    "started talker",
      "output talker: one",   "output talker: two", "done talker",   "started bad",
      "raised bad: bad"};
  EXPECT_EQ(recorder.lines, expected);
  EXPECT_TRUE(recorder.times_in_order);
}

TEST_F(EventsTest, NestedSchedulersOwnCallbackHearsItsJobsFirst) {
  std::vector<std::string> log;
  auto deep = aj::make_job([] {}, labelled("deep"));
  auto innermost = aj::make_scheduler({deep}, {.label = "innermost"});
  auto middle = aj::make_scheduler(
      {innermost}, {.label = "middle", .on_event = [&log](const aj::JobEvent& event) {
                      log.push_back("middle " + event.job->label());
                    }});
  aj::Scheduler top({middle}, {.on_event = [&log](const aj::JobEvent& event) {
                      log.push_back("top " + event.job->label());
                    }});
  EXPECT_TRUE(top.run());
  const std::vector<std::string> expected = {
      "top middle",  "middle innermost", "top innermost",    "middle deep",   "top deep",
      "middle deep", "top deep",         "middle innermost", "top innermost", "top middle"};
  EXPECT_EQ(log, expected);
}

TEST_F(EventsTest, CancelledJobEndsCancelledAndJobsThatNeverStartGetNoEvent) {
  Recorder recorder;
  aj::Event never;
  auto waiter = aj::make_job([&never] { never.wait(); }, labelled("waiter"));
  auto after = aj::make_job([] {}, labelled("after"));
  after->require(waiter);
  auto canceller = aj::make_job([&waiter] { waiter->cancel(); }, labelled("canceller"));
  aj::Scheduler scheduler({waiter, after, canceller},
                          {.critical = false, .on_event = recorder.callback()});
  EXPECT_FALSE(scheduler.run());
  const std::vector<std::string> expected = {"started waiter", "started canceller",
                                             "done canceller", "cancelled waiter"};
  EXPECT_EQ(recorder.lines, expected);
}

TEST_F(EventsTest, RunCancelledFromAJobEndsWhatRunsAsCancelled) {
  Recorder recorder;
  aj::Event never;
  aj::Scheduler* self = nullptr;
  // (A wait with a deadline: a run whose jobs wait for nothing that can come deadlocks.)
  auto sleeper = aj::make_job([&never] { never.wait(absl::Seconds(60)); }, labelled("sleeper"));
  auto stopper = aj::make_job([&self] { self->request_cancel(); }, labelled("stopper"));
  aj::Scheduler scheduler({sleeper, stopper}, {.critical = false, .on_event = recorder.callback()});
  self = &scheduler;
  EXPECT_FALSE(scheduler.run());
  EXPECT_EQ(scheduler.why(), "CANCELLED");
  const std::vector<std::string> expected = {"started sleeper", "started stopper", "done stopper",
                                             "cancelled sleeper"};
  EXPECT_EQ(recorder.lines, expected);
}

TEST_F(EventsTest, OutputReportedOnlyForJobsOfARunThatWatches) {
  EXPECT_FALSE(aj::internal::output_wanted());  // outside any job
  aj::internal::report_output("nobody hears this");
  bool wanted_unwatched = true, wanted_watched = false;
  aj::Scheduler unwatched(
      {aj::make_job([&] { wanted_unwatched = aj::internal::output_wanted(); })});
  EXPECT_TRUE(unwatched.run());
  EXPECT_FALSE(wanted_unwatched);
  Recorder recorder;
  aj::Scheduler watched({aj::make_job(
                            [&] {
                              wanted_watched = aj::internal::output_wanted();
                              aj::internal::report_output("by hand");
                            },
                            labelled("reporter"))},
                        {.on_event = recorder.callback()});
  EXPECT_TRUE(watched.run());
  EXPECT_TRUE(wanted_watched);
  const std::vector<std::string> expected = {"started reporter", "output reporter: by hand",
                                             "done reporter"};
  EXPECT_EQ(recorder.lines, expected);
}

TEST_F(EventsTest, ASignalInBothCancelAndDrainListsIsRefused) {
  EXPECT_THROW(aj::Scheduler({.cancel_on_signals = {SIGINT}, .drain_on_signals = {SIGINT}}),
               std::invalid_argument);
}

}  // namespace
