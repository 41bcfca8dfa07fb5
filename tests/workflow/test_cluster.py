"""The demo through --executor cluster-generic: every job is its own process, started by a submit script."""

from __future__ import annotations

import os
import subprocess

import pytest

from conftest import REPO, mini_demo


@pytest.mark.slow
def test_demo_runs_through_cluster_generic(tmp_path):
    pytest.importorskip("snakemake_executor_plugin_cluster_generic")
    base = mini_demo(tmp_path, "cg", patients=30, permutations=100, bootstrap=20, shap_samples=5)
    submitted = tmp_path / "submitted.txt"
    submit = REPO / "workflow" / "profiles" / "local-cluster" / "submit.sh"
    cmd = [*base, "--executor", "cluster-generic", "--cluster-generic-submit-cmd", str(submit), "--jobs", "2",
           "--latency-wait", "10"]
    res = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True,
                         env={**os.environ, "ONCORISK_SUBMIT_LOG": str(submitted)})
    assert res.returncode == 0, res.stderr[-3000:]
    assert (tmp_path / "results" / "cg" / "fusion" / "risk.tsv").is_file()
    assert (tmp_path / "results" / "cg" / "calls" / "P0001.vcf.gz").is_file()
    jobs = [line.split() for line in submitted.read_text().splitlines()]
    # every rule but `all` went through the submit script, each as its own process
    rules = {"simulate_cohort", "validate_samples", "tensors", "call_shard", "gather_calls", "called_samples",
             "evaluate_calls", "impact", "pathways", "risk_fusion", "run_info"}
    assert len(jobs) >= len(rules) and len({pid for pid, _ in jobs}) == len(jobs)
