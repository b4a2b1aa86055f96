// The progress view: time-stamped lines, or a live block redrawn under the output.
#include "asyncjobs/internal/scheduler/progress_view.h"

#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "asyncjobs/internal/jobs/job_text.h"
#include "asyncjobs/internal/reactor/reactor.h"
#include "asyncjobs/job.h"

namespace asyncjobs::internal {
namespace {

// "0.3s", "12.3s", "2m05s", "1h02m".
std::string short_duration(absl::Duration duration) {
  const double seconds = std::max(0.0, absl::ToDoubleSeconds(duration));
  if (seconds < 60) return absl::StrFormat("%.1fs", seconds);
  const int64_t whole = static_cast<int64_t>(seconds);
  if (whole < 3600) return absl::StrFormat("%dm%02ds", whole / 60, whole % 60);
  return absl::StrFormat("%dh%02dm", whole / 3600, whole / 60 % 60);
}

// A job's output as one line of the block: control characters (tabs, escape sequences,
// carriage returns) would move the cursor, so they become spaces.
std::string printable(std::string_view text) {
  std::string line(text);
  for (char& c : line) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return line;
}

// At most `columns` characters of `line` (UTF-8: continuation bytes take no column).
std::string cut(std::string line, int columns) {
  int used = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    if ((static_cast<unsigned char>(line[i]) & 0xc0) == 0x80) continue;
    if (used++ == columns) {
      line.resize(i);
      break;
    }
  }
  return line;
}

std::string stamp(absl::Time time) {
  return absl::FormatTime("%H:%M:%E3S", time, absl::LocalTimeZone());
}

}  // namespace

ProgressView::ProgressView(Mode mode, std::ostream& out, int fd, size_t total, absl::Time start,
                           Reactor& reactor)
    : mode_(mode), out_(out), fd_(fd), total_(total), start_(start), reactor_(reactor) {
  if (mode_ != Mode::kLive) return;
  on_resize_ = std::make_unique<SignalCallback>(
      std::vector<int>{SIGWINCH},
      [](void* self) { static_cast<ProgressView*>(self)->resized_.store(true); }, this);
  previous_block_ = set_live_block(this);
  redraw(start_);
  start_ticker();
}

ProgressView::~ProgressView() {
  stop_ticker();
  if (mode_ == Mode::kLive) set_live_block(previous_block_);
}

bool ProgressView::live_on(int fd) {
  const char* term = std::getenv("TERM");
  return isatty(fd) && term != nullptr && *term != '\0' && std::string_view(term) != "dumb";
}

void ProgressView::on_event(const JobEvent& event) {
  const bool counted = !event.job->is_scheduler();
  switch (event.kind) {
    case JobEvent::Kind::kStarted:
      if (counted) running_[event.job] = Running{started_++, event.time, {}};
      break;
    case JobEvent::Kind::kOutput:
      if (auto it = running_.find(event.job); it != running_.end()) {
        it->second.last_line = printable(event.text);
      }
      break;
    case JobEvent::Kind::kDone:
    case JobEvent::Kind::kRaised:
    case JobEvent::Kind::kCancelled:
    case JobEvent::Kind::kRestored:
      if (counted) count_end(event);
      break;
    case JobEvent::Kind::kRetrying:
      break;
  }
  if (mode_ == Mode::kLines) {
    print_line_event(event);
  } else if (event.time - last_draw_ >= kRedrawPeriod) {
    redraw(event.time);  // jobs that never block keep the loop from calling tick()
  }
}

void ProgressView::count_end(const JobEvent& event) {
  running_.erase(event.job);
  switch (event.kind) {
    case JobEvent::Kind::kRaised:
      ++failed_;
      break;
    case JobEvent::Kind::kCancelled:
      ++cancelled_;
      break;
    default:
      ++done_;
  }
}

void ProgressView::print_line_event(const JobEvent& event) {
  std::string_view verb;
  switch (event.kind) {
    case JobEvent::Kind::kStarted:
      verb = "started  ";
      break;
    case JobEvent::Kind::kDone:
      verb = "done     ";
      break;
    case JobEvent::Kind::kRaised:
      verb = "FAILED   ";
      break;
    case JobEvent::Kind::kCancelled:
      verb = "cancelled";
      break;
    case JobEvent::Kind::kRetrying:
      verb = "retrying ";
      break;
    case JobEvent::Kind::kRestored:
      verb = "restored ";
      break;
    case JobEvent::Kind::kOutput:
      return;
  }
  std::string line =
      absl::StrCat(stamp(event.time), "  ", std::string(verb), " ", job_main(*event.job));
  const bool ended = event.kind == JobEvent::Kind::kDone || event.kind == JobEvent::Kind::kRaised ||
                     event.kind == JobEvent::Kind::kCancelled;
  if (ended)
    absl::StrAppend(&line, " after ", short_duration(event.time - event.job->start_time()));
  if (!event.text.empty()) absl::StrAppend(&line, ": ", std::string(event.text));
  print_line(out_, line);  // above another run's live block, if one is drawn
}

std::string ProgressView::counts(absl::Time now) const {
  const size_t ended = done_ + failed_ + cancelled_;
  const size_t waiting = total_ > ended + running_.size() ? total_ - ended - running_.size() : 0;
  std::string text = absl::StrCat(done_, " done, ", running_.size(), " running, ", failed_,
                                  " failed, ", waiting, " waiting");
  if (cancelled_ > 0) absl::StrAppend(&text, ", ", cancelled_, " cancelled");
  const absl::Duration elapsed = now - start_;
  absl::StrAppend(&text, " | ", short_duration(elapsed));
  if (ended > 0 && ended < total_) {  // at the pace the finished ones set
    absl::StrAppend(&text, " | ~", short_duration(elapsed * (total_ - ended) / ended), " left");
  }
  return text;
}

