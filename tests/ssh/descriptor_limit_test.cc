// SSH nodes out of file descriptors: with more nodes than the process may hold sockets,
// idle connections are closed for the jobs waiting, and every job completes. The scenario
// runs in a forked child whose RLIMIT_NOFILE the test sets (tests/limited_child.h), against an
// sshd with stock MaxSessions and raised MaxStartups.

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "asyncjobs/asyncjobs.h"
#include "asyncjobs/ssh.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/limited_child.h"
#include "tests/open_fds.h"
#include "tests/ssh/local_sshd.h"

namespace asyncjobs::ssh {
namespace {

using asyncjobs::testing::ChildOutcome;
using asyncjobs::testing::in_limited_child;
using asyncjobs::testing::open_fd_count;
using testing::LocalSshd;
using testing::SshdLimits;

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
  const ChildOutcome outcome = in_limited_child(128, [&] { return two_hundred_nodes(sshd.node_options()); });
  EXPECT_EQ(outcome.failure, "") << outcome.errors;
  // The limit was reached: the admission said so.
  EXPECT_THAT(outcome.errors, ::testing::HasSubstr("out of file descriptors")) << outcome.errors;
}

}  // namespace
}  // namespace asyncjobs::ssh
