"""The output rule (io.atomic, docs/errors.md): no stage loses, renames or changes a file it did not write.

Every command is run with --out at a folder holding a user's file, and at the folder of its own inputs; every
file there must be byte-identical afterwards, and the command must stop with one line naming --out.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from oncorisk.cli import main
from oncorisk.errors import UserError
from oncorisk.io.atomic import MARKER, atomic_dir, check_output_folder


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _refused(capsys, argv: list[str]) -> str:
    code = main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    lines = [ln for ln in err if " INFO " not in ln and " WARNING " not in ln]
    assert code == 2 and len(lines) == 1 and "Traceback" not in "\n".join(err), (argv, err)
    return lines[0]


@pytest.fixture(scope="module")
def inputs(small_cohort, tmp_path_factory) -> Path:
    """One folder holding every kind of input the commands read (copied from the small simulated cohort)."""
    d = tmp_path_factory.mktemp("inputs")
    for name in ("reference.fa", "reference.fa.fai", "genes.gtf", "panel.bed", "known_cancer_genes.tsv",
                 "samples.tsv"):
        shutil.copy(small_cohort / name, d / name)
    for p in (small_cohort / "bams").glob("P0001.*"):
        shutil.copy(p, d / p.name)
    for p in (small_cohort / "vcfs").glob("P0003.*"):
        shutil.copy(p, d / p.name)
    (d / "analysis.R").write_text("fit <- coxph(Surv(time, event) ~ risk)\n")
    return d


def _commands(i: Path, out: Path) -> dict[str, list[str]]:
    """Each command with its real inputs in ``i`` and ``--out`` at ``out`` (a folder, or a file inside it)."""
    vcf, bam, normal = i / "P0003.somatic.vcf.gz", i / "P0001.tumor.bam", i / "P0001.normal.bam"
    ref, gtf, bed = i / "reference.fa", i / "genes.gtf", i / "panel.bed"
    f = out / "out.vcf.gz"
    return {
        "simulate": ["simulate", "--out", out, "--patients", "4", "--bam-patients", "0"],
        "impact": ["impact", "--vcf", vcf, "--gtf", gtf, "--ref", ref, "--out", out],
        "pathways": ["pathways", "--impact", vcf, "--gene-sets", bed, "--labels", i / "known_cancer_genes.tsv",
                     "--out", out],
        "fusion": ["fusion", "--samples", i / "samples.tsv", "--pathway-scores", vcf, "--out", out],
        "tensors": ["tensors", "--bam", bam, "--normal-bam", normal, "--ref", ref, "--regions", bed, "--out", out],
        "train-caller": ["train-caller", "--tensors", i, "--name", "x", "--out", out.parent,
                         "--version", "1.0.0"] if out.name == "x-v1.0.0" else None,
        "call": ["call", "--bam", bam, "--normal-bam", normal, "--ref", ref, "--model", "somatic-illumina",
                 "--pon", vcf, "--out", vcf],
        "make-pon": ["make-pon", "--vcfs", vcf, "--ref", ref, "--out", vcf],
        "gather-vcf": ["gather-vcf", vcf, "--out", vcf],
        "evaluate": ["evaluate", "--truth", vcf, "--query", vcf, "--ref", ref, "--bed", bed, "--out", bed],
        "spike-in": ["spike-in", "--bam", bam, "--ref", ref, "--regions", bed, "--out", bam, "--truth-out", f],
        "fit-error-profile": ["fit-error-profile", "--bam", bam, "--ref", ref, "--region", "chr1:1-1000",
                              "--name", "p", "--out", ref],
        "validate": ["validate", "--samples", i / "samples.tsv", "--out", i / "samples.tsv"],
        "merge-calls": ["merge-calls", "--samples", i / "samples.tsv", "--calls", f"P0003={vcf}", "--out", vcf],
        "run-info": ["run-info", "--config-json", "{}", "--samples", i / "samples.tsv", "--out", i / "samples.tsv"],
    }


FOLDER_COMMANDS = ["simulate", "impact", "pathways", "fusion", "tensors", "train-caller"]
FILE_COMMANDS = ["call", "make-pon", "gather-vcf", "evaluate", "spike-in", "fit-error-profile", "validate", "merge-calls",
                 "run-info"]


@pytest.mark.parametrize("command", FOLDER_COMMANDS)
def test_folder_outputs_never_touch_a_user_file_or_an_input(command, inputs, tmp_path, capsys):
    before = _digest(inputs)
    # a folder holding a user's file
    user = tmp_path / ("x-v1.0.0" if command == "train-caller" else "mine")
    user.mkdir()
    (user / "analysis.R").write_text("keep me\n")
    argv = _commands(inputs, user)[command]
    line = _refused(capsys, [str(a) for a in argv])
    assert "--out" in line and "analysis.R" in line and "--force" in line, line
    assert _digest(user) == {"analysis.R": hashlib.sha256(b"keep me\n").hexdigest()}
    # the folder of its own inputs
    own = inputs.parent / "x-v1.0.0" if command == "train-caller" else inputs
    if command == "train-caller":  # its folder is <out>/<name>-v<version>: put an input in it
        own = inputs / "x-v1.0.0"
        own.mkdir(exist_ok=True)
        argv = ["train-caller", "--tensors", own, "--name", "x", "--version", "1.0.0", "--out", inputs]
    else:
        argv = _commands(inputs, own)[command]
    line = _refused(capsys, [str(a) for a in argv])
    assert "--out" in line, line
    if command == "train-caller":
        own.rmdir()
    assert _digest(inputs) == before
    # an existing file given as the folder
    argv = _commands(inputs, inputs / "analysis.R")[command] if command != "train-caller" else None
    if argv:
        line = _refused(capsys, [str(a) for a in argv])
        assert "is an existing file" in line, line
    assert _digest(inputs) == before


@pytest.mark.parametrize("command", FILE_COMMANDS)
def test_file_outputs_never_overwrite_an_input(command, inputs, capsys):
    before = _digest(inputs)
    line = _refused(capsys, [str(a) for a in _commands(inputs, inputs)[command]])
    assert "is the input" in line and "--out" in line, line
    assert _digest(inputs) == before


def test_a_folder_given_where_a_file_is_written(inputs, tmp_path, capsys):
    before = _digest(inputs)
    folder = tmp_path / "calls.vcf.gz"
    folder.mkdir()
    line = _refused(capsys, ["make-pon", "--vcfs", str(inputs / "P0003.somatic.vcf.gz"), "--ref",
                             str(inputs / "reference.fa"), "--out", str(folder)])
    assert "is a folder" in line, line
    assert folder.is_dir() and not any(folder.iterdir()) and _digest(inputs) == before


def test_force_writes_beside_user_files_and_a_rerun_replaces_only_its_own(inputs, tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "analysis.R").write_text("keep me\n")
    (out / "tmb.tsv").write_text("a file with the name of an output\n")
    argv = ["impact", "--vcf", str(inputs / "P0003.somatic.vcf.gz"), "--gtf", str(inputs / "genes.gtf"),
            "--ref", str(inputs / "reference.fa"), "--callable", str(inputs / "panel.bed"), "--out", str(out)]
    assert main(argv + ["--force"]) == 0
    marker = json.loads((out / MARKER).read_text())
    assert marker["stage"] == "impact" and "tmb.tsv" in marker["files"] and "analysis.R" not in marker["files"]
    assert (out / "analysis.R").read_text() == "keep me\n"
    assert (out / "tmb.tsv").read_text().startswith("sample\tnonsynonymous")  # --force: our file replaced
    # without --force the folder still holds a user file: refused
    assert "analysis.R" in _refused(capsys, argv)
    # a folder holding only a previous impact output is replaced as a whole, without --force
    clean = tmp_path / "clean"
    assert main(argv[:-1] + [str(clean)]) == 0
    first = _digest(clean)
    assert main(argv[:-1] + [str(clean)]) == 0
    assert _digest(clean) == first  # deterministic, and nothing else appeared
    # another stage's output folder is not this stage's
    line = _refused(capsys, ["pathways", "--impact", str(clean / "impact_matrix.parquet"), "--gene-sets",
                             str(inputs / "panel.bed"), "--out", str(clean)])
    assert "previous 'oncorisk impact' output" not in line and "holds the input" in line, line


def test_atomic_dir_modes(tmp_path):
    out = tmp_path / "o"
    assert check_output_folder(out, "impact") == "new"
    out.mkdir()
    assert check_output_folder(out, "impact") == "new"
    with atomic_dir(out, "impact") as tmp:
        (tmp / "a.tsv").write_text("1\n")
    assert check_output_folder(out, "impact") == "replace"
    with pytest.raises(UserError, match="previous 'oncorisk impact' output"):
        check_output_folder(out, "fusion")
    (out / "notes.txt").write_text("mine\n")
    with pytest.raises(UserError, match="notes.txt"):
        check_output_folder(out, "impact")
    assert check_output_folder(out, "impact", force=True) == "merge"
    with atomic_dir(out, "impact", force=True) as tmp:
        (tmp / "b.tsv").write_text("2\n")
    # the previous run's a.tsv (ours) is gone, the user's notes.txt kept, b.tsv written
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "b.tsv", "notes.txt"]
    # a failure inside leaves the folder as it was and no temporary folder behind
    before = _digest(out)
    with pytest.raises(RuntimeError):
        with atomic_dir(out, "impact", force=True) as tmp:
            (tmp / "c.tsv").write_text("3\n")
            raise RuntimeError("stage failed")
    assert _digest(out) == before and sorted(p.name for p in tmp_path.iterdir()) == ["o"]


def test_option_values_that_are_not_paths_are_not_taken_for_inputs(tmp_path):
    """run-info's --config-json (a long JSON text) is not a path: checking it as one must not fail."""
    config = json.dumps({"cohort": "x", "long": "y" * 5000})
    assert main(["run-info", "--config-json", config, "--out", str(tmp_path / "run_info.json")]) == 0
    assert json.loads((tmp_path / "run_info.json").read_text())["options"]["cohort"] == "x"
