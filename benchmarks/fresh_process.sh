#!/usr/bin/env bash
# Runs the first graph of a fresh process RUNS times (default 20) and prints, for each
# per-job figure first_graph reports, the median and the max over the runs.
#
#   benchmarks/fresh_process.sh fanout 1000000
#   ASYNCJOBS_HUGE_PAGES=0 benchmarks/fresh_process.sh fanout 10000 20
#   FIRST_GRAPH=path/to/binary benchmarks/fresh_process.sh chain 1000000
#
# FIRST_GRAPH: the program to run (default: builds //benchmarks:first_graph with -c opt
# through ./bazelw, passing BAZEL_STARTUP_FLAGS, e.g. --output_base=..., before the command).
# Any program printing first_graph's "key=value ..." line can be compared the same way.
# Extra arguments after RUNS go to the program (e.g. --sleep_after_ms=3000).
set -euo pipefail

if (($# < 2)); then
  echo "usage: $0 SHAPE JOBS [RUNS] [program args...]" >&2
  exit 2
fi
shape=$1 jobs=$2 runs=${3:-20}
shift $(($# < 3 ? $# : 3))

if [[ -z ${FIRST_GRAPH:-} ]]; then
  cd "$(dirname "$0")/.."
  # shellcheck disable=SC2086
  ./bazelw ${BAZEL_STARTUP_FLAGS:-} build -c opt --symlink_prefix=/ -- //benchmarks:first_graph >&2
  # shellcheck disable=SC2086
  FIRST_GRAPH="$(./bazelw ${BAZEL_STARTUP_FLAGS:-} info -c opt bazel-bin 2>/dev/null)/benchmarks/first_graph"
fi

echo "# $shape $jobs jobs, $runs fresh processes, ASYNCJOBS_HUGE_PAGES=${ASYNCJOBS_HUGE_PAGES-unset}" \
     "(per job: ns, rss_per_job bytes, peak_rss_mib MiB)"
for ((i = 0; i < runs; ++i)); do
  "$FIRST_GRAPH" "$shape" "$jobs" "$@" | head -n 1
done | awk '
  {
    for (f = 1; f <= NF; ++f) {
      split($f, kv, "=")
      if (kv[1] == "pass" || kv[1] == "shape" || kv[1] == "jobs") continue
      if (!(kv[1] in seen)) { seen[kv[1]] = 1; order[++keys] = kv[1] }
      values[kv[1], ++count[kv[1]]] = kv[2] + 0
    }
  }
  END {
    printf "%-14s %12s %12s %8s\n", "figure", "median", "max", "max/med"
    for (k = 1; k <= keys; ++k) {
      key = order[k]; n = count[key]
      for (i = 1; i <= n; ++i) sorted[i] = values[key, i]
      for (i = 2; i <= n; ++i) {  # insertion sort: n is small
        v = sorted[i]
        for (j = i - 1; j >= 1 && sorted[j] > v; --j) sorted[j + 1] = sorted[j]
        sorted[j + 1] = v
      }
      median = (n % 2) ? sorted[(n + 1) / 2] : (sorted[n / 2] + sorted[n / 2 + 1]) / 2
      ratio = (median > 0) ? sprintf("%.2f", sorted[n] / median) : "-"
      printf "%-14s %12.1f %12.1f %8s\n", key, median, sorted[n], ratio
    }
  }'
