"""Stage `call`: VCF validity, evaluation on hand-made cases, checkpoints, layout checks, spike-in, training."""

from __future__ import annotations

import gzip
import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pysam
import pytest

from conftest import SHARED_DATA, cli, needs_shared_data, needs_tool
from oncorisk.caller.evaluate import evaluate
from oncorisk.errors import UserError

HEADER = "##fileformat=VCFv4.2\n##contig=<ID=ctgA,length=600>\n##contig=<ID=ctgB,length=300>\n" \
         '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
COLS = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS\n"


@pytest.fixture(scope="module")
def ref(pileup_data) -> Path:
    return pileup_data["fasta"]


@pytest.fixture(scope="module")
def fixture_bam(pileup_data) -> Path:
    return pileup_data["bam"]


def vcf(path: Path, rows: list[str], header: str = HEADER, cols: str = COLS) -> Path:
    text = header + cols + "".join(r + "\n" for r in rows)
    plain = path.with_suffix("")
    plain.write_text(text)
    pysam.tabix_compress(str(plain), str(path), force=True)
    pysam.tabix_index(str(path), preset="vcf", force=True)
    return path


def seq(ref: Path, a: int, b: int) -> str:
    return pysam.FastaFile(str(ref)).fetch("ctgA", a, b)


def test_evaluate_hand_made_cases(ref, tmp_path):
    s = seq(ref, 0, 600)
    # the AAAA run at 0-based 233-236 (ctgA:234-237), C before it at 233 (1-based)
    assert s[232:237] == "CAAAA"
    snv_alt = "A" if s[150] != "A" else "C"
    truth = vcf(tmp_path / "truth.vcf.gz", [
        f"ctgA\t151\t.\t{s[150]}\t{snv_alt}\t.\tPASS\t.\tGT\t0/1",
        "ctgA\t233\t.\tCA\tC\t.\tPASS\t.\tGT\t1/1",  # left-aligned deletion of one A
        f"ctgA\t301\t.\t{s[300]}\t{s[300]}TG\t.\tPASS\t.\tGT\t0/1",  # missed by the query
    ])
    query = vcf(tmp_path / "query.vcf.gz", [
        f"ctgA\t151\t.\t{s[150]}\t{snv_alt}\t30\tPASS\t.\tGT\t0/1",
        # the same deletion written right-shifted, with a padding base: AAAAT -> AAAT at 234
        f"ctgA\t234\t.\t{s[233:238]}\t{s[233:236]}{s[237]}\t30\tPASS\t.\tGT\t0/1",
        f"ctgA\t401\t.\t{s[400]}\t{'A' if s[400] != 'A' else 'C'}\t30\tPASS\t.\tGT\t0/1",  # false positive
        f"ctgA\t451\t.\t{s[450]}\t{'A' if s[450] != 'A' else 'C'}\t3\tLowQual\t.\tGT\t0/1",  # filtered: ignored
    ])
    r = evaluate(str(truth), str(query), str(ref))
    assert (r["SNV"]["tp"], r["SNV"]["fp"], r["SNV"]["fn"]) == (1, 1, 0)
    assert (r["INDEL"]["tp"], r["INDEL"]["fp"], r["INDEL"]["fn"]) == (1, 0, 1)
    assert r["SNV"]["precision"] == 0.5 and r["INDEL"]["recall"] == 0.5
    assert r["INDEL"]["genotype_concordance"] == 0.0  # 1/1 in truth, 0/1 in the query
    assert r["SNV"]["genotype_concordance"] == 1.0
    r_all = evaluate(str(truth), str(query), str(ref), pass_only=False)
    assert r_all["SNV"]["fp"] == 2
    bed = tmp_path / "conf.bed"
    bed.write_text("ctgA\t200\t350\n")
    r_bed = evaluate(str(truth), str(query), str(ref), bed=str(bed))
    assert r_bed["SNV"]["tp"] == 0 and r_bed["INDEL"]["tp"] == 1 and r_bed["INDEL"]["fn"] == 1


