// A journaled run killed with SIGKILL at random moments, then run again to completion
// (journal_crash_child.cc is the scenario). Per seed: even seeds die inside one of SQLite's
// writes or syncs (drawn over all of a run's; the write is left half done), odd seeds at a
// moment drawn over a whole run. Then: the journal opens, every job recorded before the kill
// is restored and did not run again, every result equals a clean run's, no job ran more than
// twice, and only jobs not recorded at the kill ran twice.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "asyncjobs/internal/journal/journal_store.h"
#include "gtest/gtest.h"

extern char** environ;

namespace {

using asyncjobs::internal::JournalStore;

constexpr int kSeeds = 200;

std::string child_path() {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  if (srcdir == nullptr || workspace == nullptr) return "tests/journal_crash_child";
  return std::string(srcdir) + "/" + workspace + "/tests/journal_crash_child";
}

std::string temp_dir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir != nullptr ? dir : "/tmp";
}

struct Child {
  pid_t pid = -1;
  std::string out_path, err_path;
};

// Starts the scenario; its stdout and stderr go to files.
Child start(const std::string& journal, const std::string& side, long crash_at_io) {
  Child child;
  child.out_path = temp_dir() + "/child.out";
  child.err_path = temp_dir() + "/child.err";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, child.out_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, child.err_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
  if (crash_at_io > 0) env_strings.push_back("CRASH_AT_IO=" + std::to_string(crash_at_io));
  std::vector<char*> env;
  for (std::string& s : env_strings) env.push_back(s.data());
  env.push_back(nullptr);
  const std::string path = child_path();
  std::vector<char*> argv = {const_cast<char*>(path.c_str()),
                             const_cast<char*>(journal.c_str()),
                             const_cast<char*>(side.c_str()), nullptr};
  EXPECT_EQ(posix_spawn(&child.pid, path.c_str(), &actions, nullptr, argv.data(), env.data()),
            0);
  posix_spawn_file_actions_destroy(&actions);
  return child;
}

int wait_for(const Child& child) {
  int status = 0;
  EXPECT_EQ(waitpid(child.pid, &status, 0), child.pid);
  return status;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

struct JobLine {
  bool restored;
  std::string result;
};

// The child's report: label -> restored, result.
std::map<std::string, JobLine> report(const Child& child) {
  std::map<std::string, JobLine> jobs;
  std::istringstream in(slurp(child.out_path));
  std::string line;
  while (std::getline(in, line)) {
    const size_t first = line.find(' ');
    if (first == std::string::npos || first + 2 > line.size()) continue;
    jobs[line.substr(0, first)] = {line[first + 1] == '1',
                                   first + 3 <= line.size() ? line.substr(first + 3) : ""};
  }
  return jobs;
}

std::map<std::string, int> executions(const std::string& side) {
  std::map<std::string, int> counts;
  std::istringstream in(slurp(side));
  std::string line;
  while (std::getline(in, line)) ++counts[line];
  return counts;
}

long io_count(const Child& child) {
  const std::string err = slurp(child.err_path);
  const size_t at = err.rfind("io=");
  return at == std::string::npos ? -1 : std::atol(err.c_str() + at + 3);
}

void remove_files(const std::string& journal, const std::string& side) {
  for (const std::string& path : {journal, journal + "-wal", journal + "-journal", side}) {
    std::remove(path.c_str());
  }
}

// The journal's records at the kill, as key -> encoded result (the labels are unique, so a
// nested job's key is "inner/label").
std::map<std::string, std::string> records(const std::string& journal, const
                                           std::map<std::string, JobLine>& labels) {
  JournalStore store(journal);
  std::map<std::string, std::string> found;
  for (const auto& [label, line] : labels) {
    const std::string key = label[0] == 'k' ? "inner/" + label : label;
    if (const JournalStore::Record* record = store.find(key)) found[label] = record->value;
  }
  return found;
}

// The side-effect file: each line is written and fsynced by the job before it returns. A
// SIGKILL loses nothing the process wrote, synced or not, so it lives on tmpfs when there is
// one, where fsync is free; the journal stays on disk, as users keep it.
std::string side_file() {
  const std::string name = "journal_crash_side_" + std::to_string(getpid());
  return access("/dev/shm", W_OK) == 0 ? "/dev/shm/" + name : temp_dir() + "/" + name;
}

TEST(JournalCrashTest, EveryJobRecordedBeforeAKillIsRestoredAndNotRunAgain) {
  const std::string journal = temp_dir() + "/crash.journal";
  const std::string side = side_file();

  // A clean run: the expected results, how long a run takes, how many writes it makes.
  remove_files(journal, side);
  const auto begin = std::chrono::steady_clock::now();
  const Child clean = start(journal, side, 0);
  ASSERT_EQ(wait_for(clean), 0) << slurp(clean.err_path);
  const auto full_run = std::chrono::steady_clock::now() - begin;
  const std::map<std::string, JobLine> expected = report(clean);
  const long writes = io_count(clean);
  ASSERT_EQ(expected.size(), 30u);
  ASSERT_GT(writes, 30);

  int killed_in_io = 0, partial = 0;
  for (int seed = 0; seed < kSeeds; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 random(seed);
    remove_files(journal, side);
    if (seed % 2 == 0) {
      const long at = std::uniform_int_distribution<long>(1, writes)(random);
      const int status = wait_for(start(journal, side, at));
      killed_in_io += WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
    } else {
      const auto delay = std::chrono::duration_cast<std::chrono::microseconds>(full_run) *
                         std::uniform_real_distribution<double>(0, 1)(random);
      const Child child = start(journal, side, 0);
      std::this_thread::sleep_for(delay);  // the random moment of the kill, not a wait
      kill(child.pid, SIGKILL);
      wait_for(child);
    }
    const std::map<std::string, int> before = executions(side);
    const std::map<std::string, std::string> recorded = records(journal, expected);
    partial += !recorded.empty() && recorded.size() < expected.size();

    const Child rerun = start(journal, side, 0);
    ASSERT_EQ(wait_for(rerun), 0) << slurp(rerun.err_path);
    const std::map<std::string, JobLine> after = report(rerun);
    const std::map<std::string, int> runs = executions(side);
    ASSERT_EQ(after.size(), expected.size());
    for (const auto& [label, line] : after) {
      SCOPED_TRACE(label);
      EXPECT_EQ(line.result, expected.at(label).result);
      const auto record = recorded.find(label);
      const int ran_before = before.count(label) ? before.at(label) : 0;
      const int ran = runs.count(label) ? runs.at(label) : 0;
      if (record != recorded.end()) {
        EXPECT_TRUE(line.restored);
        EXPECT_EQ(record->second, line.result);
        EXPECT_EQ(ran_before, 1);
        EXPECT_EQ(ran, 1);  // not run again
      } else {
        EXPECT_FALSE(line.restored);
        EXPECT_EQ(ran, ran_before + 1);
        EXPECT_LE(ran, 2);
      }
    }
    if (::testing::Test::HasFailure()) break;
  }
  // The moments were spread: many kills left some jobs recorded and some not (others fell
  // before the first record or in the checkpoint after the last).
  std::remove(side.c_str());
  EXPECT_GE(killed_in_io, kSeeds / 2 * 9 / 10);
  EXPECT_GE(partial, kSeeds / 3);
  std::printf("%d seeds: %d killed inside a write or sync, %d with some jobs recorded\n",
              kSeeds, killed_in_io, partial);
}

}  // namespace
