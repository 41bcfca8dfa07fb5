"""Whole-workflow run: snakemake builds a small demo cohort end to end from an empty folder."""

from __future__ import annotations

import subprocess

import pytest
import yaml

from conftest import REPO


@pytest.mark.slow
def test_workflow_runs_end_to_end_and_reruns_nothing(tmp_path):
    cfg = tmp_path / "config.yaml"
    cfg.write_text(yaml.safe_dump({"cohort": "mini", "seed": 3,
                                   "simulate": {"patients": 6, "bam_patients": 1, "tumor_coverage": 10,
                                                "normal_coverage": 5}}))
    cmd = ["snakemake", "--snakefile", str(REPO / "Snakefile"), "--configfile", str(cfg), "--cores", "2"]
    res = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-3000:]
    validated = (tmp_path / "results" / "mini" / "samples.validated.tsv").read_text().splitlines()
    assert len(validated) == 7 and validated[0].startswith("sample\ttumor_bam\tnormal_bam\tvcf")
    assert validated[1].split("\t")[1] == "simulated/bams/P0001.tumor.bam"
    assert (tmp_path / "logs" / "mini" / "simulate_cohort.log").read_text().count("INFO") >= 2
    assert (tmp_path / "benchmarks" / "mini" / "simulate_cohort.tsv").is_file()
    import pandas as pd

    matrix = pd.read_parquet(tmp_path / "results" / "mini" / "impact" / "impact_matrix.parquet").set_index("gene")
    assert matrix.shape == (108, 6) and list(matrix.columns) == [f"P000{i}" for i in range(1, 7)]
    import pysam

    n_drivers = 0
    for vcf in sorted((tmp_path / "results" / "mini" / "simulated" / "vcfs").glob("*.vcf.gz")):
        sample = vcf.name.split(".")[0]
        for rec in pysam.VariantFile(str(vcf)):
            if "DRIVER" in rec.info:  # every called driver gives its gene impact in its patient
                assert matrix.loc[rec.info["GENE"], sample] > 0, (rec.info["GENE"], sample)
                n_drivers += 1
    assert n_drivers >= 1
    again = subprocess.run([*cmd, "-n"], cwd=tmp_path, capture_output=True, text=True)
    assert again.returncode == 0 and "Nothing to be done" in again.stdout + again.stderr