std::vector<std::string> ProgressView::block(absl::Time now, int columns, int rows) const {
  const int width = std::max(1, columns - 1);  // never the last column: no pending wrap
  const size_t height = static_cast<size_t>(std::max(1, rows - 1));  // the cursor's line below
  std::vector<std::string> lines{cut(counts(now), width)};
  if (draining_ && lines.size() < height) {
    lines.push_back(cut("draining, Ctrl-C again to cancel", width));
  }
  std::vector<const std::pair<const AbstractJob* const, Running>*> jobs;
  jobs.reserve(running_.size());
  for (const auto& entry : running_) jobs.push_back(&entry);
  std::sort(jobs.begin(), jobs.end(),
            [](const auto* a, const auto* b) { return a->second.order < b->second.order; });
  const size_t room = height - lines.size();
  const size_t shown = jobs.size() <= room ? jobs.size() : (room > 0 ? room - 1 : 0);
  for (size_t i = 0; i < shown; ++i) {
    const auto& [job, running] = *jobs[i];
    std::string line = absl::StrCat("  ", job->label(), "  ", short_duration(now - running.start));
    if (!running.last_line.empty()) absl::StrAppend(&line, "  ", running.last_line);
    lines.push_back(cut(std::move(line), width));
  }
  if (shown < jobs.size() && room > 0) {
    lines.push_back(cut(absl::StrCat("  ... ", jobs.size() - shown, " more running"), width));
  }
  return lines;
}

void ProgressView::tick() {
  const absl::Time now = absl::Now();
  if (mode_ == Mode::kLive && now - last_draw_ >= kRedrawPeriod) redraw(now);
}

void ProgressView::set_draining() {
  draining_ = true;
  if (mode_ == Mode::kLive) {
    redraw(absl::Now());
  } else {
    print_line(out_,
               absl::StrCat(stamp(absl::Now()), "  draining: nothing new starts; again to cancel"));
  }
}

void ProgressView::read_size() {
  winsize size{};
  if (ioctl(fd_, TIOCGWINSZ, &size) == 0 && size.ws_col > 0 && size.ws_row > 0) {
    columns_ = size.ws_col;
    rows_ = size.ws_row;
  }
}

std::string ProgressView::erase() const {
  if (drawn_lines_ == 0) return "";
  return absl::StrCat("\x1b[", drawn_lines_, "A\r\x1b[J");
}

// The erase and the new block in one write: the terminal never shows half a frame.
std::string ProgressView::frame(absl::Time now) {
  if (resized_.exchange(false)) read_size();
  std::string text = erase();
  const std::vector<std::string> lines = block(now, columns_, rows_);
  for (const std::string& line : lines) absl::StrAppend(&text, line, "\n");
  drawn_lines_ = static_cast<int>(lines.size());
  return text;
}

void ProgressView::redraw(absl::Time now) {
  out_ << frame(now) << std::flush;
  last_draw_ = now;
}

void ProgressView::print_above(std::ostream& out, std::string_view text) {
  if (&out != &out_ && &out != &std::cerr) {  // not to the terminal
    out << text << std::flush;
    return;
  }
  const std::string erased = erase();
  drawn_lines_ = 0;
  if (&out == &out_) {
    out_ << erased << text;
  } else {  // e.g. std::cerr on the same terminal
    out_ << erased << std::flush;
    out << text << std::flush;
  }
  // Redrawn now, unless that would pass the rate: then at the next tick.
  const absl::Time now = absl::Now();
  if (now - last_draw_ >= kRedrawPeriod) {
    redraw(now);
  } else {
    out_ << std::flush;
  }
}

void ProgressView::finish(absl::Time now) {
  stop_ticker();
  const size_t ended = done_ + failed_ + cancelled_;
  const size_t not_run = total_ > ended + running_.size() ? total_ - ended - running_.size() : 0;
  std::string line = absl::StrCat(done_, " done, ", failed_, " failed");
  if (cancelled_ > 0) absl::StrAppend(&line, ", ", cancelled_, " cancelled");
  if (not_run > 0) absl::StrAppend(&line, ", ", not_run, " not run");
  absl::StrAppend(&line, " | ", short_duration(now - start_));
  if (mode_ == Mode::kLines) {
    print_line(out_, absl::StrCat(stamp(now), "  ", line));
    return;
  }
  if (resized_.exchange(false)) read_size();
  out_ << erase() << cut(line, std::max(1, columns_ - 1)) << std::endl;
  drawn_lines_ = 0;
  set_live_block(previous_block_);
  previous_block_ = nullptr;
  mode_ = Mode::kLines;  // nothing more is drawn
}

void ProgressView::start_ticker() {
  ticker_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(ticker_mutex_);
    while (!ticker_wake_.wait_for(lock, absl::ToChronoNanoseconds(kRedrawPeriod),
                                  [this] { return ticker_stop_; })) {
      reactor_.interrupt();  // the loop calls the scheduler's on_interrupt, which ticks
    }
  });
}

void ProgressView::stop_ticker() {
  if (!ticker_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(ticker_mutex_);
    ticker_stop_ = true;
  }
  ticker_wake_.notify_one();
  ticker_.join();
}

}  // namespace asyncjobs::internal