def test_qual_thresholds_score_the_query_at_each_threshold_and_the_best_is_chosen(ref, tmp_path):
    """evaluate --qual-thresholds scores the query as if only records with QUAL >= each threshold passed (vcfeval's
    QUAL curve); choose_min_qual.py picks the threshold with the best F1 over the folds' summed counts."""
    from oncorisk.caller.evaluate import best_min_qual

    s = seq(ref, 0, 600)
    alt = {k: "A" if s[k] != "A" else "C" for k in (150, 400, 450)}
    truth = vcf(tmp_path / "truth.vcf.gz", [f"ctgA\t151\t.\t{s[150]}\t{alt[150]}\t.\tPASS\t.\tGT\t0/1"])
    query = vcf(tmp_path / "query.vcf.gz", [
        f"ctgA\t151\t.\t{s[150]}\t{alt[150]}\t40\tPASS\t.\tGT\t0/1",  # true, QUAL 40
        f"ctgA\t401\t.\t{s[400]}\t{alt[400]}\t20\tPASS\t.\tGT\t0/1",  # false, QUAL 20
        f"ctgA\t451\t.\t{s[450]}\t{alt[450]}\t25\tPASS\t.\tGT\t0/1",  # false, QUAL 25
    ])
    r = evaluate(str(truth), str(query), str(ref), qual_thresholds=[50, 10, 21, 30])
    rows = {row["min_qual"]: (row["SNV"]["tp"], row["SNV"]["fp"], row["SNV"]["fn"]) for row in r["by_qual"]}
    assert rows == {10.0: (1, 2, 0), 21.0: (1, 1, 0), 30.0: (1, 0, 0), 50.0: (0, 0, 1)}
    assert (r["SNV"]["tp"], r["SNV"]["fp"]) == (1, 2)  # the main result is unchanged
    assert best_min_qual([r]) == 30.0
    out = tmp_path / "m.json"
    assert cli("evaluate", "--truth", truth, "--query", query, "--ref", ref, "--qual-thresholds", "10", "30",
               "--out", out).returncode == 0
    bad = cli("evaluate", "--truth", truth, "--query", query, "--ref", ref, "--qual-thresholds", "-5", "--out", out)
    assert bad.returncode == 2 and "--qual-thresholds: bad value -5.0" in bad.stderr
    script = Path(__file__).resolve().parents[1] / "workflow" / "scripts" / "choose_min_qual.py"
    res = subprocess.run(["python", str(script), str(out), str(out)], capture_output=True, text=True)
    assert res.returncode == 0 and res.stdout.strip() == "30", res.stderr


def test_call_applies_the_models_pass_threshold_unless_one_is_given(ref, fixture_bam, tmp_path):
    """A model's recorded min_qual (train-caller --min-qual) is the PASS threshold when --min-qual is not given."""
    import shutil

    from oncorisk.caller.checkpoint import resolve_model

    model = tmp_path / "strict-v1.0.0"
    shutil.copytree(resolve_model("germline-illumina"), model)
    info = json.loads((model / "model_info.json").read_text())
    (model / "model_info.json").write_text(json.dumps({**info, "min_qual": 99.0}))
    filters = {}
    for name, extra in (("model", []), ("given", ["--min-qual", "0"])):
        out = tmp_path / f"{name}.vcf.gz"
        res = cli("call", "--bam", fixture_bam, "--ref", ref, "--regions", "ctgA", "--model", model, *extra, "--out", out)
        assert res.returncode == 0, res.stderr
        filters[name] = {r[6] for r in records(out)}
        assert f"QUAL < {99 if name == 'model' else 0}" in str(pysam.VariantFile(str(out)).header)
    assert "PASS" not in filters["model"] and "LowQual" in filters["model"]
    assert "PASS" in filters["given"] and "LowQual" not in filters["given"]


