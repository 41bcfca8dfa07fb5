"""The mini demo on a real SLURM (a one-node cluster started by .ci/slurm-up.sh) with the shipped profile.

Every job must run as a SLURM job, the outputs must equal a local run's byte for byte, and a rule asking for a
GPU on a node without one must stop at once with sbatch's message, not hang.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from conftest import REPO, mini_demo
from test_workflow import checksums

PROFILE = REPO / "workflow" / "profiles" / "slurm"
HARD_TIMEOUT = 900  # a snakemake that lost its jobs waits forever, and SIGTERM does not stop it: SIGKILL


def _slurm_idle() -> bool:
    if shutil.which("sinfo") is None:
        return False
    res = subprocess.run(["sinfo", "-h", "-N", "-o", "%T"], capture_output=True, text=True)
    return res.returncode == 0 and "idle" in res.stdout.split()


@pytest.fixture(scope="module")
def slurm():
    """A running SLURM: the one CI started, or one started here (and stopped after) when we are root."""
    pytest.importorskip("snakemake_executor_plugin_slurm", reason="snakemake-executor-plugin-slurm not installed")
    if _slurm_idle():
        yield
        return
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.skip("no SLURM running, and it cannot be started here (needs root and apt-get: .ci/slurm-up.sh)")
    env = {**os.environ, "ONCORISK_SLURM_DIR": str(REPO / ".slurm-test")}
    up = subprocess.run([str(REPO / ".ci" / "slurm-up.sh")], capture_output=True, text=True, env=env)
    if up.returncode != 0:
        pytest.skip(f"SLURM could not start: {(up.stderr or up.stdout).strip()[-300:]}")
    try:
        yield
    finally:
        subprocess.run([str(REPO / ".ci" / "slurm-down.sh")], capture_output=True, text=True, env=env)


def _slurm_command(base: list[str], *extra: str) -> list[str]:
    """The shipped profile with this cluster's site values on the command line, software deployment off
    (env-modules: no rule declares modules, so rules run in the current environment)."""
    return ["timeout", "-s", "KILL", str(HARD_TIMEOUT), *base, "--workflow-profile", str(PROFILE),
            "--sdm", "env-modules", "--slurm-no-account", "--slurm-status-command", "squeue",
            "--slurm-init-seconds-before-status-checks", "1", "--latency-wait", "5", "--jobs", "2",
            "--default-resources", "slurm_partition=main", "mem_mb=1000", "runtime=30", *extra]


NO_GPU = ["--set-resources", "call_shard:slurm_partition=main", "call_shard:gpu=0",
          "train_caller:slurm_partition=main", "train_caller:gpu=0"]


@pytest.mark.slow
def test_demo_on_slurm_equals_a_local_run_and_a_missing_gpu_stops_at_once(slurm, tmp_path):
    base = mini_demo(tmp_path, "sl", patients=30, permutations=100, bootstrap=20, shap_samples=5)
    local = subprocess.run([*base, "--cores", "2"], cwd=tmp_path, capture_output=True, text=True)
    assert local.returncode == 0, local.stderr[-3000:]
    expected = checksums(tmp_path / "results")
    for sub in ("results", "logs", ".snakemake"):
        shutil.rmtree(tmp_path / sub)

    res = subprocess.run(_slurm_command(base, *NO_GPU), cwd=tmp_path, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-4000:]
    submitted = re.findall(r"Job (\d+) has been submitted with SLURM jobid (\d+)", res.stderr)
    finished = re.findall(r"Finished jobid: (\d+) \(Rule: (\w+)\)", res.stderr)
    ran = {j for j, rule in finished if rule != "all"}
    assert len(ran) >= 11 and ran == {j for j, _ in submitted}, (ran, submitted)  # every job went through SLURM
    for _, slurm_id in submitted:  # and SLURM ran each to completion (MinJobAge keeps them in scontrol)
        state = subprocess.run(["scontrol", "show", "job", slurm_id], capture_output=True, text=True).stdout
        assert "JobState=COMPLETED" in state, state[:500]
    got = checksums(tmp_path / "results")
    assert got.keys() == expected.keys()
    assert sorted(k for k in got if got[k] != expected[k]) == []

    # the shipped profile asks for gpu: 1 for call_shard; this node has no GPU gres: sbatch refuses, and
    # snakemake stops with that message (docs/cloud.md gives the CPU override) instead of waiting
    gpu = subprocess.run(_slurm_command(base, "--set-resources", "call_shard:slurm_partition=main", "call_shard:gpu=1",
                                        "--forcerun", "call_shard", "--until", "call_shard"),
                         cwd=tmp_path, capture_output=True, text=True)
    assert gpu.returncode not in (0, -9, 137), gpu.stderr[-3000:]
    assert "SLURM sbatch failed" in gpu.stderr and "Invalid generic resource" in gpu.stderr, gpu.stderr[-3000:]
