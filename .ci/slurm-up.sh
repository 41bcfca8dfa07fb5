#!/usr/bin/env bash
# Start a real single-node SLURM on this machine (CI and developers): this host is the controller and the only
# node, with its real CPUs, memory and socket/core layout. Needs root and Debian's slurm-wlm + munge (installed
# here when missing). Prints nothing but progress; exits non-zero if the node does not come up idle.
#
#   .ci/slurm-up.sh            # start; state, logs and the daemons' PIDs in $ONCORISK_SLURM_DIR
#   .ci/slurm-down.sh          # stop exactly the daemons this script started
#
# Environment: ONCORISK_SLURM_DIR (default /tmp/oncorisk-slurm), ONCORISK_SLURM_FAKE_GPU=1 to declare one
# GPU (gres backed by /dev/null, so a job asking for --gpus=1 is scheduled and sees CUDA_VISIBLE_DEVICES=0).
set -euo pipefail

D="${ONCORISK_SLURM_DIR:-/tmp/oncorisk-slurm}"
CONF=/etc/slurm/slurm.conf   # the jobstep plugin's inner srun drops SLURM_CONF: the config must be here

if [ "$(id -u)" -ne 0 ]; then
  echo "slurm-up: needs root (daemons, /etc/slurm, the munge user)" >&2
  exit 3
fi
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  echo "slurm-up: installing slurm-wlm and munge"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null 2>&1 ||
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null; }
fi
if [ -e "$CONF" ] && [ "$(readlink -f "$CONF")" != "$D/slurm.conf" ]; then
  echo "slurm-up: $CONF exists and is not ours: this machine has a SLURM already; not touching it" >&2
  exit 3
fi

mkdir -p "$D"/{state,spool,log}
host="$(hostname -s)"
# the node's real layout, as slurmd sees it (CPUs, boards, sockets, cores, threads, memory)
layout="$(slurmd -C | head -1 | sed -E 's/^NodeName=[^ ]+ //; s/ RealMemory=([0-9]+)//')"
mem="$(slurmd -C | head -1 | sed -E 's/.*RealMemory=([0-9]+).*/\1/')"
mem=$(( mem * 9 / 10 ))   # leave room for the OS and the daemons
gres="" gres_types=""
if [ "${ONCORISK_SLURM_FAKE_GPU:-0}" = "1" ]; then
  gres="Gres=gpu:1"
  gres_types="GresTypes=gpu"
  echo "Name=gpu File=/dev/null" > "$D/gres.conf"
fi

cat > "$D/slurm.conf" <<EOF
# written by oncorisk's .ci/slurm-up.sh: a one-node test cluster
ClusterName=oncorisk
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
MinJobAge=3600
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
StateSaveLocation=$D/state
SlurmdSpoolDir=$D/spool
SlurmctldPidFile=$D/slurmctld.pid
SlurmdPidFile=$D/slurmd.pid
SlurmctldLogFile=$D/log/slurmctld.log
SlurmdLogFile=$D/log/slurmd.log
$gres_types
NodeName=$host $layout RealMemory=$mem $gres State=UNKNOWN
PartitionName=main Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
mkdir -p /etc/slurm
ln -sfn "$D/slurm.conf" "$CONF"
if [ -n "$gres" ]; then ln -sfn "$D/gres.conf" /etc/slurm/gres.conf; else rm -f /etc/slurm/gres.conf; fi

# munge: as the munge user, its socket folder 0755
mkdir -p /run/munge /var/log/munge /var/lib/munge
chown munge:munge /run/munge /var/log/munge /var/lib/munge
chmod 0755 /run/munge
if ! pgrep -x munged >/dev/null; then
  setsid runuser -u munge -- munged </dev/null >/dev/null 2>&1
  for _ in $(seq 50); do [ -s /run/munge/munged.pid ] && break; sleep 0.1; done
  cp /run/munge/munged.pid "$D/munged.pid"
fi

# controller and node, detached (or the CI step never ends)
setsid slurmctld -f "$CONF" </dev/null >/dev/null 2>&1
setsid slurmd -f "$CONF" </dev/null >/dev/null 2>&1

for _ in $(seq 120); do
  state="$(sinfo -h -N -o '%T' 2>/dev/null | head -1 || true)"
  if [ "$state" = "idle" ]; then
    echo "slurm-up: node $host idle (partition main; $(sinfo -h -N -o '%c CPUs, %m MB'); PIDs in $D)"
    exit 0
  fi
  sleep 0.5
done
echo "slurm-up: the node did not become idle (state '${state:-none}'); logs: $D/log" >&2
tail -5 "$D/log/slurmctld.log" "$D/log/slurmd.log" >&2 || true
exit 1