def test_haplotype_comparison_matches_one_event_written_two_ways(ref, tmp_path):
    """A deletion written two equivalent ways, a complex substitution written as one record or as an SNV plus
    a deletion, and a 1/2 insertion pair written as one record or as two: equal under haplotype comparison;
    the complex event is an error under allele matching. A het called hom-alt is not a haplotype match."""
    s = seq(ref, 0, 600)
    assert s[232:237] == "CAAAA"
    x = {p: next(b for b in "ACGT" if b not in s[p - 1:p + 2]) for p in range(1, len(s) - 1)}  # differs around p
    cplx_alt = x[400] + s[402:404]  # ctgA:401-404 REF s[400:404] -> x + s[402:404]: an SNV and a 1-base deletion
    truth = vcf(tmp_path / "truth.vcf.gz", [
        "ctgA\t233\t.\tCA\tC\t.\tPASS\t.\tGT\t0/1",
        f"ctgA\t401\t.\t{s[400:404]}\t{cplx_alt}\t.\tPASS\t.\tGT\t0/1",
        f"ctgA\t501\t.\t{s[500]}\t{s[500]}TT,{s[500]}TTT\t.\tPASS\t.\tGT\t1/2",
        f"ctgA\t551\t.\t{s[550]}\t{x[550]}\t.\tPASS\t.\tGT\t0/1",
    ])
    query = vcf(tmp_path / "query.vcf.gz", [
        f"ctgA\t234\t.\t{s[233:238]}\t{s[233:236]}{s[237]}\t30\tPASS\t.\tGT\t0/1",  # right-shifted
        f"ctgA\t401\t.\t{s[400]}\t{x[400]}\t30\tPASS\t.\tGT\t0/1",  # the complex event as an SNV ...
        f"ctgA\t401\t.\t{s[400:402]}\t{s[400]}\t30\tPASS\t.\tGT\t0/1",  # ... and a deletion on one haplotype
        f"ctgA\t501\t.\t{s[500]}\t{s[500]}TT\t30\tPASS\t.\tGT\t0/1",  # the 1/2 pair as two records
        f"ctgA\t501\t.\t{s[500]}\t{s[500]}TTT\t30\tPASS\t.\tGT\t0/1",
        f"ctgA\t551\t.\t{s[550]}\t{x[550]}\t30\tPASS\t.\tGT\t1/1",  # het called hom-alt
    ])
    r = evaluate(str(truth), str(query), str(ref))
    h = r["haplotype"]
    # allele matching: the complex record and its two pieces differ (an indel missed, an indel and an SNV false)
    assert (r["INDEL"]["tp"], r["INDEL"]["fp"], r["INDEL"]["fn"]) == (3, 1, 1)
    assert (r["SNV"]["tp"], r["SNV"]["fp"]) == (1, 1)
    # haplotypes: deletion, complex event and the 1/2 pair match; the hom-alt SNV is credited by its allele only
    assert (h["INDEL"]["truth_tp"], h["INDEL"]["fn"]) == (4, 0)  # CA>C, the complex record, +TT, +TTT
    assert (h["INDEL"]["query_tp"], h["INDEL"]["fp"]) == (4, 0)  # the shifted deletion, the piece, +TT, +TTT
    assert (h["SNV"]["query_tp"], h["SNV"]["fp"]) == (2, 0) and h["INDEL"]["f1"] == 1.0
    # the same calls one haplotype apart from the truth do not match
    wrong = vcf(tmp_path / "wrong.vcf.gz", [f"ctgA\t401\t.\t{s[400:402]}\t{s[400]}\t30\tPASS\t.\tGT\t0/1"])
    hw = evaluate(str(truth), str(wrong), str(ref))["haplotype"]
    assert hw["INDEL"]["query_tp"] == 0 and hw["INDEL"]["fp"] == 1


def test_evaluate_somatic_by_vaf_bin(ref, tmp_path):
    s = seq(ref, 0, 600)
    hdr = HEADER + '##INFO=<ID=SOMATIC,Number=0,Type=Flag,Description="x">\n' \
        '##FORMAT=<ID=VAF,Number=A,Type=Float,Description="x">\n'
    cols = COLS.replace("\tS\n", "\tNORMAL\tTUMOR\n")
    alt = {p: "A" if s[p - 1] != "A" else "C" for p in (101, 201, 301, 401)}
    truth = vcf(tmp_path / "t.vcf.gz", [f"ctgA\t{p}\t.\t{s[p - 1]}\t{alt[p]}\t.\tPASS\tSOMATIC\tGT:VAF\t0/0:0\t0/1:{v}"
                                        for p, v in ((101, 0.07), (201, 0.15), (301, 0.4), (401, 0.45))], hdr, cols)
    query = vcf(tmp_path / "q.vcf.gz", [f"ctgA\t{p}\t.\t{s[p - 1]}\t{alt[p]}\t30\tPASS\tSOMATIC\tGT:VAF\t0/0:0\t0/1:{v}"
                                        for p, v in ((201, 0.14), (301, 0.38), (401, 0.5))], hdr, cols)
    r = evaluate(str(truth), str(query), str(ref), somatic=True)
    bins = {b["vaf"]: b for b in r["by_vaf"]}
    assert bins["[0.05, 0.1)"]["recall"] == 0.0 and bins["[0.3, 0.5)"]["recall"] == 1.0
    assert evaluate(str(truth), str(query), str(ref), somatic=True, min_vaf=0.1)["SNV"]["f1"] == 1.0


def test_evaluate_names_contig_and_sample_mistakes(ref, tmp_path):
    other = vcf(tmp_path / "o.vcf.gz", ["chr1\t10\t.\tA\tC\t.\tPASS\t.\tGT\t0/1"],
                HEADER.replace("ctgA", "chr1").replace("ctgB", "chr2"))
    good = vcf(tmp_path / "g.vcf.gz", [])
    with pytest.raises(UserError, match="no contig in common.*rename"):
        evaluate(str(other), str(good), str(ref))
    with pytest.raises(UserError, match="sample 'X' not in the VCF"):
        evaluate(str(good), str(good), str(ref), truth_sample="X")


