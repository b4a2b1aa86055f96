// Soak: random scenarios, one after the other, for N minutes; RSS and open fds sampled as it
// goes must stay flat (nothing lost, nothing leaked). Not a CI test.
//   ./bazelw run -c opt //benchmarks:soak -- 10      (minutes; default 1)
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "asyncjobs/asyncjobs.h"
#include "tests/open_fds.h"

namespace aj = asyncjobs;

namespace {

using aj::testing::open_fd_count;

long rss_kib() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

// One random scenario: a few hundred jobs in a random DAG, some nested, that return, raise,
// sleep, meet on an Event, run a process, or get cancelled; a random window and timeout.
void run_scenario(std::mt19937& random) {
  auto pick = [&](int n) { return static_cast<int>(random() % n); };
  aj::Event event;
  aj::Scheduler top({.critical = false,
                     .jobs_window = std::vector<int>{0, 1, 4, 16}[pick(4)],
                     .timeout = pick(4) == 0 ? absl::Milliseconds(20) : absl::Seconds(30)});
  auto nested = aj::make_scheduler({.critical = false});
  std::vector<aj::JobPtr> jobs;
  const int count = 50 + pick(250);
  for (int i = 0; i < count; ++i) {
    std::function<int()> body;
    switch (pick(7)) {
      case 0: body = [i] { return i; }; break;
      case 1: body = [i]() -> int { throw std::runtime_error("boom " + std::to_string(i)); };
        break;
      case 2: body = [] { aj::sleep_for(absl::Microseconds(200)); return 0; }; break;
      case 3: body = [&event] { event.wait(absl::Milliseconds(5)); return 1; }; break;
      case 4: body = [&event] { event.set(); return 2; }; break;
      case 5: body = [] { return aj::run_process({.argv = {"true"}}).exit_code; }; break;
      default: body = [] { aj::yield(); return 3; }; break;
    }
    auto job = aj::make_job(std::move(body), {.critical = false, .retries = pick(8) == 0});
    if (pick(8) == 0) {  // nested jobs require nothing: requirements stay inside a scheduler
      nested->add(job);
      continue;
    }
    if (!jobs.empty() && pick(2) == 0) job->require(jobs[random() % jobs.size()]);
    if (pick(10) == 0 && !jobs.empty()) jobs[random() % jobs.size()]->cancel();
    top.add(job);
    jobs.push_back(job);
  }
  top.add(nested);
  top.run();
}

}  // namespace

int main(int argc, char** argv) {
  const double minutes = argc > 1 ? std::atof(argv[1]) : 1.0;
  std::mt19937 random(2026);
  const absl::Time start = absl::Now(), end = start + absl::Seconds(minutes * 60);
  absl::Time next_sample = start;
  long scenarios = 0, first_rss = 0;
  int first_fds = 0;
  std::printf("%8s %10s %9s %5s\n", "seconds", "scenarios", "rss_kib", "fds");
  while (absl::Now() < end) {
    run_scenario(random);
    ++scenarios;
    if (absl::Now() < next_sample) continue;
    next_sample += absl::Seconds(minutes * 6);  // ten samples
    if (first_rss == 0 && scenarios > 1) {
      first_rss = rss_kib();
      first_fds = open_fd_count();
    }
    std::printf("%8.0f %10ld %9ld %5d\n", absl::ToDoubleSeconds(absl::Now() - start), scenarios,
                rss_kib(), open_fd_count());
    std::fflush(stdout);
  }
  std::printf("end: %ld scenarios; RSS %ld -> %ld KiB (x%.2f), fds %d -> %d\n", scenarios,
              first_rss, rss_kib(), first_rss ? double(rss_kib()) / first_rss : 0.0, first_fds,
              open_fd_count());
  return open_fd_count() == first_fds ? 0 : 1;
}
