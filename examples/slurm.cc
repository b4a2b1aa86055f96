// Jobs on a Slurm cluster: a local job writes the input, three Slurm batch jobs crunch it
// (`variance` requires `sum` and `squares`) while a 4-element job array sums each quarter,
// a local job prints the summary; the listing at the end shows each batch job's sbatch
// command, Slurm job id and final state (for the array: its id and per-state counts).
//
//   d=$(mktemp -d /tmp/slurm.XXXXXX) && eval "$(tests/slurm/cluster.sh start "$d")"
//   ./bazelw run //examples:slurm            # or: -- DIR, a directory the nodes can see
//   tests/slurm/cluster.sh stop "$d"
//
// On a real cluster, skip cluster.sh and pass a directory on the shared filesystem.
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>

#include "asyncjobs/asyncjobs.h"
#include "asyncjobs/slurm.h"

namespace aj = asyncjobs;
namespace slurm = asyncjobs::slurm;

namespace {

// The batch jobs' commands, run in the work directory on the 1000 numbers of input.txt.
constexpr char kSum[] = "awk '{ s += $1 } END { print s }' input.txt > sum.txt";
constexpr char kSquares[] = "awk '{ s += $1 * $1 } END { print s }' input.txt > squares.txt";
constexpr char kVariance[] =
    "paste sum.txt squares.txt | awk '{ print $2 / 1000 - ($1 / 1000) ^ 2 }' > variance.txt";
// Each element of the array sums its quarter of the input into quarterK.txt.
constexpr char kQuarter[] =
    "k=$SLURM_ARRAY_TASK_ID\n"
    "awk -v k=$k 'NR > k * 250 && NR <= (k + 1) * 250 { s += $1 } END { print s }' "
    "input.txt > quarter$k.txt";

// The batch jobs' working directory: the one given (made if needed; relative to where
// `bazel run` was typed), else a fresh one under /tmp (fine for a single-node cluster only).
std::string work_directory(int argc, char** argv) {
  if (argc > 1) {
    const char* typed_in = std::getenv("BUILD_WORKING_DIRECTORY");
    const std::filesystem::path base = typed_in ? typed_in : std::filesystem::current_path();
    const std::filesystem::path dir = base / argv[1];
    std::filesystem::create_directories(dir);
    return dir.string();
  }
  char pattern[] = "/tmp/asyncjobs-slurm-example-XXXXXX";
  if (::mkdtemp(pattern) == nullptr) throw std::runtime_error("mkdtemp failed");
  return pattern;
}

// A batch job running an awk program over the input, named after its label.
std::shared_ptr<slurm::BatchJob> awk_batch_job(const std::string& dir, const std::string& label,
                                               const std::string& command) {
  return slurm::make_batch_job(
      {.script = "#!/bin/sh\n" + command + "\n",
       .sbatch_args = {"--job-name=" + label, "--output=" + label + ".log"},
       .working_directory = dir,
       .poll_interval = absl::Milliseconds(500)},
      {.label = label});
}

std::string first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string dir = work_directory(argc, argv);
  aj::Watch watch;

  auto prepare = aj::make_job(
      [&] {
        std::ofstream input(dir + "/input.txt");
        for (int i = 1; i <= 1000; ++i) input << i << "\n";
        watch.print_elapsed("input written in " + dir + "\n");
      },
      {.label = "prepare"});
  auto sum = awk_batch_job(dir, "sum", kSum);
  auto squares = awk_batch_job(dir, "squares", kSquares);
  auto variance = awk_batch_job(dir, "variance", kVariance);
  sum->require(prepare);
  squares->require(prepare);
  variance->require(sum, squares);
  auto quarters = slurm::make_batch_array_job(
      {.script = std::string("#!/bin/sh\n") + kQuarter + "\n",
       .sbatch_args = {"--job-name=quarters", "--output=quarters_%a.log"},
       .working_directory = dir,
       .poll_interval = absl::Milliseconds(500)},
      4, {.label = "quarters", .required = {prepare}});
  auto summary = aj::make_job(
      [&] {
        watch.print_elapsed("sum " + first_line(dir + "/sum.txt") + ", squares " +
                            first_line(dir + "/squares.txt") + ", variance " +
                            first_line(dir + "/variance.txt") + ", quarters " +
                            first_line(dir + "/quarter0.txt") + " " +
                            first_line(dir + "/quarter1.txt") + " " +
                            first_line(dir + "/quarter2.txt") + " " +
                            first_line(dir + "/quarter3.txt") + "\n");
      },
      {.label = "summary", .required = {variance, quarters}});

  aj::Scheduler scheduler({prepare, sum, squares, variance, quarters, summary},
                          {.critical = false});
  const bool ok = scheduler.run();
  std::cout << "run() -> " << std::boolalpha << ok << " (" << scheduler.why() << ")\n";
  scheduler.list(true);
  return ok ? 0 : 1;
}
