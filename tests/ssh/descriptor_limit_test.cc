// SSH nodes out of file descriptors: with more nodes than the process may hold sockets,
// idle connections are closed for the jobs waiting, and every job completes. The scenario
// runs in a forked child whose RLIMIT_NOFILE the test sets (as tests/descriptor_limit_test.cc
// does for process jobs), against an sshd with stock MaxSessions and raised MaxStartups.
#include <fcntl.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "asyncjobs/asyncjobs.h"
#include "asyncjobs/ssh.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/open_fds.h"
#include "tests/ssh/local_sshd.h"

namespace asyncjobs::ssh {
namespace {

using asyncjobs::testing::open_fd_count;
using testing::LocalSshd;
using testing::SshdLimits;

struct ChildOutcome {
  std::string failure;  // what the scenario found wrong; empty when everything held
  std::string errors;   // the child's stderr
};

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string temporary_path(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return absl::StrCat(dir == nullptr ? "/tmp" : dir, "/", name, ".", ::getpid());
}

// Runs `scenario` in a child whose RLIMIT_NOFILE is soft = hard = `limit`; the scenario
// returns what went wrong, or "" when all held.
ChildOutcome in_child(rlim_t limit, const std::function<std::string()>& scenario) {
  const std::string report = temporary_path("report"), errors = temporary_path("stderr");
  const pid_t child = ::fork();
  if (child < 0) return {"fork failed", ""};
  if (child == 0) {
    const int err = ::open(errors.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (err < 0 || ::dup2(err, STDERR_FILENO) < 0) _exit(101);
    ::close(err);
    const rlimit low{limit, limit};
    if (::setrlimit(RLIMIT_NOFILE, &low) != 0) _exit(100);
    std::string failure;
    try {
      failure = scenario();
    } catch (const std::exception& error) {
      failure = absl::StrCat("unexpected exception: ", error.what());
    }
    std::ofstream(report) << failure;
    _exit(0);
  }
  int status = 0;
  if (::waitpid(child, &status, 0) != child) return {"waitpid failed", ""};
  ChildOutcome outcome{read_file(report), read_file(errors)};
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    outcome.failure += absl::StrCat(" [child ended with status ", status, "]");
  }
  ::unlink(report.c_str());
  ::unlink(errors.c_str());
  return outcome;
}

std::string why(const AbstractJob& job) {
  if (job.raised_exception() == nullptr) return "";
  try {
    std::rethrow_exception(job.raised_exception());
  } catch (const std::exception& error) {
    return error.what();
  }
}

// 200 jobs, each on a Node of its own: more connections than 128 descriptors allow.
std::string two_hundred_nodes(const NodeOptions& options) {
  constexpr int kNodes = 200;
  const int before = open_fd_count();
  std::string failure;
  {
    std::vector<std::shared_ptr<SshJob>> jobs;
    Scheduler scheduler;
    for (int i = 0; i < kNodes; ++i) {
      RunOptions quiet;
      quiet.on_stdout = quiet.on_stderr = [](const Node&, std::string_view) {};
      jobs.push_back(make_ssh_job(make_node(options), {Run{absl::StrCat("echo ", i), quiet}}));
      scheduler.add(jobs.back());
    }
    if (!scheduler.run()) failure += "run() returned false; ";
    int wrong = 0;
    std::string first_wrong;
    for (int i = 0; i < kNodes; ++i) {
      const bool good = jobs[i]->is_done() && jobs[i]->raised_exception() == nullptr &&
                        jobs[i]->result<std::vector<CommandResult>>().at(0).out ==
                            absl::StrCat(i, "\n");
      if (!good && wrong++ == 0) first_wrong = absl::StrCat(jobs[i]->repr(), " ", why(*jobs[i]));
    }
    if (wrong > 0) absl::StrAppend(&failure, wrong, " jobs without their output, first ", first_wrong, "; ");
  }  // the jobs, and with them their nodes and connections, are gone
  const int after = open_fd_count();
  if (after != before) absl::StrAppend(&failure, "open descriptors: ", before, " before, ", after, " after");
  return failure;
}

TEST(SshDescriptorLimitTest, TwoHundredNodesUnderALimitOf128AllComplete) {
  LocalSshd sshd(SshdLimits{.max_startups = "1000"});  // stock MaxSessions
  const ChildOutcome outcome = in_child(128, [&] { return two_hundred_nodes(sshd.node_options()); });
  EXPECT_EQ(outcome.failure, "") << outcome.errors;
  // The limit was reached: the admission said so.
  EXPECT_THAT(outcome.errors, ::testing::HasSubstr("out of file descriptors")) << outcome.errors;
}

}  // namespace
}  // namespace asyncjobs::ssh