def records(path: Path) -> list[list[str]]:
    with gzip.open(path, "rt") as fh:
        return [ln.rstrip("\n").split("\t") for ln in fh if not ln.startswith("#")]


def test_germline_call_writes_a_valid_deterministic_vcf(ref, fixture_bam, tmp_path):
    out, runs = tmp_path / "a.vcf.gz", []
    for _ in range(2):  # the same command twice: byte-identical output
        res = cli("call", "--bam", fixture_bam, "--ref", ref, "--regions", "ctgA", "--model", "germline-illumina",
                  "--out", out)
        assert res.returncode == 0, res.stderr
        runs.append(out.read_bytes())
    assert runs[0] == runs[1]
    outs = [out]
    assert Path(f"{out}.tbi").is_file()
    vf = pysam.VariantFile(str(outs[0]))
    assert list(vf.header.contigs) == ["ctgA", "ctgB"] and list(vf.header.samples) == ["pileup"]
    header = str(vf.header)
    assert "##source=oncorisk-" in header and "##oncoriskCommand=oncorisk call" in header
    recs = records(outs[0])
    # C>A and C>G at 151 are one locus: one record (RefCall: both alleles listed, 6 genotype likelihoods)
    assert [(r[1], r[3], r[4]) for r in recs] == [("151", "C", "A,G"), ("233", "CA", "C"),
                                                  ("301", "A", "ATG"), ("401", "GAGT", "G")]
    for r in recs:
        n = len(r[4].split(","))
        assert r[6] in {"PASS", "LowQual", "RefCall"} and 0 <= float(r[5]) <= 99
        assert r[8] == "GT:GQ:DP:AD:VAF:PL" and re.match(
            rf"^\d/\d:\d+:\d+:\d+(,\d+){{{n}}}:[\d.e-]+(,[\d.e-]+){{{n - 1}}}:\d+(,\d+){{{(n + 1) * (n + 2) // 2 - 1}}}$", r[9])
        assert (r[6] == "RefCall") == (r[9].startswith("0/0"))
    qual = {r[1] + r[4]: float(r[5]) for r in recs}
    # three supporting reads of ~13 (the indels at 233 and 301) are stronger evidence than two (401)
    assert min(qual["233C"], qual["301ATG"]) > qual["401G"]
    # two reads for A and two for G at 151: jointly one het of two alternate alleles
    assert next(r for r in recs if r[1] == "151")[9].startswith("1/2:")
    assert any(r[6] == "PASS" for r in recs)


