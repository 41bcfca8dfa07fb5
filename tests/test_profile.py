"""Sequencing-error profiles: the shipped one is reproducible from real reads, and the simulator reproduces it."""

from __future__ import annotations

import json

import numpy as np
import pysam

from conftest import REPO, needs_shared_data, SHARED_DATA
from oncorisk.resources import resource_path
from oncorisk.simulate.profile import ErrorProfile, fit_error_profile, measure_errors

GIAB = SHARED_DATA / "giab_hg001_chr20"


def test_bundled_profile_is_well_formed():
    p = ErrorProfile.load("illumina-na12878")
    assert p.quality_cdf.shape[0] == 2 and p.quality_cdf.shape[1] == p.read_length
    assert np.allclose(p.quality_cdf[..., -1], 1.0, atol=1e-3)
    assert np.allclose(p.substitution.sum(axis=2), 1.0, atol=1e-3)
    assert p.mismatch_rate[10] > p.mismatch_rate[25] > p.mismatch_rate[38]
    assert np.all(np.diff(p.indel_rate[1:]) > 0)  # longer homopolymers, more indel errors
    assert 0 < p.duplicate_rate < 0.2 and p.mapq_values[-1] == 60


def _region_of_panel(cohort) -> str:
    lines = (cohort / "panel.bed").read_text().splitlines()
    contig = lines[0].split("\t")[0]
    return f"{contig}:1-150000"


def test_simulated_reads_reproduce_the_profile(small_cohort):
    """Measure the simulated tumour BAM the way the profile was measured from NA12878: the rates must agree."""
    profile = json.loads(resource_path("error_profiles", "illumina-na12878.json").read_text())
    sim = measure_errors(str(small_cohort / "bams" / "P0001.tumor.bam"), str(small_cohort / "reference.fa"),
                         _region_of_panel(small_cohort),
                         [str(small_cohort / "truth" / f"P0001.{kind}.vcf.gz") for kind in ("germline", "somatic")])
    real = profile["observed"]
    assert 0.8 < sim["mismatch_rate"] / real["mismatch_rate"] < 1.25, (sim["mismatch_rate"], real["mismatch_rate"])
    assert 0.6 < sim["indel_error_rate"] / real["indel_error_rate"] < 1.6, (sim["indel_error_rate"], real)
    # quality-dependent substitutions: at each well-populated quality the simulated mismatch rate matches the profile
    rate = sim["mism_by_qual"] / np.maximum(sim["base_by_qual"], 1)
    for q in np.flatnonzero(sim["base_by_qual"] > 200_000):
        expected = profile["mismatch_rate_by_quality"][q]
        assert abs(rate[q] - expected) < 4 * np.sqrt(expected / sim["base_by_qual"][q]) + 0.3 * expected, q
    # cycle effect: late cycles have lower mean quality than early ones, on both reads
    qc = sim["qual_counts"]
    mean_q = (qc * np.arange(qc.shape[2])).sum(axis=2) / np.maximum(qc.sum(axis=2), 1)
    assert (mean_q[:, :20].mean(axis=1) > mean_q[:, -20:].mean(axis=1)).all()


def test_duplicates_and_pairs_are_flagged(small_cohort):
    bam = pysam.AlignmentFile(str(small_cohort / "bams" / "P0001.tumor.bam"))
    n = dup = proper = 0
    tlens = []
    for read in bam.fetch():
        n += 1
        dup += read.is_duplicate
        proper += read.is_proper_pair
        if read.is_read1 and read.template_length > 0:
            tlens.append(read.template_length)
    assert proper == n
    assert 0.03 < dup / n < 0.07  # the default 5% duplicate rate, on copies only
    assert 300 < np.mean(tlens) < 400 and 40 < np.std(tlens) < 80


@needs_shared_data("giab_hg001_chr20", "NA12878_S1.chr20.10_10p1mb.bam")
def test_shipped_profile_is_reproduced_by_its_recipe(tmp_path):
    """The documented command refits the shipped profile from NA12878 (to the last printed digit)."""
    out = tmp_path / "p.json"
    fit_error_profile(str(GIAB / "NA12878_S1.chr20.10_10p1mb.bam"), str(GIAB / "ucsc.hg19.chr20.unittest.fasta.gz"),
                      "chr20:10000000-10100000", str(out), "illumina-na12878",
                      str(GIAB / "truth.chr20_10050001-10100000.vcf.gz"))
    fitted = json.loads(out.read_text())
    shipped = json.loads((REPO / "resources" / "error_profiles" / "illumina-na12878.json").read_text())
    assert fitted.keys() == shipped.keys()
    for key in fitted:
        if isinstance(fitted[key], (dict, str)) and key != "mapq":
            assert fitted[key] == shipped[key], key
        else:  # numeric arrays: equal up to the last printed digit (numpy versions may differ in CI)
            a = np.array(fitted[key] if key != "mapq" else fitted[key]["probs"], dtype=float)
            b = np.array(shipped[key] if key != "mapq" else shipped[key]["probs"], dtype=float)
            assert np.allclose(a, b, rtol=1e-3, atol=1e-5), key
