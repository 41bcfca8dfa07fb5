"""Shared fixtures: the repository root, tiny BAM/VCF built from text fixtures, and a small simulated cohort."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import subprocess
import sys
from pathlib import Path

import pysam
import pytest

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED_DATA = REPO.parent / "shared" / "data"

# FASTA indexes oncorisk builds for references without one go to this session's own cache, not ~/.cache
os.environ.setdefault("ONCORISK_CACHE", tempfile.mkdtemp(prefix="oncorisk-test-cache-"))

SMALL_COHORT = dict(patients=12, bam_patients=2, tumor_coverage=40, normal_coverage=20)


def needs_shared_data(*parts: str):
    """Skip (with a reason) when ../shared/data, or the named file in it, is absent (a user's fresh clone)."""
    path = SHARED_DATA.joinpath(*parts)
    return pytest.mark.skipif(not path.exists(), reason=f"{path} is absent (real data only in the team's CI)")


def cli(*args, **kwargs) -> subprocess.CompletedProcess:
    """Run `oncorisk ARGS` in a fresh interpreter."""
    return subprocess.run([sys.executable, "-m", "oncorisk.cli", *map(str, args)], capture_output=True, text=True,
                          **kwargs)


def assert_user_error(res: subprocess.CompletedProcess, out: Path | None, *words: str, code: int = 2) -> str:
    """A user mistake: exit ``code``, one line on stderr (log lines aside) naming ``words``, no traceback, and
    ``out`` not created. Returns the line."""
    assert res.returncode == code, res.stderr
    lines = [ln for ln in res.stderr.strip().splitlines() if not re.match(r"\d{4}-\d\d-\d\d .* (INFO|WARNING) ", ln)]
    assert len(lines) == 1 and "Traceback" not in res.stderr, res.stderr
    for w in words:
        assert w in lines[0], lines[0]
    if out is not None:
        assert not out.exists(), sorted(out.parent.iterdir())
    return lines[0]


def mini_demo(folder: Path, cohort: str, patients: int, seed: int = 3, permutations: int = 200,
              bootstrap: int = 50, shap_samples: int = 10) -> list[str]:
    """Write ``folder/config.yaml`` for a small simulated cohort (one tumour/normal BAM pair at 10x/5x, 3 folds)
    and return the snakemake command that runs it, to be completed with --cores or an executor."""
    import yaml

    cfg = folder / "config.yaml"
    cfg.write_text(yaml.safe_dump({"cohort": cohort, "seed": seed,
                                   "simulate": {"patients": patients, "bam_patients": 1, "tumor_coverage": 10,
                                                "normal_coverage": 5},
                                   "pathways": {"permutations": permutations, "folds": 3},
                                   "fusion": {"folds": 3, "bootstrap": bootstrap, "shap_samples": shap_samples}}))
    return ["snakemake", "--snakefile", str(REPO / "Snakefile"), "--configfile", str(cfg)]


def needs_tool(name: str):
    return pytest.mark.skipif(shutil.which(name) is None, reason=f"{name} not installed (.ci/run installs it)")


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory) -> dict:
    """tiny.fa (+.fai), tiny tumour/normal BAMs (+.bai) and tiny.vcf.gz (+.tbi), built from the text fixtures."""
    d = tmp_path_factory.mktemp("tiny")
    fa = d / "tiny.fa"
    shutil.copy(FIXTURES / "tiny.fa", fa)
    pysam.faidx(str(fa))
    bams = {}
    for kind in ("tumor", "normal"):
        bam = d / f"tiny.{kind}.bam"
        pysam.view("-b", "-o", str(bam), str(FIXTURES / "tiny.sam"), catch_stdout=False)
        pysam.index(str(bam))
        bams[kind] = bam
    vcf = d / "tiny.vcf.gz"
    pysam.tabix_compress(str(FIXTURES / "tiny.vcf"), str(vcf))
    pysam.tabix_index(str(vcf), preset="vcf")
    return dict(dir=d, fasta=fa, tumor_bam=bams["tumor"], normal_bam=bams["normal"], vcf=vcf)


@pytest.fixture(scope="session")
def pileup_data(tiny_data) -> dict:
    """tiny.fa and pileup.bam (+.bai), built from fixtures/pileup.sam (hand-placed SNVs and indels)."""
    bam = tiny_data["dir"] / "pileup.bam"
    pysam.view("-b", "-o", str(bam), str(FIXTURES / "pileup.sam"), catch_stdout=False)
    pysam.index(str(bam))
    return dict(dir=tiny_data["dir"], fasta=tiny_data["fasta"], bam=bam)


def simulate(out: Path, seed: int = 11, **overrides) -> dict:
    from oncorisk.config import validate_config
    from oncorisk.simulate.cohort import SimulationConfig, run_simulation

    resolved = validate_config({"seed": seed, "simulate": {**SMALL_COHORT, **overrides}})
    return run_simulation(SimulationConfig.from_config(resolved["simulate"], seed), out, threads=2)


@pytest.fixture(scope="session")
def small_cohort(tmp_path_factory) -> Path:
    """A small simulated cohort (12 patients, 2 with tumour/normal BAMs), seed 11."""
    out = tmp_path_factory.mktemp("cohort") / "sim"
    simulate(out)
    return out
