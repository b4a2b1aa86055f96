#!/usr/bin/env bash
# Fails if a layer of asyncjobs/BUILD.bazel depends on a layer above it or beside it (see
# docs/design.md, "Layers"). One line per layer, bottom to top; layers on one line are
# siblings and must not depend on each other either.
set -uo pipefail
cd "$(dirname "$0")/.."

layers=(
  "base"
  "memory"
  "fiber"
  "reactor"
  "sync"
  "jobs"
  "journal"
  "scheduler process"
  "asyncjobs"
  "ssh slurm"
)

status=0
for ((i = 0; i < ${#layers[@]}; ++i)); do
  forbidden=()
  for ((j = i; j < ${#layers[@]}; ++j)); do
    for name in ${layers[j]}; do forbidden+=("//asyncjobs:${name}"); done
  done
  for name in ${layers[i]}; do
    others=()
    for target in "${forbidden[@]}"; do
      [[ "$target" != "//asyncjobs:${name}" ]] && others+=("$target")
    done
    ((${#others[@]})) || continue
    found=$(./bazelw query "deps(//asyncjobs:${name}) intersect set(${others[*]})" 2>/dev/null)
    if [[ -n "$found" ]]; then
      echo "layering: //asyncjobs:${name} depends on a layer above or beside it: ${found//$'\n'/ }"
      status=1
    fi
  done
done
((status == 0)) && echo "layering: every layer depends only on layers below it"
exit "$status"
