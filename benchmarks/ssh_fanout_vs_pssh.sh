#!/usr/bin/env bash
# ajssh against what users run instead, on one private sshd of 127.0.0.1: Debian's
# parallel-ssh / parallel-scp (package pssh) and plain ssh / scp processes started by
# `xargs -P`. Two workloads, in alternated rounds (ajssh, pssh, ssh, ajssh, ...):
#   fanout: `true` on HOSTS target entries (all 127.0.0.1:PORT), WINDOW at once
#   push:   a PUSH_MIB MiB file to PUSH_HOSTS entries, all at once, into one remote directory
# Each client runs pinned to CPU 0 (`taskset -c 0`), sshd and its children to CPU 1. Per run:
# wall time, client CPU (user+sys of the whole process tree, from /usr/bin/time: waited-for
# children included), the largest process's peak RSS (/usr/bin/time %M) and the process
# tree's peak RSS summed over its processes (sampled every 20 ms from /proc, on CPU 1;
# a short peak between two samples is missed).
#
#   benchmarks/ssh_fanout_vs_pssh.sh [ROUNDS]          (default 3)
#   HOSTS=200 WINDOW=50 PUSH_HOSTS=20 PUSH_MIB=50 AJSSH=path/to/ajssh benchmarks/ssh_fanout_vs_pssh.sh 5
#   WORKLOADS=push CLIENTS="ajssh pssh" benchmarks/ssh_fanout_vs_pssh.sh 1
#
# Needs root (sshd, the `ajtest` account) and /usr/bin/{parallel-ssh,parallel-scp,time}.
# sshd's MaxStartups and MaxSessions are raised to 1000: with OpenSSH's defaults (10:30:100)
# sshd drops connections at random when 200 arrive at once, which every client here meets
# differently (ssh and pssh fail the host; ajssh retries the handshake). STOCK=1 keeps
# OpenSSH's defaults instead, to count those failures (the "failed_runs" column).
# Prints one line per run, then the medians per workload and client.
set -euo pipefail

rounds=${1:-3}
hosts=${HOSTS:-200} window=${WINDOW:-50} push_hosts=${PUSH_HOSTS:-20} push_mib=${PUSH_MIB:-50}
workloads=${WORKLOADS:-fanout push} clients=${CLIENTS:-ajssh pssh ssh}
run_timeout=${RUN_TIMEOUT:-600}  # seconds; a run killed then counts as failed (status 124)
user=ajtest

if [[ -z ${AJSSH:-} ]]; then
  cd "$(dirname "$0")/.."
  # shellcheck disable=SC2086
  ./bazelw ${BAZEL_STARTUP_FLAGS:-} build -c opt --symlink_prefix=/ -- //:ajssh >&2
  # shellcheck disable=SC2086
  AJSSH="$(./bazelw ${BAZEL_STARTUP_FLAGS:-} info -c opt bazel-bin 2>/dev/null)/tools/ajssh"
fi

work=$(mktemp -d /tmp/aj-pssh-bench-XXXXXX)
chmod 755 "$work"
sshd_pid=
cleanup() {
  if [[ -n $sshd_pid ]]; then kill "$sshd_pid" && wait "$sshd_pid" || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

start_sshd() {
  ssh-keygen -q -t ed25519 -N '' -C host -f "$work/host_key"
  ssh-keygen -q -t ed25519 -N '' -C user -f "$work/user_key"
  cp "$work/user_key.pub" "$work/authorized_keys"
  chmod 644 "$work/authorized_keys"
  id "$user" >/dev/null 2>&1 || useradd -m -s /bin/sh "$user"
  usermod -p '*' "$user"  # unlocked for key logins (UsePAM no)
  mkdir -p /run/sshd
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  cat >"$work/sshd_config" <<EOF
Port $port
ListenAddress 127.0.0.1
HostKey $work/host_key
AuthorizedKeysFile $work/authorized_keys
PidFile $work/sshd.pid
UsePAM no
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
Subsystem sftp /usr/lib/openssh/sftp-server
LogLevel ERROR
EOF
  if [[ -z ${STOCK:-} ]]; then printf "MaxSessions 1000\nMaxStartups 1000\n" >>"$work/sshd_config"; fi
  taskset -c 1 /usr/sbin/sshd -D -f "$work/sshd_config" -E "$work/sshd.log" &
  sshd_pid=$!
  for _ in $(seq 200); do
    if (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
    sleep 0.05
  done
  echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$work/host_key.pub")" >"$work/known_hosts"
}

# Every client checks the host key strictly against the same known_hosts file.
ssh_options() {
  echo "-o BatchMode=yes -o IdentitiesOnly=yes -i $work/user_key" \
    "-o UserKnownHostsFile=$work/known_hosts -o StrictHostKeyChecking=yes"
}
ajssh_options() {
  echo "-u $user -i $work/user_key --known-hosts $work/known_hosts --strict"
}

prepare_inputs() {
  for _ in $(seq "$hosts"); do echo "127.0.0.1:$port"; done >"$work/fanout_hosts"
  for _ in $(seq "$push_hosts"); do echo "127.0.0.1:$port"; done >"$work/push_hosts"
  head -c $((push_mib << 20)) /dev/urandom >"$work/payload"
  mkdir -p "$work/dest"
  chown "$user" "$work/dest"
}

# The command line of one client for one workload.
command_for() {
  local client=$1 workload=$2
  case $client/$workload in
    ajssh/fanout) echo "$AJSSH $(ajssh_options) -t $work/fanout_hosts -w $window -- true" ;;
    ajssh/push) echo "$AJSSH $(ajssh_options) -t $work/push_hosts --push $work/dest -- $work/payload" ;;
    pssh/fanout)
      echo "parallel-ssh -h $work/fanout_hosts -l $user -p $window -t 0 -x '$(ssh_options)' true" ;;
    pssh/push)
      echo "parallel-scp -h $work/push_hosts -l $user -p $push_hosts -t 0 -x '$(ssh_options)'" \
        "$work/payload $work/dest/" ;;
    ssh/fanout)
      echo "xargs -P $window -I{} ssh $(ssh_options) -p $port -l $user 127.0.0.1 true" \
        "<$work/fanout_hosts" ;;
    ssh/push)
      echo "xargs -P $push_hosts -I{} scp -q $(ssh_options) -P $port $work/payload" \
        "$user@127.0.0.1:$work/dest/ <$work/push_hosts" ;;
  esac
}

