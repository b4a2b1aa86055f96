// The first graph of a fresh process, as a program's first run meets it: fresh pages, cold
// pools, no warm-up. Builds ONE graph of a shape and size (benchmarks/graphs.h: user code
// keeps every JobPtr, default options, guard pages on), runs it, destroys it, and prints
// one line of per-job figures; with --repeat=K it then runs K-1 more graphs of the same
// shape in the same process (warm: run 1 is cold, later runs are warm).
//
//   bazel-bin/benchmarks/first_graph fanout 1000000
//   bazel-bin/benchmarks/first_graph event 1000000 --repeat=2   # pass 1 cold, pass 2 warm
//   benchmarks/fresh_process.sh fanout 1000000      # 20 fresh processes: median and max
//
// Shapes: fanout, chain, layered (no-op jobs); event, sleep (blocking: see graphs.h).
// --warm_stacks=N, --stack_size=BYTES and --guard_page=0|1 set StackOptions (default: the
// library's defaults).
// Fields, per job in ns: build, run (run() alone), teardown, total, cpu (process CPU time
// over the three: on a loaded machine wall time also counts other programs); for blocking shapes
// startup (build + run() until the last job started) and wake (from set() or the deadline
// until run() returned). rss_per_job: resident growth over building (/proc/self/statm),
// bytes per built job; faults_per_1k: page faults over the graph per 1,000 jobs;
// peak_rss_mib: getrusage ru_maxrss so far. The last field,
// fault_ns, is the machine's baseline taken after the graphs: the first touch of one fresh
// 4 KiB page (16 MiB, no huge pages), which the cold figures depend on and which varies
// with the host (docs/fibers.md, "What things cost").
#include <sys/mman.h>
#include <sys/resource.h>

#include <chrono>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "benchmarks/graphs.h"

namespace bm = asyncjobs::benchmarks;

namespace {

double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB
}

double page_fault_ns() {
  constexpr size_t kBytes = size_t{16} << 20, kPage = 4096;
  void* map = mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (map == MAP_FAILED) return -1;
  madvise(map, kBytes, MADV_NOHUGEPAGE);
  volatile char* bytes = static_cast<char*>(map);
  const auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < kBytes; i += kPage) bytes[i] = 1;
  const std::chrono::duration<double, std::nano> elapsed = std::chrono::steady_clock::now() - start;
  munmap(map, kBytes);
  return elapsed.count() / (kBytes / kPage);
}

int usage() {
  std::fprintf(stderr,
               "usage: first_graph fanout|chain|layered|event|sleep JOBS [--repeat=K] "
               "[--sleep_after_ms=MS] [--warm_stacks=N] [--stack_size=BYTES] [--guard_page=0|1]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) return usage();
  const auto shape = bm::parse_shape(argv[1]);
  const long jobs = std::atol(argv[2]);
  if (!shape || jobs <= 0) return usage();
  int repeat = 1;
  asyncjobs::StackOptions stacks = asyncjobs::stack_options();  // the defaults unless set
  // The sleeping jobs' deadline: long enough for a cold start of the slowest case seen.
  double sleep_after_ms = 200 + static_cast<double>(jobs) * 0.01;
  for (int i = 3; i < argc; ++i) {
    if (std::strncmp(argv[i], "--repeat=", 9) == 0) {
      repeat = std::atoi(argv[i] + 9);
    } else if (std::strncmp(argv[i], "--sleep_after_ms=", 17) == 0) {
      sleep_after_ms = std::atof(argv[i] + 17);
    } else if (std::strncmp(argv[i], "--warm_stacks=", 14) == 0) {
      stacks.warm_stacks = static_cast<size_t>(std::atol(argv[i] + 14));
    } else if (std::strncmp(argv[i], "--stack_size=", 13) == 0) {
      stacks.stack_size = static_cast<size_t>(std::atol(argv[i] + 13));
    } else if (std::strncmp(argv[i], "--guard_page=", 13) == 0) {
      stacks.guard_page = std::atoi(argv[i] + 13) != 0;
    } else {
      return usage();
    }
  }
  asyncjobs::set_stack_options(stacks);
  for (int run = 1; run <= repeat; ++run) {
    const bm::GraphTimes times =
        bm::run_graph(*shape, static_cast<size_t>(jobs), absl::Milliseconds(sleep_after_ms));
    const double per_job = 1e9 / static_cast<double>(jobs);
    std::string blocking;
    if (bm::is_blocking(*shape)) {
      char text[128];
      std::snprintf(text, sizeof text, " startup=%.1f wake=%.1f late=%d",
                    times.startup() * per_job, times.wakeup() * per_job, times.late ? 1 : 0);
      blocking = text;
    }
    std::printf("pass=%d shape=%s jobs=%ld build=%.1f run=%.1f teardown=%.1f total=%.1f cpu=%.1f%s "
                "rss_per_job=%.1f faults_per_1k=%.1f peak_rss_mib=%.1f%s",
                run, argv[1], jobs, times.build() * per_job, times.run() * per_job,
                times.teardown() * per_job, times.total() * per_job, times.cpu * per_job, blocking.c_str(),
                static_cast<double>(times.rss_growth_bytes) / static_cast<double>(jobs),
                static_cast<double>(times.page_faults) * 1000 / static_cast<double>(jobs),
                peak_rss_mib(), run < repeat ? "\n" : " ");
    if (run < repeat) std::fflush(stdout);
  }
  std::printf("fault_ns=%.0f\n", page_fault_ns());
  return 0;
}
