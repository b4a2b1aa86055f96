#!/bin/bash
# A throwaway single-node Slurm cluster (munged, slurmctld, slurmd) in one directory, for the
# Slurm tests and for trying examples/slurm.cc; no systemd, no files outside that directory.
#
#   tests/slurm/cluster.sh start DIR [CPUS]  # writes DIR/slurm.conf, starts the daemons, waits
#                                            # until the node is idle, prints `export SLURM_CONF=...`
#   tests/slurm/cluster.sh stop DIR    # stops the daemons started in DIR, by pid
#
# CPUS (default: this machine's) is how many CPUs the node claims (SlurmdParameters=
# config_overrides): 256 lets hundreds of short jobs run at once on a small machine.
# DIR must exist and be short (munge's socket path lives in it). Runs as root, like the
# daemons' SlurmUser. On failure it says why, shows the daemons' logs and stops what it started.
set -euo pipefail
export PATH=$PATH:/usr/sbin:/sbin  # the daemons, for callers such as Bazel tests with a short PATH

readonly kNode=asyncjobs-node
readonly kStartTimeout=30  # seconds until the node must be idle

die() {
  echo "cluster.sh: $*" >&2
  for log in "$dir"/*.log; do
    [[ -s $log ]] && { echo "--- $log" >&2; tail -n 20 "$log" >&2; }
  done
  stop_daemons
  exit 1
}

# Two TCP ports free on 127.0.0.1 right now.
free_ports() {
  python3 -c 'import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*(x.getsockname()[1] for x in s))'
}

write_config() {
  local ports
  read -r -a ports <<<"$(free_ports)"
  cat >"$dir/slurm.conf" <<CONF
ClusterName=asyncjobs
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=${ports[0]}
SlurmdPort=${ports[1]}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge.socket
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
SwitchType=switch/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmdParameters=config_overrides
ReturnToService=2
# Finished jobs stay readable for 60 s (the default 300 s, with thousands of short jobs
# per run, would keep too many records); runs of 10,000 jobs and arrays fit in memory.
MinJobAge=60
MaxJobCount=100000
MaxArraySize=10001
# Schedule on each submission and completion, not every 3 s: tests wait for jobs. Look at
# up to 1,000 pending jobs per pass (default 100), so that thousands submitted together
# start as CPUs free up rather than at the next full pass.
SchedulerParameters=batch_sched_delay=0,default_queue_depth=1000
KillWait=2
# Under load (2 cores, hundreds of launches at once, sanitizer builds beside) slurmd may
# answer a batch launch after the default 10 s: slurmctld then requeues and holds the job.
MessageTimeout=60
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
NodeName=$kNode NodeHostname=localhost NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=debug Nodes=$kNode Default=YES MaxTime=INFINITE State=UP
CONF
}

start_munged() {
  chmod 0755 "$dir"  # munged wants every directory above its socket searchable by all
  mungekey --create --keyfile="$dir/munge.key" || die "mungekey failed"
  munged --key-file="$dir/munge.key" --socket="$dir/munge.socket" \
    --pid-file="$dir/munged.pid" --log-file="$dir/munged.log" \
    --seed-file="$dir/munged.seed" || die "munged did not start"
}

start_slurm() {
  mkdir -p "$dir/state" "$dir/spool"
  slurmctld -f "$dir/slurm.conf" || die "slurmctld did not start"
  slurmd -f "$dir/slurm.conf" -N "$kNode" || die "slurmd did not start"
}

wait_until_idle() {
  local deadline=$((SECONDS + kStartTimeout)) state=""
  while ((SECONDS < deadline)); do
    state=$(SLURM_CONF="$dir/slurm.conf" sinfo -h -n "$kNode" -o %T 2>/dev/null || true)
    [[ $state == idle ]] && return 0
    sleep 0.2
  done
  die "node $kNode not idle after ${kStartTimeout}s (state: '${state:-unknown}')"
}

# TERM each daemon started in $dir, then KILL what is left after 10 s.
stop_daemons() {
  local pidfile pid pids=()
  for pidfile in "$dir"/slurmd.pid "$dir"/slurmctld.pid "$dir"/munged.pid; do
    [[ -s $pidfile ]] || continue
    pid=$(<"$pidfile")
    kill -TERM "$pid" 2>/dev/null && pids+=("$pid")
    rm -f "$pidfile"
  done
  local deadline=$((SECONDS + 10))
  for pid in "${pids[@]}"; do
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
}

usage() { echo "usage: $0 start|stop EXISTING_DIR [CPUS]" >&2; exit 2; }
[[ ($# == 2 || $# == 3) && -d $2 ]] || usage
dir=$(cd "$2" && pwd)
cpus=${3:-$(nproc)}
[[ $cpus =~ ^[1-9][0-9]*$ ]] || usage
case $1 in
  start)
    ((${#dir} < 80)) || { echo "cluster.sh: '$dir' is too long for munge's socket" >&2; exit 2; }
    for tool in mungekey munged slurmctld slurmd sinfo python3; do
      command -v "$tool" >/dev/null || { echo "cluster.sh: $tool not found" >&2; exit 1; }
    done
    write_config
    start_munged
    start_slurm
    wait_until_idle
    echo "export SLURM_CONF=$dir/slurm.conf"
    ;;
  stop) stop_daemons ;;
  *) usage ;;
esac
