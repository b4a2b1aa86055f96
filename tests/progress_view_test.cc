// SchedulerOptions::progress: the live view on a pseudo-terminal of a fixed size, read back
// through a small screen emulator; kAuto on a pipe; kOff.
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "asyncjobs/asyncjobs.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace aj = asyncjobs;

namespace {

// The few sequences the view writes, interpreted as a terminal would: text, CR, LF (with
// scrolling), ESC[nA (cursor up), ESC[J (erase below), ESC[K (erase the line's rest).
// Writing past the last column is recorded (too_wide): the view must never do it.
class Screen {
 public:
  Screen(int columns, int rows)
      : columns_(columns), rows_(rows), cells_(rows, std::vector<std::string>(columns)) {}

  void feed(std::string_view bytes) {
    for (char c : bytes) feed(c);
  }
  std::string line(int row) const {
    std::string text;
    for (const std::string& cell : cells_[row]) text += cell.empty() ? " " : cell;
    return text.substr(0, text.find_last_not_of(' ') + 1);
  }
  std::vector<std::string> lines() const {  // without the blank ones at the bottom
    std::vector<std::string> all;
    for (int row = 0; row < rows_; ++row) all.push_back(line(row));
    while (!all.empty() && all.back().empty()) all.pop_back();
    return all;
  }
  bool shows(std::string_view text) const {
    for (const std::string& line : lines()) {
      if (line.find(text) != std::string::npos) return true;
    }
    return false;
  }
  std::string dump() const {
    std::string text;
    for (const std::string& line : lines()) text += "|" + line + "\n";
    return text;
  }
  bool too_wide() const { return too_wide_; }
  int erasures() const { return erasures_; }

 private:
  void feed(char c) {
    if (!escape_.empty()) return feed_escape(c);
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\x1b') {
      escape_ = "\x1b";
    } else if (c == '\r') {
      column_ = 0;
    } else if (c == '\n') {
      new_line();
    } else if ((byte & 0xc0) == 0x80) {  // UTF-8 continuation: same cell
      if (column_ > 0) cells_[row_][column_ - 1] += c;
    } else if (byte >= 0x20) {
      if (column_ == columns_) {
        too_wide_ = true;
        column_ = 0;
        new_line();
      }
      cells_[row_][column_++] = std::string(1, c);
    }
  }
  void feed_escape(char c) {
    escape_ += c;
    if (escape_.size() == 2 || (c >= '0' && c <= '9') || c == ';') return;
    const int n = escape_.size() > 3 ? std::atoi(escape_.c_str() + 2) : 0;
    if (c == 'A') row_ = std::max(0, row_ - std::max(1, n));
    if (c == 'J') {
      ++erasures_;
      clear_line_from(column_);
      for (int row = row_ + 1; row < rows_; ++row) cells_[row].assign(columns_, "");
    }
    if (c == 'K') clear_line_from(column_);
    escape_.clear();
  }
  void clear_line_from(int column) {
    for (int i = column; i < columns_; ++i) cells_[row_][i].clear();
  }
  void new_line() {
    if (++row_ < rows_) return;
    row_ = rows_ - 1;
    cells_.erase(cells_.begin());
    cells_.emplace_back(columns_);
  }

  int columns_, rows_;
  std::vector<std::vector<std::string>> cells_;
  int row_ = 0, column_ = 0;
  std::string escape_;
  bool too_wide_ = false;
  int erasures_ = 0;
};

// Runs `body` in a child process whose stdout is the slave of a new pseudo-terminal of
// `columns` x `rows` (or, for `columns` 0, a pipe), and feeds what it writes to `screen`,
// calling `on_output` after each read. Returns the child's exit code (what `body` returned).
struct ChildRun {
  int exit_code = -1;
  std::string output;  // everything the child wrote
  double seconds = 0;  // from the fork to the end of its output
};

