#ifndef ASYNCJOBS_INTERNAL_SCHEDULER_PROGRESS_VIEW_H_
#define ASYNCJOBS_INTERNAL_SCHEDULER_PROGRESS_VIEW_H_

// ProgressView: a run's progress for people (SchedulerOptions::progress), drawn from the same
// JobEvents a program gets through SchedulerOptions::on_event.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <ostream>
#include <string>
#include <string_view>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "asyncjobs/internal/jobs/job_output.h"
#include "asyncjobs/internal/scheduler/signal_cancel.h"
#include "asyncjobs/job_event.h"

namespace asyncjobs {
class Reactor;
}

namespace asyncjobs::internal {

// kLines: a time-stamped line per start and end. kLive: a block redrawn in place under the
// output (ANSI: cursor up, erase below) at most every kRedrawPeriod: the counts, elapsed time
// and time left, then a line per running job, cut to the terminal's size (read with
// TIOCGWINSZ, again after SIGWINCH); lines printed through print_line() meanwhile go above
// it. Lives on the run's thread; `finish` leaves the final counts.
class ProgressView final : public LiveBlock {
 public:
  enum class Mode { kLines, kLive };
  static constexpr absl::Duration kRedrawPeriod = absl::Milliseconds(100);

  // `out` writes to file descriptor `fd` (its size is the terminal's); `total` jobs (nested
  // schedulers not counted) will run. kLive pokes `reactor` every kRedrawPeriod from a
  // thread of its own, so that the loop calls tick() even while every job waits (a timer
  // would keep the loop from ever seeing that the run deadlocked).
  ProgressView(Mode mode, std::ostream& out, int fd, size_t total, absl::Time start,
               Reactor& reactor);
  ~ProgressView();
  ProgressView(const ProgressView&) = delete;
  ProgressView& operator=(const ProgressView&) = delete;

  // Whether kAuto means kLive: `fd` is a terminal and TERM is set and not "dumb".
  static bool live_on(int fd);

  void on_event(const JobEvent& event);
  void tick();  // on the loop: redraws if kRedrawPeriod has passed since the last time
  void set_draining();
  // Erases the block and prints the final counts, which stay.
  void finish(absl::Time now);
  void print_above(std::ostream& out, std::string_view text) override;

  // The block as it would be drawn now at this size (one string per line), for tests.
  std::vector<std::string> block(absl::Time now, int columns, int rows) const;

 private:
  struct Running {
    uint64_t order;  // in start order
    absl::Time start;
    std::string last_line;
  };

  void print_line_event(const JobEvent& event);
  void count_end(const JobEvent& event);
  std::string counts(absl::Time now) const;
  void redraw(absl::Time now);
  std::string erase() const;  // moves up over the block and clears it
  std::string frame(absl::Time now);
  void read_size();
  void start_ticker();
  void stop_ticker();

  Mode mode_;
  std::ostream& out_;
  int fd_;
  size_t total_;
  absl::Time start_;
  Reactor& reactor_;
  size_t done_ = 0, failed_ = 0, cancelled_ = 0;
  uint64_t started_ = 0;
  absl::flat_hash_map<const AbstractJob*, Running> running_;
  bool draining_ = false;
  // kLive
  LiveBlock* previous_block_ = nullptr;
  int columns_ = 80, rows_ = 24;
  std::atomic<bool> resized_{true};
  std::unique_ptr<SignalCallback> on_resize_;
  int drawn_lines_ = 0;  // of the block now on the screen
  absl::Time last_draw_ = absl::InfinitePast();
  std::thread ticker_;
  std::mutex ticker_mutex_;
  std::condition_variable ticker_wake_;
  bool ticker_stop_ = false;
};

}  // namespace asyncjobs::internal

#endif  // ASYNCJOBS_INTERNAL_SCHEDULER_PROGRESS_VIEW_H_
