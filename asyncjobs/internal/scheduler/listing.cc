// Scheduler's text views: list, list_safe, debrief, stats and repr, in the original's shapes.
#include "asyncjobs/listing.h"

#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "asyncjobs/internal/scheduler/job_ids.h"
#include "asyncjobs/internal/scheduler/scheduler_journal.h"
#include "asyncjobs/internal/jobs/job_text.h"
#include "asyncjobs/scheduler.h"

namespace asyncjobs {
namespace {

using internal::JobIds;

std::string requires_text(const AbstractJob& job, const JobIds& ids) {
  const std::string set = ids.set(job.required());
  return set.empty() ? "" : absl::StrCat("requires=", set);
}

// "timeout 0.5s, retries 2, 3 attempt(s)" for a job with a timeout or retries.
std::string attempts_text(const AbstractJob& job) {
  if (!job.has_attempt_policy()) return "";
  std::vector<std::string> parts;
  if (job.timeout() != absl::InfiniteDuration()) {
    parts.push_back(absl::StrCat("timeout ", absl::FormatDuration(job.timeout())));
  }
  if (job.retries() > 0) parts.push_back(absl::StrCat("retries ", job.retries()));
  parts.push_back(absl::StrCat(job.attempts(), " attempt(s)"));
  return absl::StrJoin(parts, ", ");
}

// list(): one line per job, a nested scheduler framed by its entries and exits.
class Lister {
 public:
  Lister(const JobIds& ids, bool details, std::ostream& out)
      : ids_(ids), details_(details), out_(out) {}

  void list(const Scheduler& scheduler, int depth) const {
    for (const JobPtr& job : scheduler.topological_order()) {
      if (const Scheduler* nested = internal::nested_scheduler(*job)) {
        list_nested(*nested, depth);
      } else {
        list_job(*job, depth, "");
      }
    }
  }

 private:
  void list_job(const AbstractJob& job, int depth, const std::string& suffix) const {
    const std::string indent = depth > 0 ? absl::StrCat(std::string(depth, '>'), " ") : "";
    out_ << ids_.of(job) << " " << internal::badge(job) << " " << indent
         << internal::job_main(job) << " " << internal::job_result(job) << " "
         << requires_text(job, ids_) << suffix << "\n";
    if (!details_) return;
    const std::string details = job.details();
    if (!details.empty()) out_ << details << "\n";
    const std::string limits = attempts_text(job);
    if (!limits.empty()) out_ << limits << "\n";
    const std::string journal = internal::journal_note(job);
    if (!journal.empty()) out_ << journal << "\n";
  }

  void list_nested(const Scheduler& nested, int depth) const {
    list_job(nested, depth, absl::StrCat(" -> entries=", ids_.set(nested.entry_jobs())));
    list(nested, depth + 1);
    out_ << ids_.of(nested) << " --end-- " << std::string(depth + 1, '<') << " "
         << internal::job_main(nested) << " exits=" << ids_.set(nested.exit_jobs()) << "\n";
  }

  const JobIds& ids_;
  bool details_;
  std::ostream& out_;
};

// list_safe(): insertion order, no graph traversal, so any graph will do.
void list_safe_jobs(const Scheduler& scheduler, const JobIds& ids, std::ostream& out) {
  for (const JobPtr& job : scheduler.jobs()) {
    out << internal::badge(*job) << " " << ids.of(*job) << " " << internal::job_main(*job)
        << " " << requires_text(*job, ids) << "\n";
    if (const Scheduler* nested = internal::nested_scheduler(*job)) {
      list_safe_jobs(*nested, ids, out);
      out << "--end-- " << ids.of(*job) << "\n";
    }
  }
}

// The exception of a critical job, framed like the original's stack dumps.
void show_critical(const AbstractJob& job, const JobIds& ids, std::ostream& out) {
  const std::string margin(4, ' ');
  const std::string rule = absl::StrCat(margin, std::string(20, '*'));
  const std::string title = absl::StrCat("stack for CRITICAL JOB ", ids.of(job), " ",
                                         internal::badge(job), " ", internal::job_main(job));
  const internal::ExceptionText text = internal::exception_text(job.raised_exception());
  out << rule << "\n" << rule << " BEG " << title << "\n" << rule << "\n";
  for (absl::string_view line : absl::StrSplit(absl::StrCat(text.type, ": ", text.what), '\n')) {
    out << margin << line << "\n";
  }
  out << rule << "\n" << rule << " END " << title << "\n" << rule << "\n";
}

void show_exceptions(const std::vector<JobPtr>& failed, const JobIds& ids, std::ostream& out) {
  int critical = 0;
  for (const JobPtr& job : failed) critical += job->critical() ? 1 : 0;
  out << "===== " << failed.size() << " job(s) with an exception, including " << critical
      << " critical\n";
  for (const JobPtr& job : failed) {
    if (job->critical()) show_critical(*job, ids, out);
  }
  for (const JobPtr& job : failed) {
    if (job->critical()) continue;
    out << "non-critical: " << job->label() << ": exception "
        << internal::exception_text(job->raised_exception()).what << "\n";
  }
}

// Direct members: done, ongoing (running), idle (or scheduled but not running yet).
struct Counts {
  int done = 0;
  int ongoing = 0;
  int idle = 0;
};

Counts count(const Scheduler& scheduler) {
  Counts counts;
  for (const JobPtr& job : scheduler.jobs()) {
    if (job->is_done()) {
      ++counts.done;
    } else if (job->is_running()) {
      ++counts.ongoing;
    } else {
      ++counts.idle;
    }
  }
  return counts;
}

}  // namespace

void Scheduler::list(bool details, std::ostream& out) const {
  Lister(JobIds::topological(*this), details, out).list(*this, 0);
}

void Scheduler::list_safe(std::ostream& out) const {
  list_safe_jobs(*this, JobIds::paths(*this), out);
}

void Scheduler::debrief(bool details, std::ostream& out) const {
  const JobIds ids = JobIds::topological(*this);
  out << "----- " << why() << "\n";
  Lister(ids, details, out).list(*this, 0);
  std::vector<JobPtr> failed;
  for (const JobPtr& job : topological_order()) {
    if (job->raised_exception()) failed.push_back(job);
  }
  if (!failed.empty()) show_exceptions(failed, ids, out);
  for (const JobPtr& job : iterate_jobs()) {
    if (job->is_abandoned()) {
      out << "abandoned: " << job->label() << ": ignored cancellation, its fiber never resumed\n";
    }
  }
  for (const ShutdownError& failure : shutdown_errors()) {
    const internal::ExceptionText text = internal::exception_text(failure.error);
    out << "shutdown: " << failure.label << ": exception " << text.type << ":" << text.what
        << "\n";
  }
}

std::string Scheduler::stats() const {
  const Counts counts = count(*this);
  return absl::StrCat(counts.done, "D + ", counts.ongoing, "R + ", counts.idle, "I = ",
                      size());
}

std::string Scheduler::repr() const {
  const Counts counts = count(*this);
  return absl::StrCat(type_name(), " with ", counts.done, " done + ", counts.ongoing,
                      " ongoing + ", counts.idle, " idle = ", size(), " job(s)");
}

}  // namespace asyncjobs