// `master` and `child`, if given, receive the terminal's master side and the child's pid.
ChildRun run_in_child(
    int columns, int rows, const std::function<int()>& body, Screen* screen,
    const std::function<void()>& on_output = [] {}, int* master = nullptr, pid_t* child = nullptr) {
  int reader = -1, writer = -1;
  if (columns > 0) {
    winsize size{};
    size.ws_col = static_cast<unsigned short>(columns);
    size.ws_row = static_cast<unsigned short>(rows);
    if (openpty(&reader, &writer, nullptr, nullptr, &size) != 0) std::abort();
  } else {
    int fds[2];
    if (pipe(fds) != 0) std::abort();
    reader = fds[0];
    writer = fds[1];
  }
  std::cout.flush();
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = fork();
  if (pid == 0) {
    close(reader);
    dup2(writer, STDOUT_FILENO);
    close(writer);
    setenv("TERM", "xterm", 1);
    const int code = body();
    std::cout.flush();
    _exit(code);
  }
  close(writer);
  if (master != nullptr) *master = reader;
  if (child != nullptr) *child = pid;
  ChildRun run;
  char buffer[4096];
  for (;;) {
    pollfd ready{reader, POLLIN, 0};
    if (poll(&ready, 1, 120'000) != 1) {  // a hung child: fail rather than hang the test
      kill(pid, SIGKILL);
      ADD_FAILURE() << "the child wrote nothing for 120 s; screen:\n"
                    << (screen ? screen->dump() : run.output);
      break;
    }
    const ssize_t count = read(reader, buffer, sizeof buffer);
    if (count <= 0) break;  // EOF (pipe) or EIO (pty: the child closed it)
    run.output.append(buffer, count);
    if (screen != nullptr) screen->feed(std::string_view(buffer, count));
    on_output();
  }
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  close(reader);
  int status = 0;
  waitpid(pid, &status, 0);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return run;
}

aj::JobOptions labelled(std::string label, bool critical = true) {
  aj::JobOptions options;
  options.label = std::move(label);
  options.critical = critical;
  return options;
}

// A job that prints `line` through a command, then waits until `release` is readable.
aj::JobPtr talker(std::string label, std::string line, int release) {
  return aj::make_job(
      [line, release] {
        aj::ProcessOptions echo;
        echo.argv = {"echo", line};
        aj::run_process(echo);
        aj::wait_readable(release);
      },
      labelled(std::move(label)));
}

TEST(ProgressViewTest, LiveBlockShowsCountsAndRunningJobsLastLineThenTheFinalCounts) {
  aj::testing::Pipe release;
  Screen screen(80, 24);
  std::vector<std::string> while_running;
  const ChildRun run = run_in_child(
      80, 24,
      [&] {
        std::vector<aj::JobPtr> jobs{talker("talker", "hello from talker", release.read_end)};
        for (int i = 0; i < 5; ++i) jobs.push_back(aj::make_job([] {}));
        jobs.push_back(aj::make_job([]() -> int { throw std::runtime_error("oops"); },
                                    labelled("oops", false)));
        jobs.push_back(aj::make_print_job({"a message above the block"}));
        aj::Scheduler scheduler({.critical = false, .progress = aj::Progress::kLive});
        for (const aj::JobPtr& job : jobs) scheduler.add(job);
        return scheduler.run() ? 0 : 1;
      },
      &screen,
      [&] {
        if (!while_running.empty() || !screen.shows("hello from talker")) return;
        while_running = screen.lines();
        (void)!write(release.write_end, "x", 1);
      });
  EXPECT_EQ(run.exit_code, 0);
  ASSERT_FALSE(while_running.empty()) << screen.dump();
  // The block while the talker waits: counts, then its line with its last output.
  const std::regex counts(R"(6 done, 1 running, 1 failed, 0 waiting \| \d+\.\ds)");
  bool counted = false, talker_line = false;
  for (const std::string& line : while_running) {
    counted = counted || std::regex_search(line, counts);
    talker_line = talker_line ||
                  std::regex_search(line, std::regex(R"(^  talker  \d+\.\ds  hello from talker$)"));
  }
  EXPECT_TRUE(counted) << screen.dump();
  EXPECT_TRUE(talker_line) << screen.dump();
  // At the end: the printed message above, then the final counts, which stay.
  const std::vector<std::string> final_lines = screen.lines();
  ASSERT_GE(final_lines.size(), 2u);
  EXPECT_NE(final_lines[final_lines.size() - 2].find("a message above the block"),
            std::string::npos)
      << screen.dump();
  EXPECT_TRUE(std::regex_match(final_lines.back(), std::regex(R"(7 done, 1 failed \| \d+\.\ds)")))
      << screen.dump();
  EXPECT_FALSE(screen.shows("talker  ")) << screen.dump();
  EXPECT_FALSE(screen.too_wide());
}

TEST(ProgressViewTest, NarrowTerminalCutsLinesAndRunningJobsToItsSize) {
  aj::testing::Pipe release;
  Screen screen(30, 10);
  std::vector<std::string> while_running;
  const ChildRun run = run_in_child(
      30, 10,
      [&] {
        aj::Scheduler scheduler({.progress = aj::Progress::kLive});
        for (int i = 0; i < 20; ++i) {
          scheduler.add(talker("a-rather-long-label-" + std::to_string(i),
                               "an output line much wider than thirty columns", release.read_end));
        }
        return scheduler.run() ? 0 : 1;
      },
      &screen,
      [&] {
        if (!while_running.empty() || !screen.shows("20 running") ||
            !screen.shows("more running")) {
          return;
        }
        while_running = screen.lines();
        (void)!write(release.write_end, "x", 1);
      });
  EXPECT_EQ(run.exit_code, 0);
  ASSERT_FALSE(while_running.empty()) << screen.dump();
  EXPECT_LE(while_running.size(), 9u) << screen.dump();  // the cursor keeps the last row
  EXPECT_EQ(while_running.front(), "0 done, 20 running, 0 failed,") << screen.dump();
  EXPECT_TRUE(std::regex_match(while_running.back(), std::regex(R"(  \.\.\. \d+ more running)")))
      << screen.dump();
  for (const std::string& line : while_running) EXPECT_LE(line.size(), 29u) << line;
  EXPECT_FALSE(screen.too_wide()) << screen.dump();
  EXPECT_TRUE(std::regex_match(screen.lines().back(), std::regex(R"(20 done, 0 failed \| .*)")))
      << screen.dump();
}

TEST(ProgressViewTest, FollowsTheTerminalsNewSizeAfterSigwinch) {
  aj::testing::Pipe release;
  Screen screen(80, 24);
  const std::string output = "a line of output long enough to need more than forty columns";
  int terminal = -1;
  pid_t child = 0;
  enum { kWide, kResized, kReleased } phase = kWide;
  auto talker_line = [&]() -> std::string {
    for (const std::string& line : screen.lines()) {
      if (line.rfind("  talker  ", 0) == 0) return line;
    }
    return "";
  };
  const ChildRun run = run_in_child(
      80, 24,
      [&] {
        aj::Scheduler scheduler({talker("talker", output, release.read_end)},
                                {.progress = aj::Progress::kLive});
        return scheduler.run() ? 0 : 1;
      },
      &screen,
      [&] {
        const std::string line = talker_line();
        if (phase == kWide && line.find(output) != std::string::npos) {
          winsize size{};
          size.ws_col = 40;
          size.ws_row = 10;
          ioctl(terminal, TIOCSWINSZ, &size);
          kill(child, SIGWINCH);  // (the child has no controlling terminal to send it)
          phase = kResized;
        } else if (phase == kResized && !line.empty() && line.size() <= 39) {
          (void)!write(release.write_end, "x", 1);
          phase = kReleased;
        }
      },
      &terminal, &child);
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_EQ(phase, kReleased) << screen.dump();
}

TEST(ProgressViewTest, RedrawsAtMostTenTimesASecondWhateverTheEvents) {
  Screen screen(80, 24);
  const ChildRun run = run_in_child(
      80, 24,
      [] {
        aj::Scheduler scheduler({.jobs_window = 16, .progress = aj::Progress::kLive});
        for (int i = 0; i < 10'000; ++i) {
          scheduler.add(aj::make_job([] { aj::sleep_for(absl::Microseconds(100)); }));
        }
        return scheduler.run() ? 0 : 1;
      },
      &screen);
  EXPECT_EQ(run.exit_code, 0);
  const int redraws = screen.erasures();  // each redraw but the first erases the last
  EXPECT_GE(redraws, 1);
  EXPECT_LE(redraws, 10 * run.seconds + 3) << run.seconds << " s";
  EXPECT_TRUE(
      std::regex_match(screen.lines().back(), std::regex(R"(10000 done, 0 failed \| \d+\.\ds)")))
      << screen.dump();
}

TEST(ProgressViewTest, AutoWritesTimeStampedLinesOnAPipe) {
  const ChildRun run = run_in_child(
      0, 0,
      [] {
        auto first = aj::make_job([] {}, labelled("first"));
        auto second = aj::make_job([] {}, labelled("second"));
        second->require(first);
        auto failing = aj::make_job([]() -> int { throw std::runtime_error("no luck"); },
                                    labelled("failing", false));
        failing->require(second);
        aj::Scheduler scheduler({first, second, failing}, {.progress = aj::Progress::kAuto});
        return scheduler.run() ? 0 : 1;
      },
      nullptr);
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_EQ(run.output.find('\x1b'), std::string::npos) << run.output;
  const std::string stamp = R"(\d\d:\d\d:\d\d\.\d\d\d  )";
  const std::regex expected(
      stamp + "started   <Job `first`>\n" + stamp + R"(done      <Job `first`> after \d+\.\ds)" +
      "\n" + stamp + "started   <Job `second`>\n" + stamp +
      R"(done      <Job `second`> after \d+\.\ds)" + "\n" + stamp + "started   <Job `failing`>\n" +
      stamp + R"(FAILED    <Job `failing`> after \d+\.\ds: no luck)" + "\n" + stamp +
      R"(2 done, 1 failed \| \d+\.\ds)" + "\n");
  EXPECT_TRUE(std::regex_match(run.output, expected)) << run.output;
}

TEST(ProgressViewTest, OffWritesNothing) {
  const ChildRun run = run_in_child(
      0, 0,
      [] {
        aj::Scheduler scheduler({aj::make_job([] {}), aj::make_job([] {})});
        return scheduler.run() ? 0 : 1;
      },
      nullptr);
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_EQ(run.output, "");
}

TEST(ProgressViewTest, DrainingIsShownUntilTheRunEnds) {
  aj::testing::Pipe release;
  Screen screen(80, 24);
  bool seen = false;
  const ChildRun run = run_in_child(
      80, 24,
      [&] {
        auto running = talker("running", "still at it", release.read_end);
        auto trigger = aj::make_job(
            [&] {
              raise(SIGINT);
              aj::wait_readable(release.read_end);
            },
            labelled("trigger"));
        auto later = aj::make_job([] {}, labelled("later"));
        later->require(trigger);
        aj::Scheduler scheduler(
            {running, trigger, later},
            {.critical = false, .progress = aj::Progress::kLive, .drain_on_signals = {SIGINT}});
        const bool ok = scheduler.run();
        return !ok && scheduler.why() == "CANCELLED" && running->is_done() && later->is_idle() ? 0
                                                                                               : 1;
      },
      &screen,
      [&] {
        if (seen || !screen.shows("draining, Ctrl-C again to cancel")) return;
        seen = true;
        (void)!write(release.write_end, "x", 1);
      });
  EXPECT_EQ(run.exit_code, 0) << screen.dump();
  EXPECT_TRUE(seen) << screen.dump();
  EXPECT_TRUE(std::regex_match(screen.lines().back(),
                               std::regex(R"(2 done, 0 failed, 1 not run \| \d+\.\ds)")))
      << screen.dump();
}

}  // namespace
