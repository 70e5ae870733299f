#!/usr/bin/env bash
# `npm run test:slurm`: runs a matrix on a real Slurm and checks that the merged results
# equal a local run's, cell for cell, with identical metrics.json bytes (sha256) in every
# cell. As root it installs Debian's slurm-wlm and munge when they are missing, writes a
# one-node cluster for this machine into a temporary folder (slurm.conf, state and spool
# folders, a private munge socket), starts munged, slurmctld and slurmd, submits the
# matrix with `virtlab matrix --slurm` (an array of several tasks and a merge job), waits,
# then deletes one stored cell and corrupts another and submits again, which must run
# exactly those two cells. The daemons it started are stopped by their PIDs on exit,
# whether it passed or not. Every wait is bounded. VIRTLAB_SLURM_KEEP=1 keeps the
# temporary folder (configuration, logs, results) for a look afterwards.
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
START=$(date +%s)
say() { echo "test:slurm [$(($(date +%s) - START)) s] $*"; }
fail() { echo "test:slurm: FAILED: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || fail "needs root (it installs packages and starts slurmctld, slurmd and munged)"

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sbatch >/dev/null || ! command -v munged >/dev/null || ! command -v mungekey >/dev/null; then
  command -v apt-get >/dev/null || fail "slurmctld, slurmd, sbatch or munged is missing, and there is no apt-get to install Debian's slurm-wlm and munge"
  say "installing slurm-wlm and munge"
  timeout 300 apt-get update -qq
  DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
fi
if [ ! -s /etc/munge/munge.key ]; then
  mkdir -p /etc/munge
  say "creating a munge key"
  mungekey --create --keyfile=/etc/munge/munge.key
  chown munge:munge /etc/munge/munge.key
  chmod 600 /etc/munge/munge.key
fi

T=$(mktemp -d /tmp/virtlab-slurm.XXXXXX)
chmod 755 "$T"
PIDS=()
# Processes of this test's cluster that its daemons started (slurmstepd, the jobs):
# they carry this cluster's SLURM_CONF, a path no other cluster has.
ours() {
  grep -lzxF "SLURM_CONF=$T/slurm.conf" /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3 | grep -vxF "$$" || true
}
cleanup() {
  local rc=$?
  # Jobs still running (after a failure) go first, while slurmctld can still cancel them.
  if [ -n "${SLURM_CONF:-}" ] && [ "$rc" != 0 ]; then
    scancel --full --user="$(id -un)" >/dev/null 2>&1 || true
    for _ in $(seq 20); do [ -z "$(squeue --noheader 2>/dev/null)" ] && break; sleep 1; done
  fi
  # slurmd, slurmctld, then munged, which they need to the end.
  local i pid
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    pid=${PIDS[i]}
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  # A job step that outlived slurmd (slurmstepd waits for it, ignoring SIGTERM).
  local left
  left=$(ours)
  if [ -n "$left" ]; then kill -9 $left 2>/dev/null || true; fi
  if [ "$rc" != 0 ]; then
    for log in "$T"/*.log "$T"/out/slurm/*.log; do [ -f "$log" ] && { echo "--- $log (tail)"; tail -n 20 "$log"; }; done >&2
  fi
  if [ -n "${VIRTLAB_SLURM_KEEP:-}" ]; then say "kept $T"; else rm -rf "$T"; fi
  say "stopped the daemons; $([ "$rc" = 0 ] && echo passed || echo failed) in $(($(date +%s) - START)) s"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Two free TCP ports for slurmctld and slurmd: a cluster already on this machine keeps its own.
read -r CTLD_PORT SLURMD_PORT < <(node -e "
const net = require('net'); const a = net.createServer().listen(0, '127.0.0.1', () => { const b = net.createServer().listen(0, '127.0.0.1', () => {
  console.log(a.address().port, b.address().port); a.close(); b.close(); }); });")
HOST=$(hostname -s)
CPUS=$(nproc)
# A little under the total, so that slurmd never finds less memory than configured and drains the node.
MEM_MB=$(( $(awk '/^MemTotal:/ { print $2 }' /proc/meminfo) * 99 / 100 / 1024 ))

mkdir -p "$T/munge" "$T/state" "$T/spool"
chown munge:munge "$T/munge"
chmod 700 "$T/munge"
# munged runs as its own user (the key belongs to it), in the foreground, so that $! is its PID.
setpriv --reuid=munge --regid=munge --init-groups munged --foreground --force \
  --socket="$T/munge/munge.socket" --pid-file="$T/munge/munged.pid" --log-file="$T/munge/munged.log" \
  --seed-file="$T/munge/munged.seed" >"$T/munged.log" 2>&1 &
PIDS+=($!)

cat >"$T/slurm.conf" <<EOF
ClusterName=virtlab-test
SlurmctldHost=$HOST(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$T/munge/munge.socket
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/slurmctld.log
SlurmdLogFile=$T/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
MailProg=/bin/true
SwitchType=switch/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
SlurmdTimeout=120
MinJobAge=600
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN
PartitionName=test Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$T/slurm.conf

# Waits (at most $1 seconds) until the command in the remaining arguments succeeds.
wait_for() {
  local limit=$1; shift
  local until=$(($(date +%s) + limit))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$until" ] || return 1
    sleep 1
  done
}
wait_for 30 test -S "$T/munge/munge.socket" || fail "munged did not start"
say "munged running"

slurmctld -D -c -f "$T/slurm.conf" >"$T/slurmctld.out.log" 2>&1 &
PIDS+=($!)
wait_for 60 scontrol ping || fail "slurmctld did not answer within 60 s"
slurmd -D -f "$T/slurm.conf" >"$T/slurmd.out.log" 2>&1 &
PIDS+=($!)
node_idle() { sinfo --noheader --nodes="$HOST" --format=%t | grep -qx 'idle'; }
wait_for 120 node_idle || fail "node $HOST did not become idle within 120 s: $(sinfo --noheader --format='%t %E' 2>&1)"
say "slurmctld and slurmd running: node $HOST with $CPUS CPUs and $MEM_MB MB"

# A small matrix: six cells of a short demo run, in three array tasks.
cat >"$T/slurm-test.matrix.yaml" <<EOF
name: slurm-test
scenarios:
  - file: $REPO/scenarios/demo.scenario.yaml
    set: { duration: 2s }
axes:
  placement: [first-fit, worst-fit]
  seed: [1, 2, 3]
strategy: full
metrics:
  workload.writes: { tolerance: 0 }
  dc.vms.running: { tolerance: 0 }
determinismSample: 1
timeout: 300s
EOF
CLI=(node "$REPO/tools/cli/bin.js")
timeout 600 node "$REPO/tools/build/build.js" >/dev/null

# Waits for the jobs of a submission to leave the queue (at most $1 seconds).
run_on_slurm() {
  local limit=$1
  timeout 300 "${CLI[@]}" matrix "$T/slurm-test.matrix.yaml" --slurm --tasks 3 --cpus-per-task 1 --time 20 --out "$T/out" | tee "$T/submit.txt"
  local array merge
  array=$(node -p "require('$T/out/slurm/submitted.json').arrayJob")
  merge=$(node -p "require('$T/out/slurm/submitted.json').mergeJob")
  queue_empty() { [ -z "$(squeue --noheader --format=%i --jobs="$array,$merge" 2>/dev/null)" ]; }
  wait_for "$limit" queue_empty || fail "jobs $array and $merge still queued or running after $limit s: $(squeue 2>&1)"
  local state
  state=$(scontrol show job "$merge" --oneliner | grep -o 'JobState=[A-Z_]*' || true)
  [ "$state" = "JobState=COMPLETED" ] || fail "merge job $merge ended with $state: $(cat "$T/out/slurm/merge.log" 2>/dev/null)"
}

say "submitting the matrix to Slurm"
run_on_slurm 900
say "the array and the merge job finished; running the same matrix locally"
timeout 900 "${CLI[@]}" matrix "$T/slurm-test.matrix.yaml" --workers 1 --out "$T/local" --quiet >/dev/null || fail "the local run failed"

# Cell for cell: the same cells, each ok, with the same metrics.json (its sha256) and metrics.
compare() {
  node -e "
const fs = require('fs'), path = require('path');
const read = (d) => new Map(fs.readdirSync(path.join(d, 'cells')).filter((f) => f.endsWith('.json')).map((f) => { const r = JSON.parse(fs.readFileSync(path.join(d, 'cells', f), 'utf8')); return [r.key, r]; }));
const slurm = read(process.argv[1]), local = read(process.argv[2]);
const problems = [];
if (slurm.size !== 6 || local.size !== 6) problems.push('expected 6 cells, found ' + slurm.size + ' on Slurm and ' + local.size + ' locally');
for (const [key, l] of local) {
  const s = slurm.get(key);
  if (!s) problems.push(l.label + ': missing from the Slurm run');
  else if (s.status !== 'ok' || l.status !== 'ok') problems.push(l.label + ': status ' + s.status + ' on Slurm, ' + l.status + ' locally');
  else if (s.metricsHash !== l.metricsHash || JSON.stringify(s.metrics) !== JSON.stringify(l.metrics)) problems.push(l.label + ': metrics.json differs');
}
const report = JSON.parse(fs.readFileSync(path.join(process.argv[1], 'report.json'), 'utf8'));
if (report.cells.length !== 6 || report.cells.some((c) => c.verdict === 'failed')) problems.push('the merged report has ' + report.cells.length + ' cells, failed: ' + report.cells.filter((c) => c.verdict === 'failed').map((c) => c.label).join(', '));
if (problems.length) { console.error(problems.join('\n')); process.exit(1); }
console.log('6 cells, each with identical metrics.json (sha256 ' + [...local.values()].map((r) => r.metricsHash.slice(0, 8)).join(' ') + ')');
" "$1" "$2"
}
compare "$T/out" "$T/local" || fail "the merged Slurm results differ from the local run"
say "merged results equal the local run"

# A partial failure: one shard lost a cell, another holds a cell cut short. Submitting
# again must run exactly these two cells and leave the others alone.
lost=$(ls "$T"/out/shards/*/cells/*.json | head -n 1)
cut=$(ls "$T"/out/shards/*/cells/*.json | tail -n 1)
rm "$lost"
head -c 40 "$cut" >"$cut.part" && mv "$cut.part" "$cut"
rm -rf "$T/out/cells" "$T/out/report.json"
say "deleted $(basename "$lost"), cut $(basename "$cut") short; submitting again"
run_on_slurm 600
grep -q '6 cells in 3 array tasks, 4 already stored' "$T/submit.txt" || fail "the resubmission did not find 4 stored cells: $(cat "$T/submit.txt")"
ran=$(cat "$T"/out/slurm/shard-*.log | awk '/ cells run, / { n += $1 } END { print n + 0 }')
[ "$ran" = 2 ] || fail "the resubmitted array ran $ran cells, not the 2 missing ones"
compare "$T/out" "$T/local" || fail "after the resubmission the merged results differ from the local run"
say "the resubmission ran only the 2 missing cells"
