"""Panel of normals: `oncorisk make-pon` counts carriers of normalised alleles; `oncorisk call --pon` filters."""

from __future__ import annotations

import gzip
from pathlib import Path

import pysam
import pytest
from conftest import assert_user_error, cli

HEADER = ("##fileformat=VCFv4.2\n##contig=<ID=ctgA,length=600>\n##contig=<ID=ctgB,length=300>\n"
          '##FILTER=<ID=LowQual,Description="low">\n##FORMAT=<ID=GT,Number=1,Type=String,Description="GT">\n'
          "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t{sample}\n")


def normal_vcf(path: Path, sample: str, rows: list[str]) -> Path:
    path.write_text(HEADER.format(sample=sample) + "".join(r + "\n" for r in rows))
    return path


@pytest.fixture()
def normals(tmp_path) -> list[Path]:
    # tiny.fa ctgA: 151 is C; 233-237 is C AAAA (a deletion of one A left-aligns to 233 CA>C); 400 is G, 500 T
    n1 = normal_vcf(tmp_path / "n1.vcf", "N1", [
        "ctgA\t151\t.\tC\tA,G\t50\tPASS\t.\tGT\t1/2",      # multi-allelic: both alleles carried
        "ctgA\t236\t.\tAA\tA\t50\tPASS\t.\tGT\t0/1",       # right-shifted: the same allele as 233 CA>C
        "ctgA\t400\t.\tG\tT\t50\tPASS\t.\tGT\t0/0",        # not carried
        "ctgA\t500\t.\tT\tC\t5\tLowQual\t.\tGT\t0/1",      # filtered: counted only with --include-filtered
    ])
    n2 = normal_vcf(tmp_path / "n2.vcf", "N2", [
        "ctgA\t151\t.\tC\tA\t50\tPASS\t.\tGT\t0/1",
        "ctgA\t236\t.\tAA\tA\t50\tPASS\t.\tGT\t0/1",        # the next record's allele again: N2 counts once
        "ctgA\t233\t.\tCA\tC\t50\tPASS\t.\tGT\t0/1",
        "ctgA\t500\t.\tT\tC\t50\tPASS\t.\tGT\t0/1",
    ])
    return [n1, n2]


def sites(path: Path) -> list[tuple[str, ...]]:
    with gzip.open(path, "rt") as fh:
        return [tuple(ln.rstrip("\n").split("\t")[i] for i in (0, 1, 3, 4, 7)) for ln in fh if not ln.startswith("#")]


def test_make_pon_counts_carriers_of_normalised_alleles(normals, pileup_data, tmp_path):
    ref = pileup_data["fasta"]
    out = tmp_path / "pon.vcf.gz"
    res = cli("make-pon", "--vcfs", *normals, "--ref", ref, "--out", out)
    assert res.returncode == 0, res.stderr
    assert sites(out) == [("ctgA", "151", "C", "A", "NSAMPLES=2;FRACTION=1"),
                          ("ctgA", "233", "CA", "C", "NSAMPLES=2;FRACTION=1")]
    assert (tmp_path / "pon.vcf.gz.tbi").is_file() and len(list(pysam.VariantFile(str(out)).fetch("ctgA"))) == 2
    loose = tmp_path / "loose.vcf.gz"
    assert cli("make-pon", "--vcfs", *normals, "--ref", ref, "--min-samples", "1", "--include-filtered",
               "--out", loose).returncode == 0
    assert [s[:4] for s in sites(loose)] == [("ctgA", "151", "C", "A"), ("ctgA", "151", "C", "G"),
                                            ("ctgA", "233", "CA", "C"), ("ctgA", "500", "T", "C")]
    assert sites(loose)[-1][4] == "NSAMPLES=2;FRACTION=1"  # the LowQual record counts with --include-filtered


def test_call_with_a_pon_filters_exactly_its_alleles(normals, pileup_data, tmp_path):
    ref, bam = pileup_data["fasta"], pileup_data["bam"]
    pon = tmp_path / "pon.vcf.gz"
    assert cli("make-pon", "--vcfs", *normals, "--ref", ref, "--out", pon).returncode == 0
    plain, filtered = tmp_path / "a.vcf.gz", tmp_path / "b.vcf.gz"
    # --min-qual 0: every called locus is PASS whatever the model's threshold (the PON, not QUAL, is under test)
    common = ["--bam", bam, "--ref", ref, "--model", "germline-illumina", "--min-qual", "0"]
    assert cli("call", *common, "--out", plain).returncode == 0
    res = cli("call", *common, "--pon", pon, "--out", filtered)
    assert res.returncode == 0, res.stderr
    before = {r[:4]: r for r in _records(plain)}
    after = {r[:4]: r for r in _records(filtered)}
    assert before.keys() == after.keys()  # nothing dropped: filtered calls stay, traceable
    for key, rec in after.items():
        # 151 C>A (in the panel) and C>G (not) are one locus, one record: a panel allele in it filters the record
        if before[key][4] == "PASS" and key in {("ctgA", "151", "C", "A,G"), ("ctgA", "233", "CA", "C")}:
            assert rec[4] == "PON" and rec[5].endswith("PON=2"), rec
        else:
            assert rec[4:] == before[key][4:], rec  # everything else unchanged
    assert sum(r[4] == "PON" for r in after.values()) == 2
    header = str(pysam.VariantFile(str(filtered)).header)
    assert "##FILTER=<ID=PON" in header and f"##oncorisk_pon=file://{pon}" in header


def _records(path: Path) -> list[tuple[str, ...]]:
    """(CHROM, POS, REF, ALT, FILTER, INFO) of each record."""
    with gzip.open(path, "rt") as fh:
        return [tuple(ln.rstrip("\n").split("\t")[i] for i in (0, 1, 3, 4, 6, 7)) for ln in fh if not ln.startswith("#")]


def test_bad_panels_and_normals_fail_with_one_line(normals, pileup_data, tmp_path):
    ref, bam = pileup_data["fasta"], pileup_data["bam"]
    out = tmp_path / "pon.vcf.gz"
    assert_user_error(cli("make-pon", "--vcfs", tmp_path / "missing.vcf", "--ref", ref, "--out", out), out,
                      "missing.vcf", "normal VCF not found")
    assert_user_error(cli("make-pon", "--vcfs", *normals, "--ref", ref, "--out", tmp_path / "pon.vcf"),
                      tmp_path / "pon.vcf", "--out", "*.vcf.gz")
    other = normal_vcf(tmp_path / "chr.vcf", "N3", [])
    other.write_text(other.read_text().replace("ctgA", "chr1").replace("ctgB", "chr2"))
    assert_user_error(cli("make-pon", "--vcfs", other, "--ref", ref, "--out", out), out,
                      "chr.vcf", "no contig in common", "rename the contigs")
    calls = tmp_path / "c.vcf.gz"
    assert_user_error(cli("call", "--bam", bam, "--ref", ref, "--model", "germline-illumina", "--pon", other,
                          "--out", calls), calls, "chr.vcf", "no contig in common")
    assert_user_error(cli("call", "--bam", bam, "--ref", ref, "--model", "germline-illumina", "--pon",
                          tmp_path / "nope.vcf.gz", "--out", calls), calls, "nope.vcf.gz", "panel of normals not found")
