#!/usr/bin/env bash
# No-op graphs against Taskflow in wall time: runs first_graph and the Taskflow program of the
# same protocol (benchmarks/peers/taskflow_first_graph.cc) pinned to the same CPU, alternated,
# ROUNDS rounds, per shape and size, warm (one process per run, --repeat passes, passes 3 and
# later), and prints the medians of build, run, teardown and total ns per job and the ratio
# asyncjobs/Taskflow of each (below 1: asyncjobs is faster). Wall time per job of the whole
# graph (build + run + teardown) is the measure; a loaded machine inflates it for both.
#
#   TASKFLOW_DIR=$HOME/taskflow benchmarks/taskflow_vs_asyncjobs.sh
#   ROUNDS=5 SIZES=1000000 SHAPES=layered TASKFLOW_DIR=... benchmarks/taskflow_vs_asyncjobs.sh
#
# TASKFLOW_DIR: a clone of github.com/taskflow/taskflow at 83f90a2 (Taskflow 4.1.0, header
# only; not in this repository): the Taskflow program is compiled from it with
# `g++ -O2 -std=c++20 -pthread`. Or TASKFLOW_FIRST_GRAPH: that program, already built.
# FIRST_GRAPH: first_graph (default: built with -c opt through ./bazelw, passing
# BAZEL_STARTUP_FLAGS before the command). ROUNDS (3), SIZES ("10000 1000000"), SHAPES
# ("fanout chain layered"), CPU (0: taskset -c), REPEAT (passes per process: 6 at 1M and
# above, 20 below).
set -euo pipefail

rounds=${ROUNDS:-3}
sizes=${SIZES:-10000 1000000}
shapes=${SHAPES:-fanout chain layered}
cpu=${CPU:-0}
here=$(cd "$(dirname "$0")" && pwd)

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
if [[ -z ${TASKFLOW_FIRST_GRAPH:-} ]]; then
  if [[ -z ${TASKFLOW_DIR:-} ]]; then
    echo "$0: set TASKFLOW_DIR to a clone of github.com/taskflow/taskflow at 83f90a2" \
         "(or TASKFLOW_FIRST_GRAPH to a built benchmarks/peers/taskflow_first_graph.cc)" >&2
    exit 2
  fi
  TASKFLOW_FIRST_GRAPH=$scratch/taskflow_first_graph
  g++ -O2 -std=c++20 -pthread -I"$TASKFLOW_DIR" "$here/peers/taskflow_first_graph.cc" \
      -o "$TASKFLOW_FIRST_GRAPH"
fi
if [[ -z ${FIRST_GRAPH:-} ]]; then
  cd "$here/.."
  # shellcheck disable=SC2086
  ./bazelw ${BAZEL_STARTUP_FLAGS:-} build -c opt --symlink_prefix=/ -- //benchmarks:first_graph >&2
  # shellcheck disable=SC2086
  FIRST_GRAPH="$(./bazelw ${BAZEL_STARTUP_FLAGS:-} info -c opt bazel-bin 2>/dev/null)/benchmarks/first_graph"
fi

passes() {  # SIZE
  if [[ -n ${REPEAT:-} ]]; then echo "$REPEAT"; elif (($1 >= 1000000)); then echo 6; else echo 20; fi
}

# One process: the median of its warm passes (3 and later), as "peer shape jobs key=value...".
warm_line() {  # PEER PROGRAM SHAPE SIZE
  taskset -c "$cpu" "$2" "$3" "$4" --repeat="$(passes "$4")" | awk -v peer="$1" '
    {
      for (f = 1; f <= NF; ++f) { split($f, kv, "="); field[kv[1]] = kv[2] }
      if (field["pass"] < 3) next
      n++
      for (k in wanted) values[k, n] = field[k] + 0
      shape = field["shape"]; jobs = field["jobs"]
    }
    BEGIN { split("build run teardown total", keys, " "); for (i in keys) wanted[keys[i]] = 1 }
    END {
      printf "%s %s %s", peer, shape, jobs
      for (i = 1; i <= 4; ++i) {
        k = keys[i]
        for (a = 1; a <= n; ++a) s[a] = values[k, a]
        for (a = 2; a <= n; ++a) { v = s[a]; for (b = a - 1; b >= 1 && s[b] > v; --b) s[b + 1] = s[b]; s[b + 1] = v }
        printf " %s=%.1f", k, (n % 2) ? s[(n + 1) / 2] : (s[n / 2] + s[n / 2 + 1]) / 2
      }
      printf "\n"
    }'
}

lines=$scratch/lines
echo "# $(date -u '+%F %H:%M UTC'), commit $(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo '?')," \
     "pinned to CPU $cpu, $rounds rounds, wall ns per job (warm passes); load before:" \
     "$(cut -d' ' -f1-3 /proc/loadavg)"
for ((round = 1; round <= rounds; ++round)); do
  for size in $sizes; do
    for shape in $shapes; do
      if ((round % 2)); then
        warm_line asyncjobs "$FIRST_GRAPH" "$shape" "$size" >>"$lines"
        warm_line taskflow "$TASKFLOW_FIRST_GRAPH" "$shape" "$size" >>"$lines"
      else
        warm_line taskflow "$TASKFLOW_FIRST_GRAPH" "$shape" "$size" >>"$lines"
        warm_line asyncjobs "$FIRST_GRAPH" "$shape" "$size" >>"$lines"
      fi
    done
  done
  echo "# round $round done, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
done
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"

awk '
  {
    row = $2 SUBSEP $3
    if (!(row in seen)) { seen[row] = 1; rows[++nrows] = row }
    for (f = 4; f <= NF; ++f) { split($f, kv, "="); values[row, $1, kv[1], ++count[row, $1, kv[1]]] = kv[2] + 0 }
  }
  function median(row, peer, key,    n, i, j, v, s) {
    n = count[row, peer, key]
    if (n == 0) return -1
    for (i = 1; i <= n; ++i) s[i] = values[row, peer, key, i]
    for (i = 2; i <= n; ++i) { v = s[i]; for (j = i - 1; j >= 1 && s[j] > v; --j) s[j + 1] = s[j]; s[j + 1] = v }
    return (n % 2) ? s[(n + 1) / 2] : (s[n / 2] + s[n / 2 + 1]) / 2
  }
  END {
    split("build run teardown total", keys, " ")
    printf "%-8s %8s %-9s %10s %10s %7s\n", "shape", "jobs", "figure", "asyncjobs", "taskflow", "ratio"
    for (r = 1; r <= nrows; ++r) {
      split(rows[r], part, SUBSEP)
      for (i = 1; i <= 4; ++i) {
        a = median(rows[r], "asyncjobs", keys[i]); t = median(rows[r], "taskflow", keys[i])
        printf "%-8s %8s %-9s %10.1f %10.1f %7s\n", part[1], part[2], keys[i], a, t,
               (t > 0) ? sprintf("%.2f", a / t) : "-"
      }
    }
  }' "$lines"
