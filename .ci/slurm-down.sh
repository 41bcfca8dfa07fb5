#!/usr/bin/env bash
# Stop exactly the SLURM daemons (and munged, if it started it) that .ci/slurm-up.sh started, by their PID files.
set -uo pipefail

D="${ONCORISK_SLURM_DIR:-/tmp/oncorisk-slurm}"
for name in slurmd slurmctld munged; do
  pidfile="$D/$name.pid"
  [ -s "$pidfile" ] || continue
  pid="$(cat "$pidfile")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  fi
  rm -f "$pidfile"
done
if [ "$(readlink -f /etc/slurm/slurm.conf 2>/dev/null)" = "$D/slurm.conf" ]; then
  rm -f /etc/slurm/slurm.conf
  [ "$(readlink -f /etc/slurm/gres.conf 2>/dev/null)" = "$D/gres.conf" ] && rm -f /etc/slurm/gres.conf
fi
echo "slurm-down: stopped the daemons started from $D"
