"""docs/errors.md, the rows no stage test covers: each fed through the CLI, asserting a non-zero exit, one line
naming the file and the fix, no traceback and no output left behind (or, for reported-not-fatal rows, a warning
that names them and a complete output)."""

from __future__ import annotations

import hashlib
import re
import resource
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pysam
import pytest

from conftest import FIXTURES, REPO, assert_user_error, cli, mini_demo


@pytest.fixture(scope="module")
def bam_and_ref(pileup_data) -> tuple[Path, Path]:
    return pileup_data["bam"], pileup_data["fasta"]


def _bam_from_sam(text: str, path: Path) -> Path:
    sam = path.with_suffix(".sam")
    sam.write_text(text)
    pysam.view("-b", "-o", str(path), str(sam), catch_stdout=False)
    pysam.index(str(path))
    return path


def test_maf_with_an_unknown_variant_classification(tmp_path):
    maf = tmp_path / "m.maf"
    maf.write_text("Hugo_Symbol\tChromosome\tStart_Position\tReference_Allele\tTumor_Seq_Allele2\t"
                   "Variant_Classification\tTumor_Sample_Barcode\n"
                   "KRAS\t12\t25398284\tC\tT\tMissense_Mutation\tS1\n"
                   "TP53\t17\t7577120\tC\tT\tMissense\tS1\n")
    out = tmp_path / "o"
    assert_user_error(cli("impact", "--maf", maf, "--out", out), out,
                      str(maf), "row 2, column Variant_Classification", "'Missense'", "Missense_Mutation")


def test_bam_contig_of_another_length_than_the_reference(bam_and_ref, tmp_path):
    bam, fa = bam_and_ref
    text = (FIXTURES / "pileup.sam").read_text()
    length = re.search(r"@SQ\tSN:ctgA\tLN:(\d+)", text).group(1)
    other = _bam_from_sam(text.replace(f"SN:ctgA\tLN:{length}", f"SN:ctgA\tLN:{int(length) + 7}"), tmp_path / "x.bam")
    out = tmp_path / "o"
    assert_user_error(cli("tensors", "--bam", other, "--ref", fa, "--out", out), out,
                      "ctgA", f"{int(length) + 7} bp", f"{length} bp", str(fa))


def test_reads_without_qualities_under_a_base_quality_filter(bam_and_ref, tmp_path):
    _, fa = bam_and_ref
    lines = (FIXTURES / "pileup.sam").read_text().splitlines()
    first = next(i for i, ln in enumerate(lines) if not ln.startswith("@"))
    f = lines[first].split("\t")
    f[10] = "*"
    lines[first] = "\t".join(f)
    noqual = _bam_from_sam("\n".join(lines) + "\n", tmp_path / "noqual.bam")
    out = tmp_path / "o"
    assert_user_error(cli("tensors", "--bam", noqual, "--ref", fa, "--out", out), out,
                      f[0], "no base qualities", "min_base_quality 0")
    # the fix the message names works: without the base-quality filter the same BAM is read
    ok = cli("tensors", "--bam", noqual, "--ref", fa, "--min-base-quality", "0", "--out", out)
    assert ok.returncode == 0, ok.stderr


def test_corrupt_checkpoint_is_refused(bam_and_ref, tmp_path):
    bam, fa = bam_and_ref
    model = tmp_path / "mymodel"
    shutil.copytree(REPO / "resources" / "models" / "germline-illumina-v1.0.0", model)
    (model / "model.pt").write_bytes(b"not a torch checkpoint\n" * 10)
    out = tmp_path / "calls.vcf.gz"
    assert_user_error(cli("call", "--bam", bam, "--ref", fa, "--model", model, "--out", out), out,
                      str(model), "not a usable oncorisk caller checkpoint", "re-train")


def test_call_output_not_named_vcf_gz(bam_and_ref, tmp_path):
    bam, fa = bam_and_ref
    out = tmp_path / "calls.vcf"
    assert_user_error(cli("call", "--bam", bam, "--ref", fa, "--model", "germline-illumina", "--out", out), out,
                      "--out", "calls.vcf", "*.vcf.gz")


def test_command_line_mistakes_are_one_line(tmp_path):
    """argparse's own errors (missing option, bad number, unknown command) in one line that points to --help."""
    assert_user_error(cli("call", "--bam", "x.bam"), None, "required: --ref, --out", "oncorisk call --help")
    assert_user_error(cli("pathways", "--permutations", "many"), None, "--permutations", "'many'", "--help")
    assert_user_error(cli("tensor"), None, "invalid choice: 'tensor'", "'oncorisk --help'")


def test_training_on_tensors_without_labels(bam_and_ref, tmp_path):
    bam, fa = bam_and_ref
    tensors = tmp_path / "t"
    assert cli("tensors", "--bam", bam, "--ref", fa, "--out", tensors).returncode == 0
    out = tmp_path / "models"
    assert_user_error(cli("train-caller", "--tensors", tensors, "--name", "x", "--out", out), out,
                      str(tensors), "tensors without labels", "--truth-vcf")


