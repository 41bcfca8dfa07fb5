"""Config and sample-sheet validation: good input passes, every kind of bad value is named in one line."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import REPO
from oncorisk.config import default_config, ensure_fasta_index, load_config, load_samples, validate_config
from oncorisk.errors import UserError


def test_default_config_file_is_valid_and_matches_schema_defaults():
    cfg = load_config(REPO / "config.yaml")
    assert cfg["simulate"]["enabled"] is True
    defaults = default_config()
    # every key of the schema is present (and so documented) in config.yaml
    raw = yaml.safe_load((REPO / "config.yaml").read_text())
    assert set(raw) == set(defaults)
    assert set(raw["simulate"]) == set(defaults["simulate"])


@pytest.mark.parametrize(
    "config, expected",
    [
        ({"cohrot": "x"}, ["unknown key 'cohrot'", "accepted keys are", "cohort"]),
        ({"simulate": {"patiens": 3}}, ["unknown key 'patiens'", "in 'simulate'", "patients"]),
        ({"mode": "tumour-only"}, ["mode", "'tumour-only'", "accepted: somatic, germline"]),
        ({"seed": "abc"}, ["seed", "'abc'", "not of type 'integer'"]),
        ({"device": "tpu"}, ["device", "accepted: auto, cpu, cuda"]),
        ({"simulate": {"purity": [0.5, 1.5]}}, ["simulate.purity.1", "1.5"]),
        ({"cohort": "my cohort/1"}, ["cohort", "'my cohort/1'", "letters, digits"]),
        ({"samples": "mine.tsv"}, ["samples", "simulate.enabled is true", "simulate.enabled: false"]),
        ({"simulate": {"enabled": False}}, ["samples", "simulate.enabled is false", "your own"]),
        ({"simulate": {"patients": 3, "bam_patients": 5}}, ["simulate.bam_patients", "at most simulate.patients (3)"]),
        ({"simulate": {"purity": [0.9, 0.5]}}, ["simulate.purity", "min <= max"]),
    ],
)
def test_bad_config_values_are_named(config, expected):
    with pytest.raises(UserError) as err:
        validate_config(config, "my.yaml")
    msg = str(err.value)
    assert msg.startswith("my.yaml: ")
    assert "\n" not in msg
    for part in expected:
        assert part in msg, (part, msg)


def test_config_file_with_broken_yaml(tmp_path):
    bad = tmp_path / "c.yaml"
    bad.write_text("cohort: [demo\n")
    with pytest.raises(UserError, match=r"c.yaml: line \d+: not valid YAML"):
        load_config(bad)


def _sheet(tmp_path: Path, rows: list[str], header: str = "sample\ttumor_bam\tnormal_bam\tvcf\tlabel") -> Path:
    path = tmp_path / "samples.tsv"
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


@pytest.fixture
def sheet_dir(tmp_path, tiny_data):
    for key in ("tumor_bam", "normal_bam", "vcf"):
        shutil.copy(tiny_data[key], tmp_path / tiny_data[key].name)
    return tmp_path


def test_good_sheet_resolves_paths_relative_to_the_sheet(sheet_dir):
    path = _sheet(sheet_dir, ["S1\ttiny.tumor.bam\ttiny.normal.bam\t\t1", "S2\t\t\ttiny.vcf.gz\t0"])
    samples = load_samples(path, "somatic")
    assert [s.sample for s in samples] == ["S1", "S2"]
    assert samples[0].tumor_bam == str(sheet_dir / "tiny.tumor.bam")
    assert samples[0].label == 1 and samples[1].label == 0
    assert samples[1].has_bam is False and samples[1].vcf == str(sheet_dir / "tiny.vcf.gz")


@pytest.mark.parametrize(
    "rows, header, mode, expected",
    [
        (["S1\tmissing.bam\ttiny.normal.bam\t\t1"], None, "somatic",
         ["row 1 (sample 'S1'), column tumor_bam", "'missing.bam'", "file not found"]),
        (["S1\ttiny.tumor.bam\ttiny.normal.bam\t\t1", "S1\t\t\ttiny.vcf.gz\t0"], None, "somatic",
         ["row 2, column sample", "'S1'", "duplicate of row 1"]),
        (["S/1\ttiny.tumor.bam\ttiny.normal.bam\t\t1"], None, "somatic",
         ["column sample", "'S/1'", "letters, digits"]),
        (["S1\ttiny.tumor.bam\t\t\t1"], None, "somatic",
         ["column normal_bam", "mode somatic needs a matched normal_bam", "mode: germline"]),
        (["S1\ttiny.tumor.bam\ttiny.normal.bam\t\t2"], None, "somatic",
         ["column label", "bad value 2", "accepted: 0, 1"]),
        (["S1\t\t\t\t1"], None, "somatic", ["column tumor_bam", "needs a tumor_bam or a vcf"]),
        (["S1\ttiny.tumor.bam\ttiny.normal.bam\t\t1"], "sample\ttumour_bam\tnormal_bam\tvcf\tlabel", "somatic",
         ["header", "unknown column 'tumour_bam'", "accepted columns are"]),
        (["S1\ttiny.tumor.txt\t\t\t1"], None, "germline", ["column tumor_bam", "'tiny.tumor.txt'", "does not match"]),
        (["S1\ttiny.tumor.bam\ttiny.normal.bam\t\t1\textra"], None, "somatic", ["row 1", "6 fields for 5 columns"]),
        ([], None, "somatic", ["no rows"]),
    ],
)
def test_bad_sample_sheets_are_named(sheet_dir, rows, header, mode, expected):
    path = _sheet(sheet_dir, rows, header or "sample\ttumor_bam\tnormal_bam\tvcf\tlabel")
    with pytest.raises(UserError) as err:
        load_samples(path, mode)
    msg = str(err.value)
    assert msg.startswith(str(path)) and "\n" not in msg
    for part in expected:
        assert part in msg, (part, msg)


def test_germline_mode_accepts_tumour_only(sheet_dir):
    path = _sheet(sheet_dir, ["S1\ttiny.tumor.bam\t\t\t1"])
    assert load_samples(path, "germline")[0].normal_bam is None


def test_time_and_event_columns(sheet_dir):
    path = _sheet(sheet_dir, ["S1\t\t\ttiny.vcf.gz\t-3\t1"], "sample\ttumor_bam\tnormal_bam\tvcf\ttime\tevent")
    with pytest.raises(UserError, match=r"column time: bad value -3.0"):
        load_samples(path)


def test_reference_without_fai_is_indexed_in_the_cache(tmp_path, tiny_data):
    fa = tmp_path / "ref.fa"
    shutil.copy(tiny_data["fasta"], fa)
    before = fa.read_bytes()
    fai = ensure_fasta_index(fa)
    assert fai.read_text().startswith("ctgA\t600\t")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ref.fa"]  # no index written into the user's folder
    assert fa.read_bytes() == before  # the user's file is untouched
    assert ensure_fasta_index(fa) == fai  # built once, then reused
    own = Path(str(fa) + ".fai")
    own.write_text(fai.read_text())
    assert ensure_fasta_index(fa) == own  # the user's own index is used when present


def test_reference_in_plain_gzip_says_how_to_fix(tmp_path, tiny_data):
    import gzip

    fa = tmp_path / "ref.fa.gz"
    fa.write_bytes(gzip.compress(Path(tiny_data["fasta"]).read_bytes()))
    with pytest.raises(UserError, match="bgzip"):
        ensure_fasta_index(fa)
    assert not Path(str(fa) + ".fai").exists()


def _run(args, cwd=None):
    return subprocess.run([sys.executable, "-m", "oncorisk", *args], capture_output=True, text=True, cwd=cwd)


def test_cli_reports_bad_sheet_in_one_line_without_traceback(sheet_dir):
    path = _sheet(sheet_dir, ["S1\tmissing.bam\ttiny.normal.bam\t\t1"])
    out = sheet_dir / "validated.tsv"
    res = _run(["validate", "--samples", str(path), "--out", str(out)])
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in res.stderr
    assert "missing.bam" in lines[0] and "tumor_bam" in lines[0]
    assert not out.exists()


def test_cli_writes_validated_sheet(sheet_dir):
    path = _sheet(sheet_dir, ["S1\ttiny.tumor.bam\ttiny.normal.bam\t\t1"])
    out = sheet_dir / "validated.tsv"
    res = _run(["validate", "--samples", str(path), "--out", str(out)])
    assert res.returncode == 0, res.stderr
    rows = out.read_text().splitlines()
    assert rows[0].split("\t")[:3] == ["sample", "tumor_bam", "normal_bam"]
    assert rows[1].split("\t")[1] == "tiny.tumor.bam"  # relative to the written sheet's folder


def test_cli_version_and_stage_help():
    from oncorisk import __version__

    res = _run(["--version"])
    assert res.returncode == 0 and res.stdout.strip() == f"oncorisk {__version__}"
    res = _run(["--help"])
    for stage in ("simulate", "tensors", "call", "impact", "pathways", "fusion"):
        assert stage in res.stdout


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--config", "mode=tumour-only"], "mode: bad value 'tumour-only': accepted: somatic, germline"),
        (["--config", "colour=blue"], "unknown key 'colour'"),
        (["--config", "samples=mine.tsv"], "simulate.enabled is true"),
    ],
)
def test_snakemake_dry_run_rejects_bad_config(args, expected):
    res = subprocess.run(["snakemake", "-n", *args], capture_output=True, text=True, cwd=REPO)
    assert res.returncode != 0
    err_lines = [line for line in res.stderr.splitlines() if line.startswith("oncorisk: error:")]
    assert len(err_lines) == 1 and expected in err_lines[0], res.stderr
    assert "Traceback" not in res.stderr


def test_snakemake_dry_run_rejects_bad_sample_sheet(tmp_path, sheet_dir):
    sheet = _sheet(sheet_dir, ["S 1\ttiny.tumor.bam\ttiny.normal.bam\t\t1"])
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(yaml.safe_dump({"simulate": {"enabled": False}, "samples": str(sheet),
                                   "reference": str(sheet_dir / "ref.fa"),
                                   "annotation": str(REPO / "tests" / "fixtures" / "tiny.gtf")}))
    shutil.copy(REPO / "tests" / "fixtures" / "tiny.fa", sheet_dir / "ref.fa")
    res = subprocess.run(["snakemake", "-n", "--snakefile", str(REPO / "Snakefile"), "--configfile", str(cfg)],
                         capture_output=True, text=True, cwd=tmp_path)
    assert res.returncode != 0
    assert f"oncorisk: error: {sheet}: row 1 (sample 'S 1'), column sample" in res.stderr, res.stderr


def test_snakemake_dry_run_on_user_data_builds_reference_index(tmp_path, sheet_dir):
    sheet = _sheet(sheet_dir, ["S1\ttiny.tumor.bam\ttiny.normal.bam\t\t1"])
    shutil.copy(REPO / "tests" / "fixtures" / "tiny.fa", sheet_dir / "ref.fa")
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(yaml.safe_dump({"simulate": {"enabled": False}, "samples": str(sheet),
                                   "reference": str(sheet_dir / "ref.fa"), "cohort": "mine",
                                   "annotation": str(REPO / "tests" / "fixtures" / "tiny.gtf")}))
    res = subprocess.run(["snakemake", "-n", "--snakefile", str(REPO / "Snakefile"), "--configfile", str(cfg)],
                         capture_output=True, text=True, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "validate_samples" in res.stdout and "impact" in res.stdout
    assert not os.path.exists(sheet_dir / "ref.fa.fai")  # nothing is written beside the user's reference
    from oncorisk.genome.fasta import fasta_index_paths

    fai = fasta_index_paths(sheet_dir / "ref.fa")[0]  # the workflow's dry run built it in the cache
    assert fai.read_text().startswith("ctgA\t600\t") and sheet_dir not in fai.parents


def test_merge_calls_puts_the_callers_vcfs_in_the_sheet(tmp_path, capsys):
    from oncorisk.cli import main
    from oncorisk.config import load_samples

    (tmp_path / "a.vcf").write_text("##fileformat=VCFv4.2\n")
    (tmp_path / "b.vcf").write_text("##fileformat=VCFv4.2\n")
    (tmp_path / "s.tsv").write_text("sample\tvcf\tlabel\nA\ta.vcf\t1\nB\tb.vcf\t0\n")
    calls = tmp_path / "calls"
    calls.mkdir()
    (calls / "A.vcf.gz").write_text("x")
    out = tmp_path / "out" / "called.tsv"
    out.parent.mkdir()
    assert main(["merge-calls", "--samples", str(tmp_path / "s.tsv"), "--mode", "germline",
                 "--calls", f"A={calls / 'A.vcf.gz'}", "--out", str(out)]) == 0
    rows = {s.sample: s for s in load_samples(out, mode="germline")}
    assert rows["A"].vcf == str(calls / "A.vcf.gz") and rows["B"].vcf == str(tmp_path / "b.vcf")
    assert out.read_text().splitlines()[1].split("\t")[3] == "../calls/A.vcf.gz"  # relative to the sheet
    capsys.readouterr()
    for bad, why in ((["C=x.vcf"], "bad value 'C'"), (["A"], "bad value 'A'"),
                     ([f"A={tmp_path / 'none.vcf'}"], "none.vcf: file not found")):
        assert main(["merge-calls", "--samples", str(tmp_path / "s.tsv"), "--mode", "germline", "--calls", *bad,
                     "--out", str(tmp_path / "x.tsv")]) != 0
        err = capsys.readouterr().err.strip()
        assert why in err and len(err.splitlines()) == 1, err
    assert not (tmp_path / "x.tsv").exists()
