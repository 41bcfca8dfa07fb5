"""The demo cohort simulator: deterministic, realistic, and its BAMs carry exactly its truth at the intended AFs."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pysam
import pytest

from conftest import needs_tool, simulate
from oncorisk.resources import resource_path
from oncorisk.simulate.sequence import GENETIC_CODE, revcomp_str
from readcount import allele_counts

PANEL_MIN_DEPTH = 15


def _records(vcf: Path):
    with pysam.VariantFile(str(vcf)) as vf:
        return list(vf)


def _in_bed(bed: Path):
    intervals = [line.split("\t") for line in bed.read_text().splitlines()]
    by_contig: dict[str, list] = {}
    for c, a, b in intervals:
        by_contig.setdefault(c, []).append((int(a), int(b)))
    return lambda c, p: any(a <= p < b for a, b in by_contig.get(c, []))


@pytest.mark.slow  # over 10 s: the full suite (CI) runs it; `pytest -m "not slow"` stays fast
def test_same_seed_gives_identical_bytes(tmp_path):
    a = simulate(tmp_path / "a", seed=5, patients=4, bam_patients=1, tumor_coverage=8, normal_coverage=4)
    b = simulate(tmp_path / "b", seed=5, patients=4, bam_patients=1, tumor_coverage=8, normal_coverage=4)
    assert a["files"] == b["files"]
    assert any(name.endswith(".bam") for name in a["files"])
    for name in a["files"]:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    c = simulate(tmp_path / "c", seed=6, patients=4, bam_patients=1, tumor_coverage=8, normal_coverage=4)
    assert c["files"]["reference.fa"] != a["files"]["reference.fa"]


def test_cohort_layout_and_sample_sheet(small_cohort):
    from oncorisk.config import load_samples

    samples = load_samples(small_cohort / "samples.tsv", "somatic")
    assert len(samples) == 12
    assert [s.has_bam for s in samples] == [True] * 2 + [False] * 10
    from oncorisk.fusion.bags import read_slide

    for s in samples:
        slide = read_slide(s.image_embedding)  # a CLAM h5_files/<slide>.h5 bag
        assert s.image_embedding.endswith(f"embeddings/h5_files/{s.sample}.h5")
        assert 150 <= slide.features.shape[0] <= 450 and slide.features.shape[1] == 256
        assert slide.features.dtype == np.float32 and slide.coords.shape == (len(slide.features), 2)
        assert len({tuple(c) for c in slide.coords}) == len(slide.coords) and (slide.coords % 256 == 0).all()
        assert s.label in (0, 1) and s.event in (0, 1) and s.time > 0
    assert (small_cohort / "reference.fa.fai").is_file()


@needs_tool("samtools")
def test_bams_pass_samtools_quickcheck(small_cohort):
    bams = sorted(str(p) for p in (small_cohort / "bams").glob("*.bam"))
    assert len(bams) == 4
    res = subprocess.run(["samtools", "quickcheck", "-v", *bams], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


def test_reference_has_realistic_features(small_cohort):
    fa = pysam.FastaFile(str(small_cohort / "reference.fa"))
    assert len(fa.references) >= 2 and 1.9e6 <= sum(fa.lengths) <= 2.1e6
    seq = "".join(fa.fetch(c) for c in fa.references)
    windows = [seq[i : i + 10_000] for i in range(0, len(seq) - 10_000, 10_000)]
    gc = np.array([(w.count("G") + w.count("C")) / len(w) for w in windows])
    assert gc.std() > 0.03 and 0.3 < gc.mean() < 0.6  # GC isochores
    assert len(re.findall(r"A{10,}|T{10,}", seq)) > 50  # homopolymers
    assert len(re.findall(r"((?:[ACGT]{2,4}))\1{5,}", seq)) > 50  # short tandem repeats
    observed_over_expected_cpg = seq.count("CG") * len(seq) / (seq.count("C") * seq.count("G"))
    assert observed_over_expected_cpg < 0.6  # CpG depletion (dense random coding sequence keeps it above 0.25)


def _gtf_transcripts(gtf: Path) -> dict:
    tx: dict[str, dict] = {}
    for line in gtf.read_text().splitlines():
        if line.startswith("#"):
            continue
        f = line.split("\t")
        name = re.search(r'gene_name "([^"]+)"', f[8]).group(1)
        t = tx.setdefault(name, dict(contig=f[0], strand=f[6], exon=[], CDS=[], stop_codon=[], start_codon=[]))
        if f[2] in t:
            t[f[2]].append((int(f[3]) - 1, int(f[4])))
    return tx


def test_gtf_genes_translate_and_splice(small_cohort):
    fa = pysam.FastaFile(str(small_cohort / "reference.fa"))
    tx = _gtf_transcripts(small_cohort / "genes.gtf")
    pathways = [line.split("\t") for line in resource_path("pathways", "oncogenic_pathways.gmt").read_text().splitlines()]
    assert len(tx) >= 60 and len(pathways) >= 6
    assert {g for p in pathways for g in p[2:]} <= set(tx)
    assert {t["strand"] for t in tx.values()} == {"+", "-"}
    for name, t in tx.items():
        assert len(t["exon"]) >= 2, name
        cds = sorted(t["CDS"] + t["stop_codon"])
        seq = "".join(fa.fetch(t["contig"], a, b) for a, b in cds)
        if t["strand"] == "-":
            seq = revcomp_str(seq)
        protein = "".join(GENETIC_CODE[seq[i : i + 3]] for i in range(0, len(seq) - 2, 3))
        assert len(seq) % 3 == 0 and protein[0] == "M" and protein[-1] == "*" and "*" not in protein[:-1], name
        exons = sorted(t["exon"])
        for (a1, b1), (a2, b2) in zip(exons, exons[1:]):
            donor_acceptor = fa.fetch(t["contig"], b1, b1 + 2) + fa.fetch(t["contig"], a2 - 2, a2)
            assert donor_acceptor == ("GTAG" if t["strand"] == "+" else "CTAC"), (name, donor_acceptor)


def test_hotspot_codons_carry_the_real_reference_amino_acid(small_cohort):
    fa = pysam.FastaFile(str(small_cohort / "reference.fa"))
    tx = _gtf_transcripts(small_cohort / "genes.gtf")
    for gene, codon, aa in (("KRAS", 12, "G"), ("BRAF", 600, "V"), ("PIK3CA", 1047, "H"), ("EGFR", 858, "L")):
        t = tx[gene]
        cds = sorted(t["CDS"])
        seq = "".join(fa.fetch(t["contig"], a, b) for a, b in cds)
        if t["strand"] == "-":
            seq = revcomp_str(seq)
        assert GENETIC_CODE[seq[3 * codon - 3 : 3 * codon]] == aa, gene
    hotspots = (small_cohort / "hotspots.tsv").read_text().splitlines()
    assert any("\tKRAS\tMissense_Mutation\tG12D\t" in h for h in hotspots)


def test_bams_carry_somatic_truth_at_intended_allele_fractions(small_cohort):
    in_panel = _in_bed(small_cohort / "panel.bed")
    observed, expected, n_checked = [], [], 0
    for pid in ("P0001", "P0002"):
        tumour = pysam.AlignmentFile(str(small_cohort / "bams" / f"{pid}.tumor.bam"))
        normal = pysam.AlignmentFile(str(small_cohort / "bams" / f"{pid}.normal.bam"))
        for rec in _records(small_cohort / "truth" / f"{pid}.somatic.vcf.gz"):
            alt, depth = allele_counts(tumour, rec.chrom, rec.start, rec.ref, rec.alts[0])
            n_alt, n_depth = allele_counts(normal, rec.chrom, rec.start, rec.ref, rec.alts[0])
            vaf = rec.info["EXPECTED_VAF"][0]
            assert 0.05 - 1e-6 <= vaf <= 0.5
            if not in_panel(rec.chrom, rec.start) or depth < PANEL_MIN_DEPTH:
                continue
            n_checked += 1
            z = (alt - depth * vaf) / np.sqrt(depth * vaf * (1 - vaf))
            assert abs(z) < 4.5, (pid, rec.chrom, rec.pos, alt, depth, vaf)
            assert n_alt <= 1, (pid, rec.pos, n_alt, n_depth)  # somatic: absent from the normal
            observed.append(alt / depth)
            expected.append(vaf)
    assert n_checked >= 15
    assert abs(np.mean(observed) - np.mean(expected)) < 0.03
    assert np.corrcoef(observed, expected)[0, 1] > 0.7


def test_bams_carry_germline_truth_in_both_samples(small_cohort):
    in_panel = _in_bed(small_cohort / "panel.bed")
    for kind in ("tumor", "normal"):
        bam = pysam.AlignmentFile(str(small_cohort / "bams" / f"P0001.{kind}.bam"))
        het, hom = [], []
        for rec in _records(small_cohort / "truth" / "P0001.germline.vcf.gz"):
            if not in_panel(rec.chrom, rec.start):
                continue
            alt, depth = allele_counts(bam, rec.chrom, rec.start, rec.ref, rec.alts[0])
            if depth < PANEL_MIN_DEPTH:
                continue
            (hom if sum(rec.samples[0]["GT"]) == 2 else het).append(alt / depth)
        assert len(het) > 20 and len(hom) > 5
        assert 0.42 < np.mean(het) < 0.58 and min(het) > 0.15
        assert np.mean(hom) > 0.95


def test_bams_carry_no_variant_beyond_the_truth(small_cohort):
    """Every site where >= 20% of reads disagree with the reference is a truth variant (+- the indel's extent)."""
    fa = pysam.FastaFile(str(small_cohort / "reference.fa"))
    truth = set()
    for name in ("P0001.germline.vcf.gz", "P0001.somatic.vcf.gz"):
        for rec in _records(small_cohort / "truth" / name):
            truth.update((rec.chrom, p) for p in range(rec.start - 1, rec.stop + 2))
    bam = pysam.AlignmentFile(str(small_cohort / "bams" / "P0001.tumor.bam"))
    suspicious = []
    for line in (small_cohort / "panel.bed").read_text().splitlines()[:200]:
        c, a, b = line.split("\t")
        a, b = int(a), int(b)
        counts = np.array(bam.count_coverage(c, a, b, quality_threshold=0, read_callback="all"))
        ref = fa.fetch(c, a, b).upper()
        ref_idx = np.array(["ACGT".index(x) for x in ref])
        depth = counts.sum(axis=0)
        nonref = depth - counts[ref_idx, np.arange(len(ref))]
        frac = np.where(depth >= 10, nonref / np.maximum(depth, 1), 0)
        for i in np.flatnonzero(frac >= 0.2):
            if (c, a + i) not in truth:
                suspicious.append((c, a + i, frac[i]))
        indels: dict[tuple, int] = {}
        for read in bam.fetch(c, a, b):
            if read.is_duplicate:
                continue
            pos = read.reference_start
            for op, length in read.cigartuples:
                if op in (1, 2) and a <= pos < b:
                    indels[(pos, op, length)] = indels.get((pos, op, length), 0) + 1
                if op in (0, 2):
                    pos += length
        for (pos, op, length), n in indels.items():
            if n >= 3 and n >= 0.2 * max(depth[pos - a], 1) and (c, pos) not in truth:
                suspicious.append((c, pos, "INS" if op == 1 else "DEL", length, n))
    assert not suspicious, suspicious[:10]


def test_null_mode_has_no_drivers(tmp_path):
    simulate(tmp_path / "null", seed=3, patients=40, bam_patients=0, null=True)
    rows = [line.split("\t") for line in (tmp_path / "null" / "truth" / "patients.tsv").read_text().splitlines()]
    header, rows = rows[0], rows[1:]
    col = {c: i for i, c in enumerate(header)}
    assert all(r[col["hit_PI3K-Akt"]] == "0" and r[col["hit_MAPK"]] == "0" and r[col["driver_genes"]] == "-" for r in rows)
    for path in (tmp_path / "null" / "truth").glob("*.somatic.vcf.gz"):
        assert not any("DRIVER" in r.info for r in _records(path))
    model = json.loads((tmp_path / "null" / "truth" / "latent_model.json").read_text())
    assert model["null"] is True


def test_labels_follow_the_documented_latent_model(tmp_path):
    simulate(tmp_path / "big", seed=4, patients=400, bam_patients=0)
    rows = [line.split("\t") for line in (tmp_path / "big" / "truth" / "patients.tsv").read_text().splitlines()]
    col = {c: i for i, c in enumerate(rows[0])}
    g = np.array([float(r[col["genomic_score"]]) for r in rows[1:]])
    z = np.array([float(r[col["imaging_latent"]]) for r in rows[1:]])
    y = np.array([int(r[col["label"]]) for r in rows[1:]])
    # both the genomic state and the imaging signal drive risk
    assert y[g >= 1].mean() - y[g == 0].mean() > 0.2
    assert y[z > 0].mean() - y[z <= 0].mean() > 0.2
    # the slide carries the imaging latent in its tumour focus only: a least-squares read-out of the focus
    # patches' mean recovers it, the same read-out of the other patches' mean does not
    from oncorisk.fusion.bags import read_slide

    focus = {}
    for line in (tmp_path / "big" / "truth" / "signal_patches.tsv").read_text().splitlines()[1:]:
        sample, patch = line.split("\t")
        focus.setdefault(sample, []).append(int(patch))
    inside, outside = [], []
    for r in rows[1:]:
        f = read_slide(tmp_path / "big" / "embeddings" / "h5_files" / f"{r[0]}.h5").features
        keep = np.zeros(len(f), bool)
        keep[focus[r[0]]] = True
        assert 0.01 <= keep.mean() <= 0.07  # the focus is a few percent of the slide
        inside.append(f[keep].mean(0))
        outside.append(f[~keep].mean(0))
    for emb, lo, hi in ((np.array(inside), 0.8, 1.0), (np.array(outside), -1.0, 0.3)):
        coef, *_ = np.linalg.lstsq(emb[:300], z[:300], rcond=None)
        assert lo < np.corrcoef(emb[300:] @ coef, z[300:])[0, 1] < hi
    # drivers sit in the driver pathways' genes, as hotspots or truncations
    drivers = [r[col["driver_genes"]] for r in rows[1:] if r[col["driver_genes"]] != "-"]
    assert len(drivers) > 100
    catalogue = resource_path("genes", "cancer_genes.tsv").read_text()
    for genes in drivers:
        for gene in genes.split(","):
            assert re.search(rf"^{gene}\t\w+\t\d+\t(PI3K-Akt|MAPK)$", catalogue, re.M), gene


def test_called_vcfs_parse_and_carry_counts(small_cohort):
    vcfs = sorted((small_cohort / "vcfs").glob("*.vcf.gz"))
    assert len(vcfs) == 10
    n = 0
    for path in vcfs:
        for rec in _records(path):
            t = rec.samples["TUMOR"]
            assert t["AD"][1] >= 3 and t["DP"] == sum(t["AD"])
            n += 1
    assert n > 50


@needs_tool("bcftools")
def test_truth_vcfs_are_normalised(small_cohort):
    ref = str(small_cohort / "reference.fa")
    for vcf in sorted((small_cohort / "truth").glob("P000[12].*.vcf.gz")):
        res = subprocess.run(["bcftools", "norm", "--check-ref", "e", "-f", ref, str(vcf), "-Ov", "-o", "/dev/null"],
                             capture_output=True, text=True)
        assert res.returncode == 0, res.stderr
        assert re.search(r"total/split/realigned/skipped:\s+\d+/0/0/0", res.stderr), res.stderr


def test_failed_simulation_leaves_no_partial_output(tmp_path):
    from oncorisk.errors import UserError

    with pytest.raises(UserError, match="genome_size"):
        simulate(tmp_path / "tiny", seed=1, genome_size=300_000)
    assert not (tmp_path / "tiny").exists()
    assert not [p for p in tmp_path.iterdir()]


def test_cli_simulate_rejects_bad_settings(tmp_path):
    res = subprocess.run(["oncorisk", "simulate", "--out", str(tmp_path / "x"), "--set", "capture=exome"],
                         capture_output=True, text=True)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "simulate.capture: bad value 'exome': accepted: panel, wgs" in res.stderr
    assert not (tmp_path / "x").exists()
    shutil.rmtree(tmp_path, ignore_errors=True)


@needs_tool("samtools")
def test_nm_and_md_tags_agree_with_samtools_calmd(small_cohort):
    """samtools calmd recomputes NM/MD from the reference and reports every read whose tags differ."""
    for kind in ("tumor", "normal"):
        bam = small_cohort / "bams" / f"P0001.{kind}.bam"
        res = subprocess.run(["samtools", "calmd", str(bam), str(small_cohort / "reference.fa")],
                             capture_output=True, text=True)
        assert res.returncode == 0
        assert "different" not in res.stderr, res.stderr[:500]
        assert res.stdout.count("\tMD:Z:") > 10_000
