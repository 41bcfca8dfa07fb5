"""The demo through --executor cluster-generic: every job is its own process, started by a submit script."""

from __future__ import annotations

import os
import subprocess

import pytest
import yaml

from conftest import REPO


@pytest.mark.slow
def test_demo_runs_through_cluster_generic(tmp_path):
    pytest.importorskip("snakemake_executor_plugin_cluster_generic")
    cfg = tmp_path / "config.yaml"
    cfg.write_text(yaml.safe_dump({"cohort": "cg", "seed": 3,
                                   "simulate": {"patients": 30, "bam_patients": 1, "tumor_coverage": 10,
                                                "normal_coverage": 5},
                                   "pathways": {"permutations": 100, "folds": 3},
                                   "fusion": {"folds": 3, "bootstrap": 20, "shap_samples": 5}}))
    submitted = tmp_path / "submitted.txt"
    submit = REPO / "workflow" / "profiles" / "local-cluster" / "submit.sh"
    cmd = ["snakemake", "--snakefile", str(REPO / "Snakefile"), "--configfile", str(cfg),
           "--executor", "cluster-generic", "--cluster-generic-submit-cmd", str(submit), "--jobs", "2",
           "--latency-wait", "10"]
    res = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True,
                         env={**os.environ, "ONCORISK_SUBMIT_LOG": str(submitted)})
    assert res.returncode == 0, res.stderr[-3000:]
    assert (tmp_path / "results" / "cg" / "fusion" / "risk.tsv").is_file()
    assert (tmp_path / "results" / "cg" / "calls" / "P0001.vcf.gz").is_file()
    jobs = [line.split() for line in submitted.read_text().splitlines()]
    # every rule but `all` went through the submit script, each as its own process
    rules = {"simulate_cohort", "validate_samples", "tensors", "call_chunk", "gather_calls", "called_samples",
             "evaluate_calls", "impact", "pathways", "risk_fusion", "run_info"}
    assert len(jobs) >= len(rules) and len({pid for pid, _ in jobs}) == len(jobs)
