// 200 concurrent SSH sessions to a local sshd, each running `true`: libssh sessions on one
// reactor vs the same fan-out with `ssh` processes (ProcessJob) vs one session at a time.
// And one 256 MiB file pushed and pulled by a Node vs by scp (BM_Transfer*).
// Starts its own sshd on 127.0.0.1 (tests/ssh/local_sshd.h); logs in as the non-root test
// account. Counters: peak RSS of this process and peak open descriptors during the run
// (sampled every 5 ms), and for the process variant the largest child's RSS.
//
//   ./bazelw run -c opt //benchmarks:ssh_benchmark
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "asyncjobs/asyncjobs.h"
#include "asyncjobs/ssh.h"
#include "benchmark/benchmark.h"
#include "tests/open_fds.h"
#include "tests/ssh/local_sshd.h"

namespace aj = asyncjobs;
namespace ssh = asyncjobs::ssh;

namespace {

constexpr int kSessions = 200;
ssh::testing::LocalSshd* sshd = nullptr;

long rss_kb() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

// A forever job sampling RSS and descriptors while the others run.
struct Peaks {
  long rss_kb = 0;
  int fds = 0;
  aj::JobPtr sampler() {
    return aj::make_job(
        [this] {
          for (;;) {
            rss_kb = std::max(rss_kb, ::rss_kb());
            fds = std::max(fds, aj::testing::open_fd_count());
            aj::sleep_for(absl::Milliseconds(5));
          }
        },
        {.forever = true});
  }
  void report(benchmark::State& state) const {
    state.counters["peak_rss_MB"] = rss_kb / 1024.0;
    state.counters["peak_fds"] = fds;
  }
};

ssh::RunOptions quiet() {
  ssh::RunOptions options;
  options.on_stdout = options.on_stderr = [](const ssh::Node&, std::string_view) {};
  return options;
}

// kSessions nodes (so kSessions connections), each running `true`, `window` at a time.
void run_libssh(benchmark::State& state, int window) {
  Peaks peaks;
  for (auto _ : state) {
    aj::Scheduler scheduler({.jobs_window = window});
    std::vector<std::shared_ptr<ssh::Node>> nodes;
    for (int i = 0; i < kSessions; ++i) {
      nodes.push_back(ssh::make_node(sshd->node_options(ssh::testing::LocalSshd::kOtherUser)));
      scheduler.add(ssh::make_ssh_job(nodes.back(), {ssh::Run{"true", quiet()}}));
    }
    if (window == 0) scheduler.add(peaks.sampler());
    if (!scheduler.run()) state.SkipWithError("a session failed");
  }
  if (window == 0) peaks.report(state);  // a sampler would take the only window slot
}

void BM_LibsshSessions(benchmark::State& state) { run_libssh(state, 0); }
void BM_LibsshOneAtATime(benchmark::State& state) { run_libssh(state, 1); }

void BM_SshProcesses(benchmark::State& state) {
  Peaks peaks;
  const ssh::NodeOptions node = sshd->node_options(ssh::testing::LocalSshd::kOtherUser);
  for (auto _ : state) {
    aj::Scheduler scheduler;
    for (int i = 0; i < kSessions; ++i) {
      scheduler.add(aj::make_process_job(
          {"ssh", "-q", "-i", node.identities[0], "-p", std::to_string(node.port), "-o",
           "BatchMode=yes", "-o", "StrictHostKeyChecking=accept-new", "-o",
           "UserKnownHostsFile=" + node.known_hosts,
           absl::StrCat(ssh::testing::LocalSshd::kOtherUser, "@", node.host), "true"}));
    }
    scheduler.add(peaks.sampler());
    if (!scheduler.run()) state.SkipWithError("an ssh process failed");
  }
  peaks.report(state);
  rusage children{};
  ::getrusage(RUSAGE_CHILDREN, &children);
  state.counters["child_max_rss_MB"] = children.ru_maxrss / 1024.0;
}

// One file pushed (pulled) through Node::push (pull) vs an scp process, same sshd, same
// file. Pin the whole binary to compare on one core (sshd inherits it), and interleave:
//   taskset -c 0 bazel-bin/benchmarks/ssh_benchmark --benchmark_filter=Transfer
//     --benchmark_repetitions=5 --benchmark_enable_random_interleaving=true
constexpr int kTransferMiB = 256;

std::string transfer_dir(const std::string& name) {
  const std::string dir = sshd->dir() + "/" + name;
  ssh::testing::shell("mkdir -p " + dir + " && chmod 777 " + dir);
  return dir;
}

const std::string& transfer_source() {
  static const std::string path = [] {
    const std::string file = transfer_dir("source") + "/data.bin";
    ssh::testing::shell(absl::StrCat("head -c ", kTransferMiB, "M /dev/urandom > ", file));
    return file;
  }();
  return path;
}

void count_bytes(benchmark::State& state) {
  state.SetBytesProcessed(state.iterations() * (int64_t{kTransferMiB} << 20));
}

void BM_TransferPush(benchmark::State& state) {
  const std::string source = transfer_source(), target = transfer_dir("pushed");
  auto node = ssh::make_node(sshd->node_options(ssh::testing::LocalSshd::kOtherUser));
  node->run("true", quiet());
  for (auto _ : state) node->push({source}, target);
  count_bytes(state);
}

void BM_TransferPull(benchmark::State& state) {
  const std::string source = transfer_source(), target = transfer_dir("pulled");
  auto node = ssh::make_node(sshd->node_options(ssh::testing::LocalSshd::kOtherUser));
  node->run("true", quiet());
  for (auto _ : state) node->pull({source}, target);
  count_bytes(state);
}

// scp with the same key, user and known_hosts; -q: no progress meter.
std::string scp(const std::string& from, const std::string& to) {
  const ssh::NodeOptions node = sshd->node_options(ssh::testing::LocalSshd::kOtherUser);
  return absl::StrCat("scp -q -i ", node.identities[0], " -P ", node.port,
                      " -o BatchMode=yes -o StrictHostKeyChecking=accept-new",
                      " -o UserKnownHostsFile=", node.known_hosts, " ", from, " ", to);
}

std::string remote(const std::string& path) {
  return absl::StrCat(ssh::testing::LocalSshd::kOtherUser, "@127.0.0.1:", path);
}

void run_scp(benchmark::State& state, const std::string& from, const std::string& to) {
  for (auto _ : state) {
    try {
      ssh::testing::shell(scp(from, to));
    } catch (const std::exception& error) {
      state.SkipWithError(error.what());
      break;
    }
  }
  count_bytes(state);
}

void BM_TransferScpPush(benchmark::State& state) {
  run_scp(state, transfer_source(), remote(transfer_dir("scp_pushed") + "/"));
}

void BM_TransferScpPull(benchmark::State& state) {
  run_scp(state, remote(transfer_source()), transfer_dir("scp_pulled") + "/");
}

BENCHMARK(BM_TransferPush)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(2);
BENCHMARK(BM_TransferScpPush)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(2);
BENCHMARK(BM_TransferPull)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(2);
BENCHMARK(BM_TransferScpPull)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(2);
BENCHMARK(BM_LibsshSessions)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);
BENCHMARK(BM_SshProcesses)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);
BENCHMARK(BM_LibsshOneAtATime)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  try {
    // 200 connections at once: past the stock MaxStartups' random drops (see docs/ssh.md).
    sshd = new ssh::testing::LocalSshd(ssh::testing::SshdLimits::raised());
  } catch (const std::exception& error) {
    std::cerr << "cannot start sshd: " << error.what() << "\n";
    return 1;
  }
  benchmark::RunSpecifiedBenchmarks();
  delete sshd;  // stops it
  return 0;
}