def test_spike_in_regions_without_usable_sites(bam_and_ref, tmp_path):
    bam, fa = bam_and_ref
    out, truth = tmp_path / "s.bam", tmp_path / "s.vcf.gz"
    assert_user_error(cli("spike-in", "--bam", bam, "--ref", fa, "--regions", "ctgA:1-3", "--out", out,
                          "--truth-out", truth), out, str(bam), "no site in the regions", "depth")
    assert not truth.exists()


def _pathway_inputs(d: Path, positives: int = 6) -> dict[str, Path]:
    """30 genes G00-G29 on a ring with chords, mutated G00-G09 in 20 samples, two gene sets, and labels."""
    genes = [f"G{i:02d}" for i in range(30)]
    rng = np.random.default_rng(1)
    m = pd.DataFrame(rng.poisson(0.3, size=(31, 20)).astype(float), index=genes + ["ORPHAN"],
                     columns=[f"S{i}" for i in range(20)])
    m.iloc[:10] += rng.poisson(2.0, size=(10, 20))
    m.index.name = "gene"
    m.reset_index().to_parquet(d / "impact.parquet")
    edges = [(genes[i], genes[(i + 1) % 30]) for i in range(30)] + [(genes[i], genes[(i + 7) % 30]) for i in range(30)]
    (d / "net.tsv").write_text("gene_a\tgene_b\n" + "".join(f"{a}\t{b}\n" for a, b in edges))
    (d / "sets.gmt").write_text("HIT\td\t" + "\t".join(genes[:10]) + "\nQUIET\td\t" + "\t".join(genes[15:25]) + "\n")
    labels = [(g, int(i < positives)) for i, g in enumerate(genes)] + [("NOTAGENE", 1)]
    (d / "labels.tsv").write_text("gene\tlabel\n" + "".join(f"{g}\t{y}\n" for g, y in labels))
    return dict(impact=d / "impact.parquet", network=d / "net.tsv", gene_sets=d / "sets.gmt", labels=d / "labels.tsv")


def _pathways(inp: dict[str, Path], out: Path, *extra) -> subprocess.CompletedProcess:
    return cli("pathways", "--impact", inp["impact"], "--network", inp["network"], "--gene-sets", inp["gene_sets"],
               "--permutations", 200, "--folds", 3, "--device", "cpu", *extra, "--out", out)


@pytest.mark.slow  # over 10 s: the full suite (CI) runs it; `pytest -m "not slow"` stays fast
def test_unknown_genes_are_reported_not_fatal(tmp_path):
    """Mutated genes absent from the network and labels naming unknown genes: warned about, the run completes."""
    inp = _pathway_inputs(tmp_path)
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in inp.values()}
    out = tmp_path / "pw"
    res = _pathways(inp, out, "--labels", inp["labels"])
    assert res.returncode == 0, res.stderr[-2000:]
    assert before == {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in inp.values()}  # inputs untouched
    assert "1 mutated genes are absent from the network" in res.stderr and "ORPHAN" in res.stderr
    assert f"{inp['labels']}: 1 labelled genes are not in the network and are ignored (e.g. NOTAGENE)" in res.stderr
    ranking = pd.read_csv(out / "pathway_ranking.tsv", sep="\t")
    assert ranking["pathway"].iloc[0] == "HIT"
    assert "ORPHAN" in (out / "run_info.json").read_text()


def test_too_few_labelled_positives_for_cross_validation(tmp_path):
    inp = _pathway_inputs(tmp_path, positives=2)
    out = tmp_path / "pw"
    assert_user_error(_pathways(inp, out, "--labels", inp["labels"]), out,
                      str(inp["labels"]), "2 positive", "at least 4 of each")


def test_evidence_cap_must_be_positive(tmp_path):
    inp = _pathway_inputs(tmp_path)
    out = tmp_path / "pw"
    assert_user_error(_pathways(inp, out, "--evidence-cap", 0), out, "--evidence-cap", "positive")


def test_full_disk_stops_with_one_line_and_keeps_no_partial_output(tmp_path):
    """A disk that fills up mid-write (here: a file-size limit, so writes fail with EFBIG as they would with
    ENOSPC on a full disk): one line naming the output and the fix, exit 1, nothing left behind."""
    inp = _pathway_inputs(tmp_path)
    out = tmp_path / "pw"

    def small_files():
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))

    res = cli("pathways", "--impact", inp["impact"], "--network", inp["network"], "--gene-sets", inp["gene_sets"],
              "--permutations", 200, "--out", out, preexec_fn=small_files)
    line = assert_user_error(res, out, str(out), "free disk space", code=1)
    assert "no partial output" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["impact.parquet", "labels.tsv", "net.tsv", "sets.gmt"]