# Runs command $1 under /usr/bin/time (its figures into $work/time) pinned to CPU 0, killed
# after $run_timeout seconds (timeout(1) signals its process group), and
# prints the peak summed RSS (KiB) of its process tree (by parent pid: pssh starts each ssh
# in a session of its own), sampled every 20 ms until it exits; exits with its status.
run_sampled() {
  taskset -c 1 python3 - "$1" "$work/time" "$run_timeout" <<'EOF'
import os, subprocess, sys, time
command, time_file = sys.argv[1], sys.argv[2]
child = subprocess.Popen(["taskset", "-c", "0", "timeout", sys.argv[3], "/usr/bin/time", "-o", time_file,
                          "-f", "%e %U %S %M", "bash", "-c", command],
                         stdout=subprocess.DEVNULL, stderr=open(time_file + ".err", "w"))
peak = 0
while child.poll() is None:
    parent, rss = {}, {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # proc(5) counts stat's fields from 1; `fields` starts at the 3rd (state).
        parent[int(pid)] = int(fields[4 - 3])
        rss[int(pid)] = int(fields[24 - 3]) * 4  # 4 KiB pages
    tree, grew = {child.pid}, True
    while grew:
        below = {pid for pid, ppid in parent.items() if ppid in tree} - tree
        tree |= below
        grew = bool(below)
    peak = max(peak, sum(rss.get(pid, 0) for pid in tree))
    time.sleep(0.02)
print(peak)
sys.exit(child.returncode)
EOF
}

# Runs one client on one workload; prints "workload client status wall cpu max_rss tree_rss".
measure() {
  local client=$1 workload=$2 status=0 tree_rss
  rm -f "$work/dest/payload" "$work/time"
  tree_rss=$(run_sampled "$(command_for "$client" "$workload")") || status=$?
  if [[ $workload == push ]] && ! cmp -s "$work/payload" "$work/dest/payload"; then status=99; fi
  if ((status != 0)); then
    echo "# $client $workload failed ($status):" >&2
    tail -5 "$work/time.err" >&2
  fi
  local wall user_s sys_s max_rss
  [[ -s $work/time ]] || echo "nan nan nan nan" >"$work/time"  # killed by timeout(1)
  read -r wall user_s sys_s max_rss < <(tail -1 "$work/time")  # after "Command exited..."
  echo "$workload $client $status $wall $(awk "BEGIN { print $user_s + $sys_s }") $max_rss $tree_rss"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

start_sshd
prepare_inputs
echo "# $(date -u +%FT%TZ) $(nproc) CPUs, sshd limits $([[ -n ${STOCK:-} ]] && echo stock || echo raised); $hosts hosts x true (window $window), $push_mib MiB to" \
  "$push_hosts hosts; $rounds rounds; ajssh=$AJSSH"
echo "# workload client status wall_s client_cpu_s max_process_rss_kib tree_rss_kib"
for round in $(seq "$rounds"); do
  for workload in $workloads; do
    for client in $clients; do
      measure "$client" "$workload" | tee -a "$work/results"
    done
  done
done
echo "# medians over the successful runs: workload client wall_s client_cpu_s max_process_rss_MiB tree_rss_MiB failed_runs"
for workload in $workloads; do
  for client in $clients; do
    rows=$(awk -v w="$workload" -v c="$client" '$1 == w && $2 == c && $3 == 0' "$work/results")
    failed=$(awk -v w="$workload" -v c="$client" '$1 == w && $2 == c && $3 != 0' "$work/results" | wc -l)
    printf "%s %s %s %s %.1f %.1f %s\n" "$workload" "$client" \
      "$(awk '{ print $4 }' <<<"$rows" | median)" "$(awk '{ print $5 }' <<<"$rows" | median)" \
      "$(awk '{ print $6 / 1024 }' <<<"$rows" | median)" "$(awk '{ print $7 / 1024 }' <<<"$rows" | median)" \
      "$failed"
  done
done
