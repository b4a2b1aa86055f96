// Chrome trace export: python3 parses the JSON and summarises its spans.

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "asyncjobs/asyncjobs.h"
#include "gtest/gtest.h"

namespace asyncjobs {
namespace {

// Checks that each "b" has its "e" (same id, name, cat), that times are sane and that
// jobs of a nested scheduler lie within its span; prints one line per span, then "ok".
constexpr char kChecker[] = R"(
import json, sys
events = json.load(open(sys.argv[1]))["traceEvents"]
assert all(e["ph"] in ("b", "e", "M") for e in events), "only async spans and metadata"
begins = [e for e in events if e["ph"] == "b"]
ends = {e["id"]: e for e in events if e["ph"] == "e"}
assert len(ends) == len(begins) == len({b["id"] for b in begins}), "one span per id"
spans = {}
for b in begins:
    e = ends[b["id"]]
    assert (e["name"], e["cat"]) == (b["name"], b["cat"]), b
    assert 0 <= b["ts"] <= e["ts"], b
    spans[b["name"]] = (b["ts"], e["ts"])
    print(b["name"], b["args"]["outcome"], "[" + b["args"]["scheduler"] + "]")
for b in begins:
    path = b["args"]["scheduler"].split(" / ")
    if len(path) > 1:
        outer, inner = spans[path[-1]], spans[b["name"]]
        assert outer[0] <= inner[0] and inner[1] <= outer[1], (b, outer)
if "a" in spans:
    assert spans["a"][1] - spans["a"][0] >= 9000, spans["a"]
print("ok")
)";

std::string temp_path(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return absl::StrCat(dir != nullptr ? dir : "/tmp", "/", name);
}

std::string read(const std::string& path) {
  std::ifstream file(path);
  return std::string(std::istreambuf_iterator<char>(file), {});
}

// The checker's output for the trace at `path`; skips the test without python3.
std::string check_with_python(const std::string& path) {
  const std::string script = temp_path("check_trace.py");
  std::ofstream(script) << kChecker;
  const std::string output = absl::StrCat(path, ".summary");
  const int status =
      std::system(absl::StrCat("python3 ", script, " ", path, " > ", output, " 2>&1").c_str());
  const std::string summary = read(output);
  EXPECT_EQ(status, 0) << summary;
  return summary;
}

bool have_python() { return std::system("command -v python3 >/dev/null 2>&1") == 0; }

std::shared_ptr<Job> sleeper(const std::string& label, absl::Duration duration,
                             std::vector<JobPtr> required = {}) {
  return make_job([duration] { sleep_for(duration); },
                  {.label = label, .required = std::move(required)});
}

TEST(TraceTest, OneSpanPerJobThatRanWithItsOutcome) {
  if (!have_python()) GTEST_SKIP() << "python3 is needed to parse the trace";
  auto a = sleeper("a", absl::Milliseconds(10));
  auto x = sleeper("x", absl::Milliseconds(5));
  auto n = make_scheduler({x, sleeper("y", absl::Milliseconds(1), {x})},
                          {.label = "n", .required = {a}});
  auto boom = make_job([] { throw std::runtime_error("bad \"quoted\" \\ value"); },
                       {.label = "boom", .critical = false});
  auto tick = make_job(
      [] {
        for (;;) sleep_for(absl::Milliseconds(1));
      },
      {.label = "tick", .forever = true});
  auto crash = make_job(
      [] {
        sleep_for(absl::Milliseconds(2));
        throw std::logic_error("kaboom");
      },
      {.label = "crash", .required = {n, boom}});
  auto never = sleeper("never", absl::ZeroDuration(), {crash});
  Scheduler scheduler{{a, n, boom, tick, crash, never}, {.label = "top", .critical = false}};
  EXPECT_FALSE(scheduler.run());

  const std::string path = temp_path("run.trace.json");
  scheduler.export_trace(path);
  EXPECT_EQ(check_with_python(path),
            "a done [top]\n"
            "n done [top]\n"
            "x done [top / n]\n"
            "y done [top / n]\n"
            "boom raised: bad \"quoted\" \\ value [top]\n"
            "tick cancelled [top]\n"
            "crash raised: kaboom [top]\n"
            "ok\n");
}

TEST(TraceTest, BeforeAnyRunTheTraceHasNoSpans) {
  if (!have_python()) GTEST_SKIP() << "python3 is needed to parse the trace";
  Scheduler scheduler{sleeper("idle", absl::ZeroDuration())};
  const std::string path = temp_path("empty.trace.json");
  scheduler.export_trace(path);
  EXPECT_EQ(check_with_python(path), "ok\n");
}

TEST(TraceTest, UnwritablePathThrows) {
  Scheduler scheduler;
  EXPECT_THROW(scheduler.export_trace("/nonexistent-dir/trace.json"), std::runtime_error);
}

}  // namespace
}  // namespace asyncjobs
