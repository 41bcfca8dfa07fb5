#!/usr/bin/env bash
# A local stand-in for a cluster's submit command (snakemake-executor-plugin-cluster-generic): starts each
# job script as its own detached process, logs "pid jobscript" to $ONCORISK_SUBMIT_LOG when set, and prints
# the pid as the job id. Used by tests/workflow/test_cluster.py; a model for real submit wrappers.
jobscript="${@: -1}"
nohup bash "$jobscript" > "$jobscript.out" 2>&1 &
pid=$!
if [ -n "${ONCORISK_SUBMIT_LOG:-}" ]; then echo "$pid $jobscript" >> "$ONCORISK_SUBMIT_LOG"; fi
echo "$pid"
