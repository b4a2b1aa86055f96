// PrintJob: prints its messages, stamped by its scheduler's watch.
#include "asyncjobs/print_job.h"

#include <iostream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "asyncjobs/fiber_calls.h"
#include "asyncjobs/internal/jobs/job_output.h"
#include "asyncjobs/scheduler.h"

namespace asyncjobs {
namespace {

class PrintJob : public AbstractJob {
 public:
  PrintJob(std::vector<std::string> messages, PrintOptions print, JobOptions options)
      : AbstractJob(std::move(options)), messages_(std::move(messages)), print_(std::move(print)) {}

  Value co_run() override {
    std::ostream& out = print_.out != nullptr ? *print_.out : std::cout;
    const std::string banner = print_.banner.empty() ? "" : absl::StrCat(print_.banner, " ");
    // Through print_line: above a live progress view, if one is drawn.
    internal::print_line(out, absl::StrCat(banner, stamp(), absl::StrJoin(messages_, " ")));
    if (print_.sleep > absl::ZeroDuration()) {
      internal::print_line(out, absl::StrCat("Sleeping for ", seconds(print_.sleep), "s"));
      sleep_for(print_.sleep);
    }
    return {};
  }
  std::string type_name() const override { return "PrintJob"; }
  std::string details() const override {
    std::string text;
    if (print_.sleep > absl::ZeroDuration()) {
      absl::StrAppend(&text, "[+ sleep ", seconds(print_.sleep), "s] ");
    }
    absl::StrAppend(&text, "msg= ", messages_.empty() ? "" : messages_.front(),
                    messages_.size() > 1 ? "..." : "");
    return text;
  }

 private:
  // Shortest decimal seconds, as the original prints a Python number: "0.5", "2".
  static std::string seconds(absl::Duration duration) {
    return absl::StrFormat("%g", absl::ToDoubleSeconds(duration));
  }
  // The enclosing scheduler's watch time, as its progress messages show it.
  std::string stamp() const {
    const Watch* watch = enclosing_watch();
    return watch != nullptr ? absl::StrCat(watch->elapsed(), " ") : "";
  }
  const Watch* enclosing_watch() const {
    for (const AbstractJob* up = parent(); up != nullptr; up = up->parent()) {
      if (const Watch* watch = static_cast<const Scheduler*>(up)->options().watch) return watch;
    }
    return nullptr;
  }

  std::vector<std::string> messages_;
  PrintOptions print_;
};

}  // namespace

std::shared_ptr<AbstractJob> make_print_job(std::vector<std::string> messages,
                                            PrintOptions print, JobOptions options) {
  return std::make_shared<PrintJob>(std::move(messages), std::move(print), std::move(options));
}

}  // namespace asyncjobs
