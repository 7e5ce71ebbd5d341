#!/usr/bin/env bash
# The Slurm recipe of docs/experiments.md, really run: starts a single-node Slurm (munged,
# slurmctld, slurmd, all in a scratch directory, on ports of their own), submits the docs' array
# job script as it is written there, waits for its 20 tasks, and checks that the summary of their
# result files equals the same experiment run in one process — as sweep.sh does for GNU parallel.
# Exits 77 (CTest: skipped) with the reason where a Slurm cannot be started here.
# Usage: slurm.sh XOR_SWEEP_BINARY WORK_DIR DOC
set -euo pipefail
bin=$1 dir=$2 doc=$3
skip() { echo "skipped: $*"; exit 77; }
for tool in munged slurmctld slurmd sbatch sinfo; do
  command -v "$tool" >/dev/null || skip "$tool is not installed (Debian's slurm-wlm and munge; scripts/test.sh installs them)"
done
[ "$(id -u)" -eq 0 ] || skip "slurmd runs jobs as their user and needs root here"

rm -rf "$dir"
mkdir -p "$dir/state" "$dir/spool" "$dir/munge" "$dir/work/results"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

# munge: a key and a socket of this test's own
dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$dir/munge/munge.key"
munged --foreground --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/socket" \
  --pid-file="$dir/munge/munged.pid" --log-file="$dir/munge/munged.log" --seed-file="$dir/munge/seed" \
  >"$dir/munge/munged.out" 2>&1 &
pids+=($!)

host=$(hostname -s)
port=$((20000 + RANDOM % 20000))
cat >"$dir/slurm.conf" <<CONF
ClusterName=neuronka-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
AuthType=auth/munge
AuthInfo=socket=$dir/munge/socket
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
ReturnToService=2
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$dir/slurm.conf
for _ in $(seq 50); do [ -S "$dir/munge/socket" ] && break; sleep 0.1; done
slurmctld -D -c -f "$SLURM_CONF" >"$dir/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -f "$SLURM_CONF" >"$dir/slurmd.out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  state=$(sinfo -h -N -o %T 2>/dev/null | head -1 || true)
  [ "$state" = idle ] && break
  sleep 0.3
done
[ "$state" = idle ] || skip "the single-node Slurm did not come up (node state '${state:-none}'; see $dir/slurmctld.log and $dir/slurmd.log)"
echo "a single-node Slurm is up: node $host, $(nproc) CPUs"

# the docs' array job script, exactly as docs/experiments.md shows it
awk '/^```sh$/ {block=""; inside=1; next} /^```$/ {if (inside && block ~ /#SBATCH --array/) {printf "%s", block; exit} inside=0; next} inside {block = block $0 "\n"}' \
  "$doc" >"$dir/work/sweep.sh"
grep -q '^#SBATCH --array=0-19' "$dir/work/sweep.sh" || { echo "no Slurm recipe found in $doc"; exit 1; }
ln -s "$bin" "$dir/work/xor_sweep"
cd "$dir/work"
# Polled here rather than with sbatch --wait, whose own polling returned half a minute after the last task.
job=$(sbatch --parsable --output="$dir/task-%a.out" sweep.sh)
echo "submitted array job $job"
for _ in $(seq 1200); do  # at most two minutes
  if queued=$(squeue -h -j "$job" -o %i 2>/dev/null); then [ -z "$queued" ] && break; fi
  sleep 0.1
done
if scontrol -o show job "$job" | grep -v 'JobState=COMPLETED'; then
  echo "a task of array job $job did not complete"; tail -n 5 "$dir"/task-*.out; exit 1
fi
files=$(find results -name '*.csv' | wc -l)
echo "result files: $files"
[ "$files" -eq 20 ]
./xor_sweep summarize results | tee "$dir/summary.txt"
./xor_sweep in-process 10 >"$dir/in-process.txt"
diff "$dir/summary.txt" "$dir/in-process.txt"
echo "the Slurm array job's summary equals the in-process experiment's"
