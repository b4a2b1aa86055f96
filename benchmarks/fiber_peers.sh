#!/usr/bin/env bash
# Runs the fiber-peer programs (benchmarks/fiber_peers.h: the same five workloads on asyncjobs
# and on Boost.Fiber) pinned to one CPU, alternated, ROUNDS rounds, and prints per workload,
# size and figure the median over the rounds of each program and the ratio
# asyncjobs/Boost.Fiber (below 1: asyncjobs is cheaper). Each run is a fresh process: its
# fresh_ figures are the first run of the process, its warm_ ones the median of the passes
# after it.
#
#   benchmarks/fiber_peers.sh                      # 3 rounds, 1k 10k 100k, every workload
#   ROUNDS=5 SIZES="1000 10000 100000 1000000" benchmarks/fiber_peers.sh
#   WORKLOADS="block sleep" CPU=1 benchmarks/fiber_peers.sh
#
# ROUNDS (3), SIZES ("1000 10000 100000"), WORKLOADS (all five), CPU (0: taskset -c), REPEAT
# (passes per process; default 5 for sleep, else 1e6/size within 5..30).
# ASYNCJOBS_PEER, BOOST_PEER: the programs (BOOST_PEER may be any program printing the line of
# fiber_peers.h, whatever its peer= name; default: built with -c opt through ./bazelw,
# passing BAZEL_STARTUP_FLAGS, e.g. --output_base=..., before the command).
# 1M blocked or sleeping tasks take about 4 GiB (asyncjobs) and 12 GiB (Boost.Fiber) resident.
set -euo pipefail

rounds=${ROUNDS:-3}
sizes=${SIZES:-1000 10000 100000}
workloads=${WORKLOADS:-spawn block yield queue sleep}
cpu=${CPU:-0}

if [[ -z ${ASYNCJOBS_PEER:-} || -z ${BOOST_PEER:-} ]]; then
  cd "$(dirname "$0")/.."
  # shellcheck disable=SC2086
  ./bazelw ${BAZEL_STARTUP_FLAGS:-} build -c opt --symlink_prefix=/ -- \
    //benchmarks:fiber_peers_asyncjobs //benchmarks:fiber_peers_boost >&2
  # shellcheck disable=SC2086
  bin="$(./bazelw ${BAZEL_STARTUP_FLAGS:-} info -c opt bazel-bin 2>/dev/null)/benchmarks"
  ASYNCJOBS_PEER=$bin/fiber_peers_asyncjobs BOOST_PEER=$bin/fiber_peers_boost
fi

passes() {  # WORKLOAD SIZE
  if [[ -n ${REPEAT:-} ]]; then echo "$REPEAT"; return; fi
  if [[ $1 == sleep ]]; then echo 5; return; fi
  local n=$((1000000 / $2))
  echo $((n < 5 ? 5 : n > 30 ? 30 : n))
}

lines=$(mktemp)
trap 'rm -f "$lines"' EXIT
echo "# $(date -u '+%F %H:%M UTC'), commit $(git -C "$(dirname "$0")" rev-parse --short HEAD 2>/dev/null || echo '?')," \
     "pinned to CPU $cpu, $rounds rounds; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for ((round = 1; round <= rounds; ++round)); do
  # Alternated: asyncjobs first in odd rounds, Boost.Fiber first in even ones.
  order=("$ASYNCJOBS_PEER" "$BOOST_PEER")
  if ((round % 2 == 0)); then order=("$BOOST_PEER" "$ASYNCJOBS_PEER"); fi
  for workload in $workloads; do
    for size in $sizes; do
      for program in "${order[@]}"; do
        taskset -c "$cpu" "$program" "$workload" "$size" --repeat="$(passes "$workload" "$size")" >>"$lines"
      done
    done
  done
  echo "# round $round done, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
done
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"

awk '
  {
    peer = ""; key = ""
    for (f = 1; f <= NF; ++f) {
      split($f, kv, "=")
      if (kv[1] == "peer") { peer = kv[2]; if (peer != "asyncjobs") { other = peer; peer = "peer" } }
      else if (kv[1] == "workload") workload = kv[2]
      else if (kv[1] == "tasks") tasks = kv[2]
      else if (kv[1] != "passes") {
        row = workload SUBSEP tasks SUBSEP kv[1]
        if (!(row in seen)) { seen[row] = 1; rows[++nrows] = row }
        values[row, peer, ++count[row, peer]] = kv[2] + 0
      }
    }
  }
  function median(row, peer,    n, i, j, v, s) {
    n = count[row, peer]
    if (n == 0) return -1
    for (i = 1; i <= n; ++i) s[i] = values[row, peer, i]
    for (i = 2; i <= n; ++i) {  # insertion sort: n is small
      v = s[i]
      for (j = i - 1; j >= 1 && s[j] > v; --j) s[j + 1] = s[j]
      s[j + 1] = v
    }
    return (n % 2) ? s[(n + 1) / 2] : (s[n / 2] + s[n / 2 + 1]) / 2
  }
  END {
    printf "%-8s %8s %-20s %12s %12s %8s\n", "workload", "tasks", "figure", "asyncjobs",
           other, "ratio"
    for (r = 1; r <= nrows; ++r) {
      split(rows[r], part, SUBSEP)
      a = median(rows[r], "asyncjobs"); b = median(rows[r], "peer")
      ratio = (a >= 0 && b > 0) ? sprintf("%.2f", a / b) : "-"
      printf "%-8s %8s %-20s %12.1f %12.1f %8s\n", part[1], part[2], part[3], a, b, ratio
    }
  }' "$lines"