@pytest.mark.slow
def test_two_runs_writing_one_cohort_at_once(tmp_path):
    """The second snakemake run in the same folder is refused while the first holds the lock; the first
    completes untouched."""
    cmd = [*mini_demo(tmp_path, "twice", patients=30, seed=5), "--cores", "1", "results/twice/samples.validated.tsv"]
    first = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    locks = tmp_path / ".snakemake" / "locks"
    deadline = time.time() + 120
    while not (locks.is_dir() and any(locks.iterdir())) and time.time() < deadline and first.poll() is None:
        time.sleep(0.2)
    assert first.poll() is None, "the first run ended before the second could start"
    second = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True)
    _, err = first.communicate(timeout=600)
    assert first.returncode == 0, err[-2000:]
    assert second.returncode != 0
    assert "Directory cannot be locked" in second.stderr and "--unlock" in second.stderr
    assert (tmp_path / "results" / "twice" / "samples.validated.tsv").read_text().count("\n") == 31


def test_embeddings_and_sample_sheet_that_disagree_are_reported(tmp_path, caplog):
    """Embeddings of samples not in the sheet, and sheet samples without an embedding: warned about by name;
    the missing images are scored from genomics alone (NaN imaging rows, masked in the model)."""
    from oncorisk.config import load_samples
    from oncorisk.fusion.inputs import assemble

    pd.DataFrame({"sample": list("ABCD"), "P": [1.0, 0, 2, 0]}).to_parquet(tmp_path / "ps.parquet")
    (tmp_path / "x.vcf").write_text("")
    sheet = tmp_path / "s.tsv"
    sheet.write_text("sample\tvcf\tlabel\n" + "".join(f"{s}\tx.vcf\t{y}\n" for s, y in zip("ABCD", (0, 1, 0, 1))))
    table = tmp_path / "emb.csv"
    table.write_text("sample,d1,d2\nA,0.1,0.2\nB,0.3,0.4\nZ,1,1\n")
    with caplog.at_level("WARNING"):
        data = assemble(load_samples(str(sheet), mode="germline", check_files=True), str(tmp_path / "ps.parquet"),
                        None, None, str(table))
    text = caplog.text
    assert f"{table}: 1 embeddings belong to samples not in the sample sheet (e.g. Z)" in text
    assert "2 samples have no imaging embedding and are scored from genomics alone (e.g. C, D)" in text
    assert np.isnan(data.imaging[2:]).all() and np.isfinite(data.imaging[:2]).all()


def test_impact_never_modifies_its_inputs(small_cohort, tmp_path):
    """The user's VCFs, annotation, reference and sample sheet are byte-identical after `oncorisk impact`."""
    files = sorted(p for p in small_cohort.rglob("*") if p.is_file() and "bams" not in p.parts)
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in files}
    out = tmp_path / "imp"
    res = cli("impact", "--samples", small_cohort / "samples.tsv", "--gtf", small_cohort / "genes.gtf",
              "--ref", small_cohort / "reference.fa", "--out", out)
    assert res.returncode == 0, res.stderr[-2000:]
    assert (out / "impact_matrix.parquet").is_file()
    after = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(p for p in small_cohort.rglob("*")
                                                                          if p.is_file() and "bams" not in p.parts)}
    assert before == after


def test_asking_for_a_gpu_that_is_not_there(bam_and_ref, tmp_path):
    """--device cuda without CUDA stops with one line instead of a torch traceback or a silent CPU fallback."""
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    bam, fa = bam_and_ref
    out = tmp_path / "calls.vcf.gz"
    assert_user_error(cli("call", "--bam", bam, "--ref", fa, "--model", "germline-illumina", "--device", "cuda",
                          "--out", out), out, "--device cuda", "--device auto", "cpu")


def test_every_catalogue_row_names_tests_that_exist():
    """docs/errors.md stays honest: each row's last column names at least one test (or says `same` as the row
    above), and every test or test module it names exists under tests/."""
    tests = REPO / "tests"
    sources = {p: p.read_text() for p in tests.rglob("test_*.py")}
    defined = {m for text in sources.values() for m in re.findall(r"^def (test_\w+)", text, flags=re.M)}
    modules = {p.stem for p in sources} | {f"{p.parent.name}/{p.stem}" for p in sources}
    rows = [ln for ln in (REPO / "docs" / "errors.md").read_text().splitlines()
            if ln.startswith("| ") and not ln.startswith("| input ")]
    assert len(rows) >= 40
    for row in rows:
        cell = row.rstrip(" |").rsplit("|", 1)[-1].strip()
        if cell.startswith("same"):
            continue
        named = re.findall(r"([\w/]+)::(test_\w+)", cell)
        bare = [t for t in re.findall(r"\b(test_\w+)\b", cell) if t not in {n for _, n in named}]
        assert named or bare, row
        for module, name in named:
            assert module in modules and name in defined, (module, name)
        for name in bare:
            assert name in defined or name in modules, name
