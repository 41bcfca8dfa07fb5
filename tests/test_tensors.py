"""Stage `tensors`: pileup counts equal samtools mpileup's, hand-checked candidates, layout, labels, bad input."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pysam
import pytest

from conftest import FIXTURES, assert_user_error, cli, needs_shared_data
from oncorisk.tensors.layout import WIDTH, channel_names, layout_info
from oncorisk.tensors.pileup import ReadFilter, open_alignment, pileup_region
from oncorisk.tensors.run import TensorOptions, load_tensors, run_tensors

FLAGS = "UNMAP,SECONDARY,QCFAIL,DUP,SUPPLEMENTARY"
GIAB = Path(__file__).resolve().parents[2] / "shared" / "data" / "giab_hg001_chr20"


@pytest.fixture(scope="module")
def fixture_bam(pileup_data) -> dict:
    return pileup_data


def mpileup_counts(bam, fasta, region, min_mapq, min_bq) -> dict[int, tuple]:
    """samtools mpileup (BAQ off, overlaps and orphans kept) parsed into per-position counts:
    pos0 -> (fwd A,C,G,T, rev A,C,G,T, deleted bases '*', insertions, deletion starts)."""
    text = pysam.mpileup("-B", "-x", "-A", "-d", "0", "-q", str(min_mapq), "-Q", str(min_bq), "--ff", FLAGS,
                         "-f", str(fasta), "-r", region, str(bam))
    out = {}
    for line in text.splitlines():
        _, pos, rb, _, bases = line.split("\t")[:5]
        bases = re.sub(r"\^.", "", bases).replace("$", "")
        c = dict.fromkeys("ACGTacgt", 0)
        star = ins = dels = j = 0
        while j < len(bases):
            ch = bases[j]
            if ch in "+-":
                m = re.match(r"[+-](\d+)", bases[j:])
                ins += ch == "+"
                dels += ch == "-"
                j += len(m.group(0)) + int(m.group(1))
                continue
            ch = rb.upper() if ch == "." else rb.lower() if ch == "," else ch
            if ch in c:
                c[ch] += 1
            star += ch in "*#"
            j += 1
        out[int(pos) - 1] = tuple(c[b] for b in "ACGTacgt") + (star, ins, dels)
    return out


def assert_same_as_mpileup(bam, fasta, contig, start, end, min_mapq, min_bq):
    pile = pileup_region(open_alignment(str(bam), None), str(bam), pysam.FastaFile(str(fasta)), contig, start, end,
                         ReadFilter(min_mapq=min_mapq, min_base_quality=min_bq, max_depth=0))
    ref = mpileup_counts(bam, fasta, f"{contig}:{start + 1}-{end}", min_mapq, min_bq)
    assert ref, "mpileup printed nothing: the comparison would be empty"
    checked = 0
    for i in range(end - start):
        exp = ref.get(start + i, (0,) * 11)
        got = tuple(pile.counts[i, 0, :4]) + tuple(pile.counts[i, 1, :4])
        assert got == exp[:8], f"{contig}:{start + i + 1} ours {got} mpileup {exp[:8]}"
        if min_bq == 0:  # mpileup filters '*' and indel marks by a neighbouring base's quality
            indel = (pile.counts[i, :, 6].sum(), pile.counts[i, :, 4].sum(), pile.counts[i, :, 5].sum())
            assert indel == exp[8:], f"{contig}:{start + i + 1} ours */+/- {indel} mpileup {exp[8:]}"
        checked += 1
    return checked


@pytest.mark.parametrize("min_mapq,min_bq", [(0, 0), (5, 10), (20, 30)])
def test_fixture_counts_equal_samtools_mpileup(fixture_bam, min_mapq, min_bq):
    assert assert_same_as_mpileup(fixture_bam["bam"], fixture_bam["fasta"], "ctgA", 0, 600, min_mapq, min_bq) == 600


def test_simulated_counts_equal_samtools_mpileup(small_cohort):
    bam = small_cohort / "bams" / "P0001.tumor.bam"
    b = pysam.AlignmentFile(str(bam))
    read = next(r for r in b.fetch() if not r.is_unmapped)
    start = read.reference_start
    assert_same_as_mpileup(bam, small_cohort / "reference.fa", read.reference_name, start, start + 20_000, 5, 13)


@needs_shared_data("giab_hg001_chr20", "NA12878_S1.chr20.10_10p1mb.bam")
def test_real_reads_counts_equal_samtools_mpileup():
    bam, fa = GIAB / "NA12878_S1.chr20.10_10p1mb.bam", GIAB / "ucsc.hg19.chr20.unittest.fasta.gz"
    assert assert_same_as_mpileup(bam, fa, "chr20", 10_050_000, 10_060_000, 5, 10) == 10_000


def run(fixture_bam, tmp_path, name="t", **kw) -> tuple[pd.DataFrame, np.ndarray, dict]:
    opts = TensorOptions(bam=str(fixture_bam["bam"]), ref=str(fixture_bam["fasta"]), out=str(tmp_path / name), **kw)
    run_tensors(opts)
    return load_tensors(tmp_path / name)


def test_candidates_match_the_hand_checked_list(fixture_bam, tmp_path):
    sites, tensors, info = run(fixture_bam, tmp_path, regions=["ctgA"])
    got = [(r.pos, r.ref, r.alt, r.kind, r.alt_fwd + r.alt_rev) for r in sites.itertuples()]
    # worked out by hand from tiny.fa and make_pileup_sam.py (positions 1-based, as in VCF):
    # - ctgA:151 C: two reads with A, two with G (multi-allelic: one row per allele);
    # - one A deleted from the AAAA run at 234-237, placed at three offsets: left-aligned to CA>C at 233;
    # - TG inserted after the A at 301; AGT deleted after the G at 401 (two reverse reads);
    # not candidates: a one-read insertion at 451, an SNV at 171 on base quality 2 only, SNVs at 501 / 521 /
    # 541 on duplicate, MAPQ-0 and secondary reads only.
    assert got == [(151, "C", "A", "SNV", 2), (151, "C", "G", "SNV", 2), (233, "CA", "C", "DEL", 3),
                   (301, "A", "ATG", "INS", 3), (401, "GAGT", "G", "DEL", 2)]
    row = sites.iloc[4]
    assert (row.alt_fwd, row.alt_rev) == (0, 2)
    assert tensors.shape == (5, WIDTH, len(channel_names("germline"))) and tensors.dtype == np.float16
    assert info["channel_names"] == channel_names("germline") and info["format_version"] == layout_info("germline")["format_version"]
    names = info["channel_names"]
    centre = tensors[2, WIDTH // 2].astype(float)
    assert centre[names.index("is_del")] == 1 and centre[names.index("sample.cand_fwd")] > 0
    assert tensors[2, 0, names.index("sample.cand_fwd")] == 0  # support only at the anchor column
    # reference one-hot agrees with the FASTA over the window
    seq = pysam.FastaFile(str(fixture_bam["fasta"])).fetch("ctgA", 232 - 16, 232 + 17)
    onehot = tensors[2, :, :4].astype(int)
    assert "".join("ACGT"[k] for k in onehot.argmax(axis=1)) == seq


def test_thresholds_are_separate_for_snvs_and_indels(fixture_bam, tmp_path):
    sites, _, _ = run(fixture_bam, tmp_path, regions=["ctgA"],
                      thresholds=__import__("oncorisk.tensors.candidates", fromlist=["x"]).Thresholds(
                          snv_min_alt=3, indel_min_alt=1, indel_min_af=0.01))
    assert set(sites.kind) == {"INS", "DEL"}
    assert 451 in set(sites.pos)  # the one-read insertion


def test_shards_give_the_same_result_as_one_region(fixture_bam, tmp_path):
    whole = run(fixture_bam, tmp_path, "whole", regions=["ctgA"])
    small = run(fixture_bam, tmp_path, "small", regions=["ctgA"], partition_size=1000)
    pd.testing.assert_frame_equal(whole[0], small[0])
    shares = [run(fixture_bam, tmp_path, f"s{k}", regions=["ctgA", "ctgB"], partition_size=1000,
                  shard_index=k, shard_count=3)[0] for k in range(3)]
    pd.testing.assert_frame_equal(pd.concat([s for s in shares if len(s)], ignore_index=True), whole[0])
    assert sum(len(s) for s in shares) == len(whole[0])


def test_partition_boundaries_do_not_change_tensors(small_cohort, tmp_path):
    bam, fa = small_cohort / "bams" / "P0001.tumor.bam", small_cohort / "reference.fa"
    contig = pysam.FastaFile(str(fa)).references[0]
    outs = []
    for size in (1000, 100_000):
        run_tensors(TensorOptions(bam=str(bam), ref=str(fa), out=str(tmp_path / f"c{size}"),
                                  regions=[f"{contig}:1-60000"], partition_size=size))
        outs.append(load_tensors(tmp_path / f"c{size}"))
    assert len(outs[0][0]) > 5
    pd.testing.assert_frame_equal(outs[0][0], outs[1][0])
    assert np.array_equal(np.asarray(outs[0][1]), np.asarray(outs[1][1]))


def test_empty_region_gives_valid_empty_output(fixture_bam, tmp_path):
    sites, tensors, info = run(fixture_bam, tmp_path, regions=["ctgB:1-300"])
    assert len(sites) == 0 and tensors.shape == (0, WIDTH, len(info["channel_names"])) and info["n_sites"] == 0
    assert "alt" in sites.columns


def test_reruns_are_byte_identical(fixture_bam, tmp_path):
    for name in ("a", "b"):
        run(fixture_bam, tmp_path, name, regions=["ctgA"])
    for f in ("tensors.npy", "sites.tsv", "tensor_info.json"):
        a, b = (tmp_path / "a" / f).read_bytes(), (tmp_path / "b" / f).read_bytes()
        if f == "tensor_info.json":
            a, b = a.replace(b"/a", b""), b.replace(b"/b", b"")
        assert a == b, f


def test_downsampling_is_deterministic_and_caps_depth(small_cohort, tmp_path):
    bam, fa = str(small_cohort / "bams" / "P0001.tumor.bam"), pysam.FastaFile(str(small_cohort / "reference.fa"))
    read = next(r for r in pysam.AlignmentFile(bam).fetch() if not r.is_unmapped)
    s = read.reference_start + 200
    full = pileup_region(open_alignment(bam, None), bam, fa, read.reference_name, s, s + 2000, ReadFilter(max_depth=0))
    assert full.depth.max() > 20
    a, b = (pileup_region(open_alignment(bam, None), bam, fa, read.reference_name, s, s + 2000, ReadFilter(max_depth=10))
            for _ in range(2))
    assert np.array_equal(a.counts, b.counts) and a.reads_dropped_downsampling > 0
    assert a.depth.mean() < 0.6 * full.depth.mean() and a.depth.max() < full.depth.max()


def test_somatic_mode_stacks_tumour_and_normal_and_labels(small_cohort, tmp_path):
    fa = small_cohort / "reference.fa"
    out = tmp_path / "som"
    run_tensors(TensorOptions(bam=str(small_cohort / "bams" / "P0001.tumor.bam"), ref=str(fa), out=str(out),
                              normal_bam=str(small_cohort / "bams" / "P0001.normal.bam"),
                              truth_vcf=str(small_cohort / "truth" / "P0001.somatic.vcf.gz"),
                              germline_truth_vcf=str(small_cohort / "truth" / "P0001.germline.vcf.gz"),
                              confident_bed=str(small_cohort / "truth" / "confident.bed")))
    sites, tensors, info = load_tensors(out)
    assert info["mode"] == "somatic" and tensors.shape[2] == len(channel_names("somatic"))
    assert {"normal_depth", "normal_alt_fwd", "label_gt", "label_somatic"} <= set(sites.columns)
    somatic = sites[sites.label_somatic == 2]
    germline = sites[sites.label_somatic == 1]
    truth_somatic = [r for r in pysam.VariantFile(str(small_cohort / "truth" / "P0001.somatic.vcf.gz"))]
    assert len(somatic) >= 0.8 * len(truth_somatic) > 0
    assert (somatic.normal_alt_fwd + somatic.normal_alt_rev).sum() == 0  # the normal carries no somatic allele
    assert (germline.normal_af > 0.2).mean() > 0.9


def test_cram_and_bgzipped_fasta_give_the_same_sites(fixture_bam, tmp_path):
    cram = tmp_path / "pileup.cram"
    pysam.view("-C", "-T", str(fixture_bam["fasta"]), "-o", str(cram), str(fixture_bam["bam"]), catch_stdout=False)
    pysam.index(str(cram))
    gz = tmp_path / "tiny.fa.gz"
    subprocess.run(f"bgzip -c {fixture_bam['fasta']} > {gz}", shell=True, check=True) if shutil.which("bgzip") else \
        pysam.tabix_compress(str(fixture_bam["fasta"]), str(gz))
    pysam.faidx(str(gz))
    a = run(fixture_bam, tmp_path, "bam", regions=["ctgA"])[0]
    run_tensors(TensorOptions(bam=str(cram), ref=str(gz), out=str(tmp_path / "cram"), regions=["ctgA"]))
    pd.testing.assert_frame_equal(a, load_tensors(tmp_path / "cram")[0])


def test_bad_inputs_fail_with_one_line(fixture_bam, tmp_path):
    d, fa, bam = tmp_path, fixture_bam["fasta"], fixture_bam["bam"]
    out = d / "out"
    noindex = d / "noindex.bam"
    shutil.copy(bam, noindex)
    assert_user_error(cli("tensors", "--bam", noindex, "--ref", fa, "--out", out), out, "samtools index")
    # contig names that disagree: name both sets
    other = d / "other.fa"
    other.write_text(">chr1\n" + "ACGT" * 200 + "\n")
    assert_user_error(cli("tensors", "--bam", bam, "--ref", other, "--out", out), out, "ctgA", "chr1")
    # unsorted
    uns = d / "unsorted.bam"
    text = (FIXTURES / "pileup.sam").read_text().replace("SO:coordinate", "SO:unsorted")
    (d / "unsorted.sam").write_text(text)
    pysam.view("-b", "-o", str(uns), str(d / "unsorted.sam"), catch_stdout=False)
    pysam.index(str(uns))
    assert_user_error(cli("tensors", "--bam", uns, "--ref", fa, "--out", out), out, "samtools sort")
    # truncated
    trunc = d / "trunc.bam"
    data = bam.read_bytes()
    trunc.write_bytes(data[: len(data) - 40])
    shutil.copy(str(bam) + ".bai", str(trunc) + ".bai")
    assert_user_error(cli("tensors", "--bam", trunc, "--ref", fa, "--out", out), out, str(trunc))
    # reads without sequence
    noseq = d / "noseq.sam"
    lines = (FIXTURES / "pileup.sam").read_text().splitlines()
    f = lines[5].split("\t")
    f[9], f[10] = "*", "*"
    lines[5] = "\t".join(f)
    noseq.write_text("\n".join(lines) + "\n")
    nb = d / "noseq.bam"
    pysam.view("-b", "-o", str(nb), str(noseq), catch_stdout=False)
    pysam.index(str(nb))
    assert_user_error(cli("tensors", "--bam", nb, "--ref", fa, "--out", out), out, "no sequence", f[0])
    # a CRAM whose reference is missing
    cram = d / "x.cram"
    pysam.view("-C", "-T", str(fa), "-o", str(cram), str(bam), catch_stdout=False)
    pysam.index(str(cram))
    assert_user_error(cli("tensors", "--bam", cram, "--ref", d / "missing.fa", "--out", out), out, "missing.fa")
    assert_user_error(cli("tensors", "--bam", bam, "--ref", fa, "--regions", "ctgZ:1-10", "--out", out), out,
                      "ctgZ")
    assert_user_error(cli("tensors", "--bam", bam, "--ref", fa, "--shard-index", "3", "--shard-count", "2",
                          "--out", out), out, "--shard-index")


def test_labels_from_giab_truth_find_every_truth_snv():
    if not (GIAB / "truth.chr20_10050001-10100000.vcf.gz").exists():
        pytest.skip(f"{GIAB} is absent (real data only in the team's CI)")
    import tempfile

    with tempfile.TemporaryDirectory() as t:
        run_tensors(TensorOptions(bam=str(GIAB / "NA12878_S1.chr20.10_10p1mb.bam"),
                                  ref=str(GIAB / "ucsc.hg19.chr20.unittest.fasta.gz"), out=f"{t}/o",
                                  regions=[str(GIAB / "truth_region.bed")],
                                  truth_vcf=str(GIAB / "truth.chr20_10050001-10100000.vcf.gz"),
                                  confident_bed=str(GIAB / "truth_region.bed")))
        sites, _, info = load_tensors(f"{t}/o")
        assert json.loads(Path(f"{t}/o/tensor_info.json").read_text())["labels"]
    snv = sites[(sites.kind == "SNV") & (sites.label_gt > 0)]
    assert len(snv) == 80  # every one of the 80 truth SNVs is a candidate
    assert (sites[sites.kind != "SNV"].label_gt > 0).sum() >= 10  # of 12 truth indels


def _tensors_of_sam(tmp_path: Path, name: str, lines: list[str], fa: Path) -> pd.DataFrame:
    """Sites of `oncorisk tensors` on a hand-made SAM (header and records in ``lines``), sorted and indexed."""
    sam, bam = tmp_path / f"{name}.sam", tmp_path / f"{name}.bam"
    sam.write_text("".join(lines))
    pysam.sort("-o", str(bam), str(sam), catch_stdout=False)
    pysam.index(str(bam))
    run_tensors(TensorOptions(bam=str(bam), ref=str(fa), out=str(tmp_path / "t")))
    return load_tensors(tmp_path / "t")[0]


def test_a_long_deletion_the_aligner_clipped_is_a_candidate(tmp_path):
    """A 40-bp deletion that no read aligns through: reads ending before it carry the bases after it as a trailing
    soft clip, reads starting after it the bases before it as a leading clip. The clips, found once and exactly in
    the reference beyond the alignment, make the deletion a candidate (DeepVariant finds such events by
    reassembly); a clip found twice (a repeat) or nowhere adds nothing."""
    import random

    rng = random.Random(7)
    ref = "".join(rng.choice("ACGT") for _ in range(600))
    fa = tmp_path / "del.fa"
    fa.write_text(">d\n" + ref + "\n")
    pysam.faidx(str(fa))
    d0, d1 = 300, 340  # deleted: ref[300:340], after the anchor at 0-based 299 (1-based 300)
    hap = ref[:d0] + ref[d1:]
    lines = [f"@HD\tVN:1.6\tSO:unsorted\n@SQ\tSN:d\tLN:{len(ref)}\n"]
    for k in range(6):  # trailing clips: aligned up to the deletion, then 15-30 clipped bases
        clip = 15 + 3 * k
        start = d0 - (100 - clip)
        seq = hap[start:start + 100]
        lines.append(f"t{k}\t{16 * (k % 2)}\td\t{start + 1}\t60\t{100 - clip}M{clip}S\t*\t0\t0\t{seq}\t{'I' * 100}\n")
    for k in range(6):  # leading clips: the bases before the deletion, then aligned from its end
        clip = 12 + 3 * k
        hstart = d0 - clip
        seq = hap[hstart:hstart + 100]
        lines.append(f"l{k}\t{16 * (k % 2)}\td\t{d1 + 1}\t60\t{clip}S{100 - clip}M\t*\t0\t0\t{seq}\t{'I' * 100}\n")
    for k in range(10):  # reads of the reference haplotype through the site
        start = 220 + 8 * k
        lines.append(f"r{k}\t0\td\t{start + 1}\t60\t100M\t*\t0\t0\t{ref[start:start + 100]}\t{'I' * 100}\n")
    sites = _tensors_of_sam(tmp_path, "del", lines, fa)
    dels = sites[sites.kind == "DEL"]
    assert [(r.pos, r.ref, r.alt) for r in dels.itertuples()] == [(d0, ref[d0 - 1:d1], ref[d0 - 1])]
    row = dels.iloc[0]
    assert row.hap_alt >= 10 and row.hap_ref >= 5  # haplotype support: the clipped reads fit the deletion


D0, I0, INS = 300, 312, "GT"  # two events: ref[300:303] deleted (anchor 299); "GT" inserted after ref[311] (anchor 311)


def _two_event_bam(tmp_path: Path, name: str, cis: int, misaligned: int = 0, trans: int = 0) -> tuple[pd.DataFrame, str, Path]:
    """Sites of a hand-made BAM over a random 600-bp contig: ``cis`` reads carry both events in their CIGAR,
    ``misaligned`` more carry both but are aligned as one block (mismatches after the deletion, as aligners do near
    a read's end), ``trans`` reads carry the deletion only and as many the insertion only; 10 reference reads."""
    import random

    rng = random.Random(11)
    ref = "".join(rng.choice("ACGT") for _ in range(600))
    fa = tmp_path / f"{name}.fa"
    fa.write_text(">t\n" + ref + "\n")
    pysam.faidx(str(fa))
    both = ref[:D0] + ref[D0 + 3:I0] + INS + ref[I0:]
    a, b = D0 - 240, I0 - D0 - 3  # CIGAR lengths for a read starting at 240
    lines = [f"@HD\tVN:1.6\tSO:unsorted\n@SQ\tSN:t\tLN:{len(ref)}\n"]

    def read(name_, start, cigar, seq):
        lines.append(f"{name_}\t{16 * (len(lines) % 2)}\tt\t{start + 1}\t60\t{cigar}\t*\t0\t0\t{seq}\t{'I' * 100}\n")

    for k in range(cis):
        s0 = 240 + (k % 4) * 5
        read(f"c{k}", s0, f"{a - s0 + 240}M3D{b}M2I{100 - (a - s0 + 240) - b - 2}M", both[s0:s0 + 100])
    for k in range(misaligned):
        read(f"m{k}", 226 + 2 * k, "100M", both[226 + 2 * k:326 + 2 * k])
    deletion_only, insertion_only = ref[:D0] + ref[D0 + 3:], ref[:I0] + INS + ref[I0:]
    for k in range(trans):
        s0 = 240 + (k % 4) * 5
        read(f"d{k}", s0, f"{D0 - s0}M3D{100 - D0 + s0}M", deletion_only[s0:s0 + 100])
        read(f"i{k}", s0, f"{I0 - s0}M2I{98 - I0 + s0}M", insertion_only[s0:s0 + 100])
    for k in range(10):  # reads of the reference through both sites
        read(f"r{k}", 230 + 6 * k, "100M", ref[230 + 6 * k:330 + 6 * k])
    return _tensors_of_sam(tmp_path, name, lines, fa), ref, fa


def test_reads_carrying_two_nearby_events_support_both_after_realignment(tmp_path):
    """A 3-bp deletion and, 12 bases on, a 2-bp insertion on one haplotype. Four reads carry both in their CIGAR;
    eight reads of the same haplotype were aligned without gaps (mismatches to their end, as aligners do near a
    read's end). Realigned to the window's candidate haplotypes (the two events apart and together), every one
    of the twelve reads fits the haplotype with both events and supports both alleles, and the reads of the
    reference support the reference. Compared with single-allele haplotypes without gaps, the reads would carry
    the other event as mismatches and support neither well. The same reads carry both: one phase set.

    The eight ungapped reads show mismatches after the deletion, which the pileup counts as SNV candidates with up
    to 8 supporting reads each. Scored against each read's best haplotype with and without the SNV, those within JOIN
    bases of the window have no supporting read left, and every read that does not delete the base supports the
    reference."""
    from oncorisk.tensors.haplotype import JOIN

    sites, ref, _ = _two_event_bam(tmp_path, "two", cis=4, misaligned=8)
    indels = sites[sites.kind != "SNV"].set_index(["pos", "ref", "alt"])
    deletion = indels.loc[(D0, ref[D0 - 1:D0 + 3], ref[D0 - 1])]
    insertion = indels.loc[(I0, ref[I0 - 1], ref[I0 - 1] + INS)]
    for row in (deletion, insertion):
        assert row.hap_alt == 12 and row.hap_ref == 10, row
    assert deletion.hap_phase == insertion.hap_phase == D0  # named by the first allele's VCF position
    snvs = sites[sites.kind == "SNV"]
    assert (snvs.hap_phase == 0).all()
    near = snvs[snvs.pos <= I0 + JOIN]
    assert len(near) >= 10 and (near.alt_fwd + near.alt_rev >= 4).all()  # the pileup's artefacts
    assert (near.hap_alt == 0).all(), near
    away = near[(near.pos > D0 + 3) & (near.pos != I0)]  # not under the deletion nor at the insertion's anchor
    assert (away.hap_ref == away.depth).all(), away
    far = snvs[snvs.pos > I0 + JOIN + 1]  # beyond the window's reach: the pileup's counts
    assert (far.hap_alt == far.alt_fwd + far.alt_rev).all()


def test_both_alleles_of_a_two_allele_snv_near_an_indel_see_the_reference_reads(tmp_path):
    """Near a 3-bp deletion, one position carries two SNV alleles (8 reads each, one of them with the deletion too).
    Realigned, each allele's site counts its own 8 reads, and both count the same reference reads: every read of
    the reference that covers the position (the reference count belongs to the position, not to its first allele)."""
    import random

    rng = random.Random(5)
    ref = "".join(rng.choice("ACGT") for _ in range(600))
    fa = tmp_path / "tri.fa"
    fa.write_text(">t\n" + ref + "\n")
    pysam.faidx(str(fa))
    x = D0 + 10  # 0-based SNV position, 7 bases after the deletion
    a1, a2 = [b for b in "ACGT" if b != ref[x]][:2]
    lines = [f"@HD\tVN:1.6\tSO:unsorted\n@SQ\tSN:t\tLN:{len(ref)}\n"]
    for k in range(8):
        s0 = 240 + 3 * k
        hap = ref[:D0] + ref[D0 + 3:x] + a1 + ref[x + 1:]
        lines.append(f"d{k}\t{16 * (k % 2)}\tt\t{s0 + 1}\t60\t{D0 - s0}M3D{100 - D0 + s0}M\t*\t0\t0\t"
                     f"{hap[s0:s0 + 100]}\t{'I' * 100}\n")
        hap = ref[:x] + a2 + ref[x + 1:]
        lines.append(f"s{k}\t{16 * (k % 2)}\tt\t{s0 + 1}\t60\t100M\t*\t0\t0\t{hap[s0:s0 + 100]}\t{'I' * 100}\n")
    for k in range(10):
        s0 = 230 + 6 * k
        lines.append(f"r{k}\t{16 * (k % 2)}\tt\t{s0 + 1}\t60\t100M\t*\t0\t0\t{ref[s0:s0 + 100]}\t{'I' * 100}\n")
    sites = _tensors_of_sam(tmp_path, "tri", lines, fa)
    at = sites[(sites.kind == "SNV") & (sites.pos == x + 1)].set_index("alt")
    assert sorted(at.index) == sorted([a1, a2]), sites
    assert list(at.hap_alt[[a1, a2]]) == [8, 8], at
    assert list(at.hap_ref[[a1, a2]]) == [10, 10], at


@pytest.mark.parametrize("cis", [True, False])
def test_two_events_the_same_reads_carry_are_written_phased(tmp_path, cis):
    """Two het events that 12 reads carry together are written GT 0|1 with one PS; carried by different reads (6
    and 6, trans), they are written unphased 0/1 without PS."""
    sites, ref, fa = _two_event_bam(tmp_path, "p", cis=12 if cis else 0, trans=0 if cis else 6)
    indels = sites[sites.kind != "SNV"]
    assert len(indels) == 2 and list(indels.hap_phase) == ([D0, D0] if cis else [0, 0])
    out = tmp_path / "p.vcf.gz"
    res = cli("call", "--bam", tmp_path / "p.bam", "--ref", fa, "--model", "germline-illumina", "--min-qual", "0",
              "--out", out)
    assert res.returncode == 0, res.stderr
    recs = [r for r in pysam.VariantFile(str(out)) if r.pos in (D0, I0)]
    assert len(recs) == 2
    for r in recs:
        sample = r.samples[0]
        assert sample["GT"] == (0, 1), str(r)
        assert sample.phased == cis and (sample.get("PS") == D0 if cis else "PS" not in r.format), str(r)


def test_realignment_windows_join_close_loci_and_split_when_haplotypes_exceed_the_cap():
    """Loci less than JOIN bases apart share a window (their alleles are combined into haplotypes); a window whose
    combinations would exceed MAX_HAPLOTYPES is realigned locus by locus."""
    from oncorisk.tensors.haplotype import JOIN, MAX_HAPLOTYPES, _windows

    pos = np.array([100, 100, 100 + JOIN - 5, 400], dtype=np.int64)  # a 2-allele locus, one close by, one far
    ref_len = np.array([2, 1, 1, 3], dtype=np.int64)
    windows = [[list(locus) for locus in w] for w in _windows(pos, ref_len)]
    assert windows == [[[0, 1], [2]], [[3]]]  # (2 + 1) x (1 + 1) = 6 haplotypes: one window
    many = np.arange(5, dtype=np.int64) * 5 + 100  # five one-allele loci 5 bases apart: 2^5 = 32 haplotypes
    assert 2 ** 5 > MAX_HAPLOTYPES
    assert [[list(locus) for locus in w] for w in _windows(many, np.ones(5, dtype=np.int64))] == [[[k]] for k in range(5)]