@needs_tool("bcftools")
def test_bcftools_accepts_the_vcf(ref, fixture_bam, tmp_path):
    out = tmp_path / "c.vcf.gz"
    assert cli("call", "--bam", fixture_bam, "--ref", ref, "--model", "germline-illumina", "--out", out).returncode == 0
    subprocess.run(["bcftools", "view", str(out)], check=True, capture_output=True)
    res = subprocess.run(["bcftools", "norm", "--check-ref", "e", "-f", str(ref), str(out)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr


def test_no_candidates_gives_a_valid_empty_vcf(ref, fixture_bam, tmp_path):
    out = tmp_path / "empty.vcf.gz"
    res = cli("call", "--bam", fixture_bam, "--ref", ref, "--regions", "ctgB", "--model", "germline-illumina",
              "--out", out)
    assert res.returncode == 0, res.stderr
    vf = pysam.VariantFile(str(out))
    assert list(vf) == [] and Path(f"{out}.tbi").is_file() and "ctgB" in vf.header.contigs


def test_a_model_of_another_layout_is_refused(ref, fixture_bam, tmp_path):
    out = tmp_path / "x.vcf.gz"
    # the germline model on tumour/normal tensors
    res = cli("call", "--bam", fixture_bam, "--normal-bam", fixture_bam, "--ref", ref, "--model", "germline-illumina",
              "--out", out)
    assert res.returncode == 2 and "another layout" in res.stderr and "mode" in res.stderr, res.stderr
    assert not out.exists()
    res = cli("call", "--bam", fixture_bam, "--ref", ref, "--model", "no-such-model", "--out", out)
    assert res.returncode == 2 and "germline-illumina" in res.stderr


def test_checkpoint_records_version_layout_and_training(tmp_path):
    from oncorisk.caller.checkpoint import bundled_models

    models = bundled_models()
    assert {"germline-illumina", "somatic-illumina"} <= set(models)
    for name in ("germline-illumina", "somatic-illumina"):
        info = json.loads((models[name] / "model_info.json").read_text())
        assert re.fullmatch(r"\d+\.\d+\.\d+", info["version"]) and info["oncorisk_version"]
        assert info["layout"]["mode"] == name.split("-")[0] and info["layout"]["channel_names"]
        assert info["training"]["sources"] and info["validation"]["f1"] > 0.9 and info["training"]["recipe"]


@pytest.mark.slow  # over 10 s: the full suite (CI) runs it; `pytest -m "not slow"` stays fast
def test_somatic_calls_on_a_simulated_pair(small_cohort, tmp_path):
    out = tmp_path / "s.vcf.gz"
    res = cli("call", "--bam", small_cohort / "bams" / "P0001.tumor.bam", "--normal-bam",
              small_cohort / "bams" / "P0001.normal.bam", "--ref", small_cohort / "reference.fa",
              "--regions", small_cohort / "panel.bed", "--model", "somatic-illumina", "--out", out)
    assert res.returncode == 0, res.stderr
    vf = pysam.VariantFile(str(out))
    names = list(vf.header.samples)
    assert len(names) == 2 and f"##normal_sample={names[0]}" in str(vf.header)
    assert f"##tumor_sample={names[1]}" in str(vf.header)
    r = evaluate(str(small_cohort / "truth" / "P0001.somatic.vcf.gz"), str(out), str(small_cohort / "reference.fa"),
                 bed=str(small_cohort / "truth" / "confident.bed"), somatic=True, min_vaf=0.1)
    assert r["ALL"]["recall"] >= 0.7 and r["ALL"]["precision"] >= 0.7, r["ALL"]
    germ = [rec for rec in vf if "GERMLINE" in rec.filter.keys()]
    assert germ and all("SOMATIC" not in rec.info for rec in germ)


@pytest.mark.slow  # over 10 s: the full suite (CI) runs it; `pytest -m "not slow"` stays fast
def test_train_caller_writes_a_loadable_checkpoint(small_cohort, tmp_path):
    from oncorisk.caller.checkpoint import load_checkpoint
    from oncorisk.tensors.run import TensorOptions, run_tensors

    t = tmp_path / "t"
    run_tensors(TensorOptions(bam=str(small_cohort / "bams" / "P0001.normal.bam"), ref=str(small_cohort / "reference.fa"),
                              out=str(t), regions=[str(small_cohort / "panel.bed")],
                              truth_vcf=str(small_cohort / "truth" / "P0001.germline.vcf.gz"),
                              confident_bed=str(small_cohort / "truth" / "confident.bed")))
    for k in (1, 2):  # the second records a PASS threshold for `call`
        res = cli("train-caller", "--tensors", t, "--name", f"m{k}", "--version", "0.1.0", "--epochs", "2",
                  *(["--min-qual", "25"] if k == 2 else []), "--out", tmp_path / "models")
        assert res.returncode == 0, res.stderr
    a, info = load_checkpoint(str(tmp_path / "models" / "m1-v0.1.0"))
    b, b_info = load_checkpoint(str(tmp_path / "models" / "m2-v0.1.0"))
    assert info["version"] == "0.1.0" and info["layout"]["mode"] == "germline" and len(info["history"]) == 2
    assert "min_qual" not in info and b_info["min_qual"] == 25.0
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert ka == kb and np.array_equal(va.numpy(), vb.numpy())  # same seed, same weights
    bad = cli("train-caller", "--tensors", t, "--name", "x", "--version", "1.0", "--out", tmp_path / "models")
    assert bad.returncode == 2 and "semantic versioning" in bad.stderr
    bad = cli("train-caller", "--tensors", t, "--name", "x", "--min-qual", "-1", "--out", tmp_path / "models")
    assert bad.returncode == 2 and "--min-qual: bad value -1.0" in bad.stderr
    # fine-tuning: a warm start from the bundled germline model, recorded; zero epochs of training would keep its
    # weights, one epoch at a tiny learning rate stays close to them; a somatic checkpoint is refused (layout)
    res = cli("train-caller", "--tensors", t, "--name", "ft", "--version", "0.1.0", "--epochs", "1", "--lr", "1e-7",
              "--init-from", "germline-illumina", "--out", tmp_path / "models")
    assert res.returncode == 0, res.stderr
    ft, ft_info = load_checkpoint(str(tmp_path / "models" / "ft-v0.1.0"))
    base, _ = load_checkpoint("germline-illumina")
    assert ft_info["training"]["init_from"]["name"] == "germline-illumina"
    member = {k: v for k, v in base.state_dict().items() if k.startswith("members.0.")}
    assert all(np.allclose(v.numpy(), ft.state_dict()[k].numpy(), atol=1e-4) for k, v in member.items())
    assert not all(np.allclose(v.numpy(), a.state_dict()[k].numpy(), atol=1e-4) for k, v in member.items())
    bad = cli("train-caller", "--tensors", t, "--name", "y", "--version", "0.1.0", "--init-from", "somatic-illumina",
              "--out", tmp_path / "models")
    assert bad.returncode == 2 and "another layout" in bad.stderr and not (tmp_path / "models" / "y-v0.1.0").exists()


def test_spike_in_plants_detectable_alleles(small_cohort, tmp_path):
    from oncorisk.tensors.run import TensorOptions, load_tensors, run_tensors

    bam = small_cohort / "bams" / "P0001.normal.bam"
    fa = small_cohort / "reference.fa"
    contig = pysam.FastaFile(str(fa)).references[0]
    panel = tmp_path / "one.bed"
    panel.write_text("".join(line for line in (small_cohort / "panel.bed").read_text().splitlines(True)
                             if line.startswith(contig + "\t")))
    args = ["spike-in", "--bam", bam, "--ref", fa, "--regions", panel, "--germline", "--snvs", "10", "--indels", "6",
            "--seed", "4"]
    for k in (1, 2):
        res = cli(*args, "--out", tmp_path / f"s{k}.bam", "--truth-out", tmp_path / f"s{k}.vcf.gz")
        assert res.returncode == 0, res.stderr
    assert records(tmp_path / "s1.vcf.gz") == records(tmp_path / "s2.vcf.gz")
    planted = records(tmp_path / "s1.vcf.gz")
    assert sum(len(r[3]) != len(r[4]) for r in planted) >= 3
    run_tensors(TensorOptions(bam=str(tmp_path / "s1.bam"), ref=str(fa), out=str(tmp_path / "t"), regions=[str(panel)],
                              truth_vcf=str(tmp_path / "s1.vcf.gz")))
    sites, _, _ = load_tensors(tmp_path / "t")
    found = sites[sites.label_gt > 0]
    assert len(found) >= 0.8 * len(planted)


def test_gather_refuses_shards_out_of_order(ref, fixture_bam, tmp_path):
    a, b = tmp_path / "a.vcf.gz", tmp_path / "b.vcf.gz"
    for out, reg in ((a, "ctgA:1-200"), (b, "ctgA:201-600")):
        assert cli("call", "--bam", fixture_bam, "--ref", ref, "--regions", reg, "--model", "germline-illumina",
                   "--out", out).returncode == 0
    ok = tmp_path / "all.vcf.gz"
    assert cli("gather-vcf", "--out", ok, a, b).returncode == 0
    assert len(records(ok)) == len(records(a)) + len(records(b)) == 4
    bad = cli("gather-vcf", "--out", tmp_path / "bad.vcf.gz", b, a)
    assert bad.returncode == 2 and "genome order" in bad.stderr and not (tmp_path / "bad.vcf.gz").exists()


def test_inputs_are_never_modified(ref, fixture_bam, tmp_path):
    import hashlib

    def state():
        folder = Path(ref).parent
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}

    before = state()
    assert cli("tensors", "--bam", fixture_bam, "--ref", ref, "--out", tmp_path / "t").returncode == 0
    assert cli("call", "--bam", fixture_bam, "--ref", ref, "--model", "germline-illumina",
               "--out", tmp_path / "c.vcf.gz").returncode == 0
    assert cli("evaluate", "--truth", tmp_path / "c.vcf.gz", "--query", tmp_path / "c.vcf.gz", "--ref", ref,
               "--all-records", "--out", tmp_path / "m.json").returncode == 0
    assert cli("spike-in", "--bam", fixture_bam, "--ref", ref, "--regions", "ctgA", "--snvs", "2", "--indels", "0",
               "--germline", "--out", tmp_path / "s.bam", "--truth-out", tmp_path / "s.vcf.gz").returncode in (0, 2)
    assert state() == before


@needs_shared_data("strelka_demo", "NA12891_demo20.bam")
def test_strelka2_demo_pair_gives_strelka2s_pass_calls(tmp_path):
    """Strelka2's demo tumour/normal pair: our PASS somatic calls are exactly Strelka2's expected PASS calls
    (16 SNVs, 2 indels; its LowEVS site is not called). A peer's output, not truth: a regression check."""
    d = SHARED_DATA / "strelka_demo"
    out = tmp_path / "s.vcf.gz"
    res = cli("call", "--bam", d / "NA12891_demo20.bam", "--normal-bam", d / "NA12892_demo20.bam",
              "--ref", d / "demo20.fa", "--model", "somatic-illumina", "--out", out)
    assert res.returncode == 0, res.stderr

    def passed(path):  # Strelka2's files are plain gzip, not bgzip: read them as text
        with gzip.open(path, "rt") as fh:
            rows = [ln.split("\t") for ln in fh if not ln.startswith("#")]
        return {(f[0], int(f[1]), f[3], f[4]) for f in rows if f[6] == "PASS"}

    expected = passed(d / "somatic.snvs.vcf.gz") | passed(d / "somatic.indels.vcf.gz")
    assert len(expected) == 18 and passed(out) == expected


def _homopolymer_sample(folder: Path, inserts: dict[str, int], seed: int = 5) -> tuple[Path, Path, int]:
    """A 400-bp reference with an 8-T homopolymer after 0-based 199, and 100-bp reads through it carrying the
    given insertions (``{"TT": 15, "TTT": 15}``: 15 reads with +TT at the run's end, 15 with +TTT), placed at
    the run's right end as aligners do. Returns (FASTA, BAM, 1-based position of the base before the run)."""
    import random

    rng = random.Random(seed)
    left = "".join(rng.choice("ACG") for _ in range(199)) + "G"
    right = "C" + "".join(rng.choice("ACG") for _ in range(191))
    ref = left + "T" * 8 + right
    fa = folder / "hp.fa"
    fa.write_text(">hp\n" + "\n".join(ref[i:i + 60] for i in range(0, len(ref), 60)) + "\n")
    pysam.faidx(str(fa))
    run_end = 208  # 0-based end of the homopolymer
    lines = [f"@HD\tVN:1.6\tSO:unsorted\n@SQ\tSN:hp\tLN:{len(ref)}\n@RG\tID:a\tSM:hp\n"]
    n = 0
    for ins, count in inserts.items():
        for k in range(count):
            start = 120 + (k * 7) % 60
            before = run_end - start
            seq = (ref[start:run_end] + ins + ref[run_end:])[:100]
            after = 100 - before - len(ins)
            cigar = f"{before}M{len(ins)}I{after}M" if ins else "100M"
            flag = 16 if k % 2 else 0
            lines.append(f"r{n}\t{flag}\thp\t{start + 1}\t60\t{cigar}\t*\t0\t0\t{seq}\t{'I' * 100}\tRG:Z:a\n")
            n += 1
    sam = folder / "hp.sam"
    sam.write_text("".join(lines))
    bam = folder / "hp.bam"
    pysam.sort("-o", str(bam), str(sam), catch_stdout=False)
    pysam.index(str(bam))
    return fa, bam, 200


def test_a_homopolymer_with_two_insertions_is_one_1_2_record(tmp_path):
    """+TT on one haplotype, +TTT on the other (GIAB's chr20 case): one multi-allelic record GT 1/2 with PL for
    all six genotypes and AD per allele, never three records of one locus."""
    fa, bam, anchor = _homopolymer_sample(tmp_path, {"TT": 14, "TTT": 14, "T": 2})
    out = tmp_path / "hp.vcf.gz"
    res = cli("call", "--bam", bam, "--ref", fa, "--model", "germline-illumina", "--out", out)
    assert res.returncode == 0, res.stderr
    recs = records(out)
    assert len(recs) == 1, recs  # +T, +TT and +TTT are one locus
    chrom, pos, _, ref, alts, _, filt, _, fmt, sample = recs[0]
    assert (pos, ref, filt) == (str(anchor), "G", "PASS")
    assert sorted(alts.split(",")) == ["GTT", "GTTT"]
    gt, gq, dp, ad, vaf, pl = sample.split(":")
    assert gt == "1/2" and len(pl.split(",")) == 6 and len(ad.split(",")) == 3
    assert all(int(x) >= 10 for x in ad.split(",")[1:])


def test_haplotype_windows_meet_across_a_long_repeat(tmp_path):
    """bcftools writes a deletion in a 20-A run with REF and ALT spanning the run (the trimmed edit lands at its
    right end); the truth has it left-aligned at the run's start, 18 bases away: one window, one match."""
    import random

    rng = random.Random(3)
    ref = "".join(rng.choice("CGT") for _ in range(100)) + "A" * 20 + "".join(rng.choice("CGT") for _ in range(100))
    fa = tmp_path / "run.fa"
    fa.write_text(">ctgA\n" + ref + "\n")
    pysam.faidx(str(fa))
    header = "##fileformat=VCFv4.2\n##contig=<ID=ctgA,length=220>\n" \
             '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
    truth = vcf(tmp_path / "t.vcf.gz", [f"ctgA\t100\t.\t{ref[99:101]}\t{ref[99]}\t.\tPASS\t.\tGT\t0/1"], header)
    query = vcf(tmp_path / "q.vcf.gz", [f"ctgA\t100\t.\t{ref[99:120]}\t{ref[99:119]}\t9\tPASS\t.\tGT\t0/1"], header)
    h = evaluate(str(truth), str(query), str(fa))["haplotype"]["INDEL"]
    assert (h["truth_tp"], h["fn"], h["query_tp"], h["fp"]) == (1, 0, 1, 0)


def test_alleles_beyond_the_locus_cap_are_written_0_0_refcall():
    """A locus of more candidates than MAX_LOCUS_ALLELES: the weakest are demoted to their own records, which are
    RefCall with genotype 0/0 (not a second call at the locus, whatever their own evidence)."""
    import pandas as pd

    from oncorisk.caller.vcf import MAX_LOCUS_ALLELES, _germline_records

    n = MAX_LOCUS_ALLELES + 2
    sites = pd.DataFrame({"contig": ["ctgA"] * n, "pos": [100] * n, "ref": ["A"] * n,
                          "alt": ["A" + "T" * (k + 1) for k in range(n)]})
    g = np.tile([0.05, 0.9, 0.05], (n, 1))
    g[:, 0] += np.linspace(0, 0.04, n)  # distinct strengths: the last two alleles are the weakest
    g /= g.sum(1, keepdims=True)
    counts = np.full(n, 10)
    lines = [ln.split("\t") for ln in _germline_records(sites, g, counts, counts, counts * 3, 0.0)]
    assert len(lines) == 3
    calls = [f for f in lines if f[6] != "RefCall"]
    demoted = [f for f in lines if f[6] == "RefCall"]
    assert len(calls) == 1 and len(calls[0][4].split(",")) <= 2
    assert sorted(f[4] for f in demoted) == ["A" + "T" * (n - 1), "A" + "T" * n]
    assert all(f[9].startswith("0/0:") for f in demoted)


def test_cpu_forward_pass_matches_torch_and_call_does_not_import_torch(pileup_data, tmp_path):
    """caller/cpu.py reads model.pt without torch (the same float32 weights) and its numpy forward pass gives torch's
    probabilities to float32 rounding, for both shipped models; `call` on the CPU never imports torch."""
    import sys

    import torch

    from oncorisk.caller.checkpoint import bundled_models, load_checkpoint, load_cpu_model
    from oncorisk.caller.cpu import read_state_dicts
    from oncorisk.caller.model import predict_probabilities
    from oncorisk.caller.run import uses_torch
    from oncorisk.tensors.layout import WIDTH

    rng = np.random.default_rng(5)
    for name in ("germline-illumina", "somatic-illumina"):
        folder = bundled_models()[name]
        ours, theirs = read_state_dicts(folder / "model.pt"), torch.load(folder / "model.pt", weights_only=True)
        assert ours.keys() == theirs.keys()
        assert all(np.array_equal(ours[m][k], v.numpy()) for m in theirs for k, v in theirs[m].items())
        cpu, info = load_cpu_model(name)
        net, _ = load_checkpoint(name)
        x = rng.random((300, WIDTH, info["layout"]["channels"]), dtype=np.float32)
        x[:, :, :4] = x[:, :, :4] > 0.75  # one-hot-like reference columns
        a, b = predict_probabilities(net, x, "cpu", 128), cpu.probabilities(x, 100)  # batches cut differently
        assert a.keys() == b.keys() == set(["genotype"] + (["somatic"] if name.startswith("somatic") else []))
        for k in a:
            assert np.abs(a[k] - b[k]).max() < 1e-5, (name, k)
    assert not uses_torch("cpu") and uses_torch("cuda")
    out = tmp_path / "calls.vcf.gz"
    code = ("import sys\nfrom oncorisk.cli import main\n"
            f"rc = main(['-q', 'call', '--bam', {str(pileup_data['bam'])!r}, '--ref', {str(pileup_data['fasta'])!r}, "
            f"'--model', 'germline-illumina', '--device', 'cpu', '--out', {str(out)!r}])\n"
            "print(rc, 'torch' in sys.modules)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.stdout.split() == ["0", "False"], (res.stdout, res.stderr[-2000:])
    assert out.exists()
