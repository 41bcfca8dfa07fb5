"""Whole-workflow run: snakemake builds a small demo cohort end to end from an empty folder."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import signal
import subprocess
import time

import pytest

from conftest import REPO, mini_demo


def check_rule_envs_pin_what_commands_import(audit) -> None:
    """Every rule's conda env (envs/*.yaml) pins each third-party package that the oncorisk modules its command
    loaded import (recorded by tests/workflow/import_audit/sitecustomize.py)."""
    from envcheck import rule_envs, unpinned

    envs_of = {}
    for env, command in rule_envs().values():
        envs_of.setdefault(command, set()).add(env)
    records = [json.loads(p.read_text()) for p in sorted(audit.glob("*.json"))]
    commands = set()
    for rec in records:
        command = next(a for a in rec["argv"] if not a.startswith("-"))
        commands.add(command)
        for env in envs_of[command]:
            missing = unpinned(rec["oncorisk_modules"], env)
            assert not missing, f"{env} lacks {sorted(missing)}, imported by `oncorisk {command}`"
    assert {"simulate", "tensors", "call", "impact", "pathways", "fusion", "run-info"} <= commands, commands


@pytest.mark.slow
def test_workflow_runs_end_to_end_and_reruns_nothing(tmp_path):
    cmd = [*mini_demo(tmp_path, "mini", patients=40), "--cores", "2"]
    audit = tmp_path / "import_audit"
    audit.mkdir()
    audited = dict(os.environ, ONCORISK_IMPORT_AUDIT=str(audit),
                   PYTHONPATH=os.pathsep.join([str(REPO / "tests" / "workflow" / "import_audit"),
                                               os.environ.get("PYTHONPATH", "")]))
    res = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, env=audited)
    assert res.returncode == 0, res.stderr[-3000:]
    check_rule_envs_pin_what_commands_import(audit)
    validated = (tmp_path / "results" / "mini" / "samples.validated.tsv").read_text().splitlines()
    assert len(validated) == 41 and validated[0].startswith("sample\ttumor_bam\tnormal_bam\tvcf")
    assert validated[1].split("\t")[1] == "simulated/bams/P0001.tumor.bam"
    assert (tmp_path / "logs" / "mini" / "simulate_cohort.log").read_text().count("INFO") >= 2
    assert (tmp_path / "logs" / "mini" / "benchmarks" / "simulate_cohort.tsv").is_file()
    import pandas as pd

    matrix = pd.read_parquet(tmp_path / "results" / "mini" / "impact" / "impact_matrix.parquet").set_index("gene")
    assert matrix.shape == (270, 40) and list(matrix.columns) == [f"P{i:04d}" for i in range(1, 41)]
    import pysam

    n_drivers = 0
    for vcf in sorted((tmp_path / "results" / "mini" / "simulated" / "vcfs").glob("*.vcf.gz")):
        sample = vcf.name.split(".")[0]
        for rec in pysam.VariantFile(str(vcf)):
            if "DRIVER" in rec.info:  # every called driver gives its gene impact in its patient
                assert matrix.loc[rec.info["GENE"], sample] > 0, (rec.info["GENE"], sample)
                n_drivers += 1
    assert n_drivers >= 1
    risk = pd.read_csv(tmp_path / "results" / "mini" / "fusion" / "risk.tsv", sep="\t")
    assert len(risk) == 40 and risk["risk"].notna().all()
    ranking = pd.read_csv(tmp_path / "results" / "mini" / "pathways" / "pathway_ranking.tsv", sep="\t")
    assert len(ranking) == 15 and ranking["q"].between(0, 1).all()
    tensors = [json.loads((tmp_path / "results" / "mini" / "tensors" / "P0001" / f"shard{k}" / "tensor_info.json")
                          .read_text()) for k in (0, 1)]
    assert all(t["mode"] == "somatic" and t["labels"] for t in tensors)
    assert sum(t["n_sites"] for t in tensors) > 0 and tensors[0]["shard"] == {"index": 0, "count": 2}
    assert tensors[0]["partition_size"] == 500000
    # no locus of the caller's VCF holds more than two called alternate alleles (a diploid genotype's worth)
    import numpy as np

    from oncorisk.genome.alleles import overlapping_alleles

    called = [(r.chrom, r.pos, len(r.ref), len(r.alts)) for r in
              pysam.VariantFile(str(tmp_path / "results" / "mini" / "calls" / "P0001.vcf.gz"))
              if "RefCall" not in r.filter.keys()]
    assert called
    loci = overlapping_alleles(np.array([c[0] for c in called]), np.array([c[1] for c in called]),
                               np.array([c[2] for c in called]))
    assert max(sum(called[i][3] for i in locus) for locus in loci) <= 2
    again = subprocess.run([*cmd, "-n"], cwd=tmp_path, capture_output=True, text=True)
    assert again.returncode == 0 and "Nothing to be done" in again.stdout + again.stderr
    report = subprocess.run([*cmd[:-2], "--report", "report.html"], cwd=tmp_path, capture_output=True, text=True)
    assert report.returncode == 0, report.stderr[-2000:]
    html = (tmp_path / "report.html").read_text(errors="replace")
    assert "roc.png" in html and "top_pathways.png" in html and "tmb.png" in html and "attention_heatmaps.png" in html
    check_report_headline(html, tmp_path / "results" / "mini")
    info = json.loads((tmp_path / "results" / "mini" / "run_info.json").read_text())
    assert info["seed"] == 3 and info["options"]["cohort"] == "mini" and info["packages"]["torch"]
    from oncorisk.io.provenance import PROVENANCE_KEYS

    for stage in ("impact", "pathways", "fusion"):  # one provenance shape (io.provenance.stage_info)
        record = json.loads((tmp_path / "results" / "mini" / stage / "run_info.json").read_text())
        assert set(PROVENANCE_KEYS) <= set(record) and record["stage"] == stage and record["inputs"], stage
        assert record["options"]["out"] and (record["seed"] is None) == (stage == "impact"), stage  # impact: no RNG
    assert info["caller_model"]["name"].startswith("somatic-illumina") and "P0001.tumor_bam" in info["inputs"]

    # from scratch again: byte-identical VCFs, tables and run_info.json
    first = checksums(tmp_path / "results")
    for sub in ("results", "logs", ".snakemake"):
        shutil.rmtree(tmp_path / sub)
    again = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr[-3000:]
    second = checksums(tmp_path / "results")
    assert first.keys() == second.keys()
    differ = sorted(k for k in first if first[k] != second[k])
    assert differ == [], differ
    assert any(k.endswith(".vcf.gz") for k in first) and any(k.endswith("risk.tsv") for k in first)

    # killed midway (SIGTERM, then SIGKILL, to snakemake and its jobs), then rerun: finished jobs are not
    # redone, no truncated file survives, and the outputs equal the clean run's
    for sub in ("results", "logs", ".snakemake"):
        shutil.rmtree(tmp_path / sub)
    proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    manifest = tmp_path / "results" / "mini" / "simulated" / "manifest.json"
    tensors_dir = tmp_path / "results" / "mini" / "tensors"
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None and not (manifest.exists() and tensors_dir.exists()):
        time.sleep(0.2)
    assert proc.poll() is None, "the run ended before it could be killed"
    os.killpg(proc.pid, signal.SIGTERM)
    time.sleep(1.0)
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()
    assert manifest.exists() and not (tmp_path / "results" / "mini" / "fusion" / "risk.tsv").exists()
    done_mtime = manifest.stat().st_mtime_ns
    resumed = subprocess.run([*cmd, "--rerun-incomplete"], cwd=tmp_path, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "rule simulate_cohort:" not in resumed.stdout + resumed.stderr  # finished: not redone
    assert manifest.stat().st_mtime_ns == done_mtime
    third = checksums(tmp_path / "results")
    leftovers = [k for k in third if ".tmp" in k]
    assert leftovers == []
    assert third == first


def check_report_headline(html: str, results) -> None:
    """The report's front page leads with the run's numbers, read from its own result files."""
    import re

    import pandas as pd

    desc = json.loads(re.search(r'var workflow_desc = ("(?:[^"\\]|\\.)*");', html).group(1))
    ranking = pd.read_csv(results / "pathways" / "pathway_ranking.tsv", sep="\t")
    for r in ranking.head(2).itertuples():  # the top two pathways with their q
        q = f"{r.q:.2g}" if r.q >= 0.001 else f"{r.q:.1e}"
        assert f"<strong>{r.pathway}</strong>: q = {q}" in desc, (r.pathway, q)
    metrics = json.loads((results / "fusion" / "metrics.json").read_text())
    for model in ("fused", "genomic", "imaging"):  # AUCs with their CIs
        auc = metrics[model]["roc_auc"]
        assert f"<strong>{auc['value']:.3f}</strong> [{auc['ci'][0]:.3f}, {auc['ci'][1]:.3f}]" in desc, model
    tmb = pd.read_csv(results / "impact" / "tmb.tsv", sep="\t")["tmb"]
    assert f"range {tmb.min():.2f} to {tmb.max():.2f} mutations/Mb" in desc
    n_pass = sum(1 for line in gzip.open(results / "calls" / "P0001.vcf.gz", "rt")
                 if not line.startswith("#") and line.split("\t")[6] == "PASS")
    cells = re.findall(r"<td>([^<]*)</td>", desc[desc.index("Calls per sample"):])
    assert cells[0] == "P0001" and int(cells[1]) + int(cells[2]) == n_pass, cells[:5]
    calls = json.loads((results / "calls" / "P0001.metrics.json").read_text())["SNV"]
    assert cells[3] == f"{calls['precision']:.3f} / {calls['recall']:.3f} / {calls['f1']:.3f}"
    assert "ROC AUC fused (genomic + imaging)" in html and "Here: median" in html  # captions carry numbers


def checksums(root) -> dict[str, str]:
    """SHA-256 of every result file, figures included (a layout that followed a set's hash order once made the
    network figure differ between runs)."""
    import hashlib

    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}
