// Scheduler::export_trace: the last run as Chrome trace event JSON (chrome://tracing,
// ui.perfetto.dev).
//
// Many jobs overlap on one thread, so each job is an async span ("b"/"e") keyed by its
// listing id rather than a nested "B"/"E" slice. A nested scheduler is a span of its own,
// enclosing its jobs in time.
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "asyncjobs/internal/scheduler/job_ids.h"
#include "asyncjobs/internal/jobs/job_text.h"
#include "asyncjobs/scheduler.h"

namespace asyncjobs {
namespace {

using internal::JobIds;

std::string json_string(absl::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      absl::StrAppend(&out, "\\", std::string(1, c));
    } else if (static_cast<unsigned char>(c) < 0x20) {
      absl::StrAppendFormat(&out, "\\u%04x", c);
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string outcome(const AbstractJob& job) {
  if (job.is_cancelled()) return "cancelled";
  if (job.restored()) return "restored";
  if (job.raised_exception()) {
    return absl::StrCat("raised: ", internal::exception_text(job.raised_exception()).what);
  }
  return job.is_done() ? "done" : "not done";
}

class TraceWriter {
 public:
  TraceWriter(const JobIds& ids, absl::Time origin) : ids_(ids), origin_(origin) {}

  // Appends a span for each job of `scheduler` that ran; `path` names `scheduler`.
  void write(const Scheduler& scheduler, const std::string& path) {
    for (const JobPtr& job : scheduler.topological_order()) {
      if (job->start_time() == absl::InfinitePast()) continue;  // never started
      const std::string args = arguments(*job, path);
      events_.push_back(event(*job, "b", job->start_time(), args));
      if (const Scheduler* nested = internal::nested_scheduler(*job)) {
        write(*nested, absl::StrCat(path, " / ", nested->label()));
      }
      write_attempts(*job, path);
      events_.push_back(event(*job, "e", job->end_time(), args));
    }
  }

  std::string json(const std::string& process_name) const {
    const std::string metadata = absl::StrCat(
        R"({"name":"process_name","ph":"M","pid":1,"tid":1,"args":{"name":)",
        json_string(process_name), "}}");
    std::vector<std::string> all = {metadata};
    all.insert(all.end(), events_.begin(), events_.end());
    return absl::StrCat("{\"traceEvents\":[\n", absl::StrJoin(all, ",\n"),
                        "\n],\"displayTimeUnit\":\"ms\"}\n");
  }

 private:
  // With a timeout or retries, one span per attempt inside the job's own span.
  void write_attempts(const AbstractJob& job, const std::string& path) {
    if (!job.has_attempt_policy()) return;
    const auto times = job.attempt_times();
    for (size_t i = 0; i < times.size(); ++i) {
      const std::string name = absl::StrCat(job.label(), " attempt ", i + 1);
      const std::string id = absl::StrCat(ids_.of(job), ".", i + 1);
      const std::string args = absl::StrCat("{\"attempt\":", i + 1, ",\"scheduler\":",
                                            json_string(path), "}");
      const absl::Time end = times[i].second == absl::InfinitePast() ? times[i].first
                                                                     : times[i].second;
      events_.push_back(span_event(name, id, "b", times[i].first, args));
      events_.push_back(span_event(name, id, "e", end, args));
    }
  }

  std::string arguments(const AbstractJob& job, const std::string& path) const {
    return absl::StrCat("{\"outcome\":", json_string(outcome(job)),
                        ",\"attempts\":", job.attempts(),
                        ",\"scheduler\":", json_string(path),
                        ",\"critical\":", job.critical() ? "true" : "false",
                        ",\"forever\":", job.forever() ? "true" : "false", "}");
  }

  std::string event(const AbstractJob& job, absl::string_view phase, absl::Time at,
                    const std::string& args) const {
    // A job still running has no end yet: its span stops where it started.
    if (at == absl::InfinitePast()) at = job.start_time();
    return span_event(job.label(), std::string(ids_.of(job)), phase, at, args);
  }

  std::string span_event(absl::string_view name, const std::string& id,
                         absl::string_view phase, absl::Time at, const std::string& args) const {
    return absl::StrCat(
        "{\"name\":", json_string(name), ",\"cat\":\"asyncjobs\",\"ph\":\"", phase,
        "\",\"id\":", json_string(id), ",\"ts\":",
        absl::StrFormat("%.3f", absl::ToDoubleMicroseconds(at - origin_)),
        ",\"pid\":1,\"tid\":1,\"args\":", args, "}");
  }

  const JobIds& ids_;
  absl::Time origin_;
  std::vector<std::string> events_;
};

}  // namespace

void Scheduler::export_trace(const std::string& path) const {
  const JobIds ids = JobIds::topological(*this);
  TraceWriter writer(ids, run_start());
  if (run_start() != absl::InfinitePast()) writer.write(*this, label());
  std::ofstream file(path, std::ios::trunc);
  file << writer.json(absl::StrCat("asyncjobs: ", label()));
  file.close();
  if (!file) throw std::runtime_error(absl::StrCat("asyncjobs: cannot write ", path));
}

}  // namespace asyncjobs
