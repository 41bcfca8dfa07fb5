"""Sequencing-error profiles: fitted from a real BAM, shipped as small JSON files, used by the read simulator.

A profile holds, per read (1 or 2) and cycle, the distribution of base qualities; the empirical mismatch
rate at each base quality; the substitution matrix (read orientation) per read; the indel-error rate per
homopolymer run length; the MAPQ distribution and the duplicate rate. Sites that look like real variants
(in a truth VCF, or with >= 15% of reads disagreeing with the reference) are left out of the error counts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pysam

from oncorisk.errors import UserError
from oncorisk.resources import resource_path
from oncorisk.simulate.sequence import BASE_CODE, run_table

MAX_RUN = 12  # homopolymer lengths >= MAX_RUN share one bin
MAX_QUAL = 45
VARIANT_FRACTION = 0.15  # a site where this fraction of reads disagree is treated as a real variant


@dataclass
class ErrorProfile:
    """A sequencing-error profile (see module docstring)."""

    name: str
    read_length: int
    quality_cdf: np.ndarray  # (2 reads, cycles, MAX_QUAL + 1) cumulative distribution of base quality
    mismatch_rate: np.ndarray  # (MAX_QUAL + 1,) substitution probability at each quality
    substitution: np.ndarray  # (2 reads, 4 true bases, 4 read bases), rows sum to 1 (diagonal 0)
    indel_rate: np.ndarray  # (MAX_RUN + 1,) indel-error probability per read per run of length L
    insertion_fraction: float
    mapq_values: np.ndarray
    mapq_probs: np.ndarray
    duplicate_rate: float
    source: dict

    @classmethod
    def load(cls, name_or_path: str) -> "ErrorProfile":
        """Load a bundled profile by name (resources/error_profiles/NAME.json) or a JSON file path."""
        path = Path(name_or_path)
        if not path.suffix:
            path = resource_path("error_profiles", f"{name_or_path}.json")
        if not path.is_file():
            raise UserError(
                f"simulate.error_profile: bad value {name_or_path!r}: no such profile; use a bundled name "
                f"(e.g. illumina-na12878) or a JSON written by 'oncorisk fit-error-profile'"
            )
        d = json.loads(path.read_text())
        return cls(
            name=d["name"], read_length=d["read_length"],
            quality_cdf=np.cumsum(np.array(d["quality_pmf"], dtype=float), axis=2),
            mismatch_rate=np.array(d["mismatch_rate_by_quality"], dtype=float),
            substitution=np.array(d["substitution_matrix"], dtype=float),
            indel_rate=np.array(d["indel_rate_by_run_length"], dtype=float),
            insertion_fraction=d["insertion_fraction"],
            mapq_values=np.array(d["mapq"]["values"], dtype=int), mapq_probs=np.array(d["mapq"]["probs"], dtype=float),
            duplicate_rate=d["duplicate_rate"], source=d["source"],
        )


def _variant_mask(truth_vcfs: list[str], contig: str, start: int, end: int) -> np.ndarray:
    mask = np.zeros(end - start, dtype=bool)
    for truth_vcf in truth_vcfs:
        with pysam.VariantFile(truth_vcf) as vf:
            for rec in vf.fetch(contig, start, end):
                a, b = max(rec.start - 10, start), min(rec.stop + 10, end)
                mask[a - start : b - start] = True
    return mask


def measure_errors(bam_path: str, fasta_path: str, region: str, truth_vcf: str | list[str] | None = None,
                   min_mapq: int = 20, max_reads: int | None = None) -> dict:
    """Count base qualities, mismatches and indel errors of the reads of one region.

    Steps: every usable read's aligned bases and indels are tallied (``_Tally.add``); sites where many reads
    disagree with the reference, or that a truth VCF names, are then treated as real variants, not errors
    (``_substitution_counts``, ``_indel_error_counts``).

    Args:
        bam_path: indexed BAM.
        fasta_path: its reference (plain or bgzipped, indexed).
        region: ``contig:start-end`` (1-based, inclusive).
        truth_vcf: optional truth VCF(s); their sites (+-10 bp) are not counted as errors.
        min_mapq: reads below this MAPQ are skipped for error counting.
        max_reads: stop after this many reads (None: all).
    Returns:
        raw count arrays (see ``profile_from_counts``) and summary rates.
    """
    contig, span = region.split(":")
    start, end = (int(x.replace(",", "")) for x in span.split("-"))
    start -= 1
    from oncorisk.genome.fasta import open_reference

    with open_reference(fasta_path) as fa:
        ref = np.frombuffer(fa.fetch(contig, start, end).upper().encode(), dtype=np.uint8)
    truth_vcfs = [truth_vcf] if isinstance(truth_vcf, str) else list(truth_vcf or [])
    mask = _variant_mask(truth_vcfs, contig, start, end)
    tally = _Tally(ref, start)
    n_reads = n_dups = 0
    mapq_counts: dict[int, int] = {}
    with pysam.AlignmentFile(bam_path) as bam:
        for read in bam.fetch(contig, start, end):
            if read.is_unmapped or read.is_secondary or read.is_supplementary or read.is_qcfail:
                continue
            n_reads += 1
            mapq_counts[read.mapping_quality] = mapq_counts.get(read.mapping_quality, 0) + 1
            if read.is_duplicate:
                n_dups += 1
                continue
            if read.mapping_quality < min_mapq or read.query_qualities is None:
                continue
            if max_reads and n_reads > max_reads:
                break
            tally.add(read)
    variant_site = mask | (tally.site_mism >= np.maximum(2, VARIANT_FRACTION * tally.site_depth))
    base_by_qual, mism_by_qual, subs = _substitution_counts(tally, variant_site)
    indel_by_run, n_ins, n_del = _indel_error_counts(tally, mask)
    return dict(
        region=region, reads=n_reads, duplicates=n_dups, read_length=tally.read_length,
        qual_counts=tally.qual_counts[:, :tally.read_length], base_by_qual=base_by_qual, mism_by_qual=mism_by_qual,
        substitutions=subs, indel_by_run=indel_by_run, run_exposure=tally.run_exposure, insertions=n_ins,
        deletions=n_del, mapq_counts=mapq_counts,
        mismatch_rate=float(mism_by_qual.sum() / max(base_by_qual.sum(), 1)),
        indel_error_rate=float((n_ins + n_del) / max(base_by_qual.sum(), 1)),
    )


class _Tally:
    """Per-region accumulators of ``measure_errors``: base qualities by cycle, per-site depth and mismatches,
    indel events, homopolymer-run exposure, and each read's aligned bases (kept until variant sites are known)."""

    def __init__(self, ref: np.ndarray, start: int):
        self.start, self.n = start, len(ref)
        self.refc = BASE_CODE[ref]
        self.run_starts, self.run_lengths = run_table(ref)
        self.run_of = np.repeat(np.arange(len(self.run_starts)), self.run_lengths)
        self.run_bins = np.minimum(self.run_lengths, MAX_RUN)
        # prefix counts of runs per length bin, to count runs spanned by a read in O(1)
        self.prefix = np.zeros((MAX_RUN + 1, len(self.run_starts) + 1), dtype=np.int64)
        for L in range(1, MAX_RUN + 1):
            self.prefix[L, 1:] = np.cumsum(self.run_bins == L)
        self.qual_counts = np.zeros((2, 512, MAX_QUAL + 1), dtype=np.int64)
        self.site_depth = np.zeros(self.n, dtype=np.int64)
        self.site_mism = np.zeros(self.n, dtype=np.int64)
        self.indel_events: dict[tuple[int, str], int] = {}
        self.run_exposure = np.zeros(MAX_RUN + 1, dtype=np.int64)
        self.read_length = 0
        self.per_read_mism: list[tuple] = []

    def add(self, read) -> None:
        start, n, refc = self.start, self.n, self.refc
        rn = 1 if read.is_read2 else 0
        quals = np.asarray(read.query_qualities, dtype=np.int64).clip(0, MAX_QUAL)
        self.read_length = max(self.read_length, len(quals))
        seq = BASE_CODE[np.frombuffer(read.query_sequence.encode(), dtype=np.uint8)]
        qpos = 0
        rpos = read.reference_start
        for op, length in read.cigartuples:
            if op in (0, 7, 8):
                a, b = rpos - start, rpos - start + length
                lo, hi = max(a, 0), min(b, n)
                if lo < hi:
                    q_idx = np.arange(qpos + lo - a, qpos + hi - a)
                    r_b = refc[lo:hi]
                    s_b = seq[q_idx]
                    ok = (r_b < 4) & (s_b < 4)
                    self.site_depth[lo:hi] += ok
                    mism = ok & (r_b != s_b)
                    self.site_mism[lo:hi] += mism
                    # quality by cycle over aligned, called bases: N calls and soft-clipped tails are
                    # low-quality bases that never become substitutions, so they are left out
                    cycles = (len(quals) - 1 - q_idx) if read.is_reverse else q_idx
                    np.add.at(self.qual_counts[rn], (cycles[ok], quals[q_idx][ok]), 1)
                    self.per_read_mism.append((rn, read.is_reverse, np.arange(lo, hi)[ok], r_b[ok], s_b[ok],
                                               quals[q_idx][ok]))
                qpos += length
                rpos += length
            elif op == 1:
                p = rpos - start
                if 0 <= p < n:
                    self.indel_events[(p, "I")] = self.indel_events.get((p, "I"), 0) + 1
                qpos += length
            elif op in (2, 3):
                p = rpos - start
                if 0 <= p < n:
                    self.indel_events[(p, "D")] = self.indel_events.get((p, "D"), 0) + 1
                rpos += length
            elif op == 4:
                qpos += length
        # runs fully spanned by the read (away from its ends) are exposed to indel errors
        a = np.searchsorted(self.run_starts, read.reference_start - start + 5)
        b = np.searchsorted(self.run_starts + self.run_lengths, read.reference_end - start - 5, side="right")
        if b > a:
            self.run_exposure += self.prefix[:, b] - self.prefix[:, a]


def _substitution_counts(tally: _Tally, variant_site: np.ndarray):
    """(bases by quality, mismatches by quality, substitutions by read and sequencer orientation) away from
    variant sites."""
    base_by_qual = np.zeros(MAX_QUAL + 1, dtype=np.int64)
    mism_by_qual = np.zeros(MAX_QUAL + 1, dtype=np.int64)
    subs = np.zeros((2, 4, 4), dtype=np.int64)
    for rn, rev, pos, r_b, s_b, q in tally.per_read_mism:
        keep = ~variant_site[pos]
        r_b, s_b, q = r_b[keep], s_b[keep], q[keep]
        np.add.at(base_by_qual, q, 1)
        mism = r_b != s_b
        np.add.at(mism_by_qual, q[mism], 1)
        if rev:  # read orientation: the sequencer saw the complement
            r_b, s_b = 3 - r_b, 3 - s_b
        np.add.at(subs[rn], (r_b[mism], s_b[mism]), 1)
    return base_by_qual, mism_by_qual, subs


def _indel_error_counts(tally: _Tally, mask: np.ndarray):
    """(indel errors by homopolymer-run length, insertions, deletions): events that are neither recurrent
    (a real indel) nor near a truth site."""
    n = tally.n
    indel_by_run = np.zeros(MAX_RUN + 1, dtype=np.int64)
    n_ins = n_del = 0
    for (p, kind), count in tally.indel_events.items():
        depth = max(tally.site_depth[min(p, n - 1)], 1)
        lo, hi = max(0, p - 10), min(n, p + 10)
        if count >= max(2, VARIANT_FRACTION * depth) or mask[lo:hi].any():
            continue  # a real indel, not an error
        indel_by_run[tally.run_bins[tally.run_of[min(p, n - 1)]]] += count
        n_ins += count if kind == "I" else 0
        n_del += count if kind == "D" else 0
    return indel_by_run, n_ins, n_del


def profile_from_counts(counts: dict, name: str, source: dict) -> dict:
    """Turn ``measure_errors`` counts into a smoothed, JSON-ready profile."""
    qc = counts["qual_counts"].astype(float) + 1e-9
    pmf = qc / qc.sum(axis=2, keepdims=True)
    # mismatch rate per quality, with a Phred prior for sparsely observed qualities
    prior_n = 2000.0
    phred = 10 ** (-np.arange(MAX_QUAL + 1) / 10)
    rate = (counts["mism_by_qual"] + prior_n * phred) / (counts["base_by_qual"] + prior_n)
    subs = counts["substitutions"].astype(float) + 1.0
    for r in range(2):
        np.fill_diagonal(subs[r], 0)
        subs[r] /= subs[r].sum(axis=1, keepdims=True)
    # indel-error rate per run length: log-linear fit in L, so long runs are not left to a handful of reads
    exp_ = counts["run_exposure"][1:].astype(float)
    ev = counts["indel_by_run"][1:].astype(float)
    L = np.arange(1, MAX_RUN + 1)
    ok = exp_ > 0
    w = np.sqrt(ev[ok] + 0.5)
    coef = np.polyfit(L[ok], np.log((ev[ok] + 0.5) / exp_[ok]), 1, w=w)
    fitted = np.exp(np.polyval(coef, L))
    indel_rate = np.concatenate(([0.0], np.minimum(fitted, 0.05)))
    mq = counts["mapq_counts"]
    values = sorted(mq)
    probs = np.array([mq[v] for v in values], dtype=float)
    total_events = counts["insertions"] + counts["deletions"]
    return dict(
        name=name, format_version=1, read_length=int(counts["read_length"]), source=source,
        quality_pmf=np.round(pmf, 5).tolist(),
        mismatch_rate_by_quality=[float(f"{x:.4g}") for x in rate],
        substitution_matrix=np.round(subs, 4).tolist(),
        indel_rate_by_run_length=[float(f"{x:.4g}") for x in indel_rate],
        insertion_fraction=round(counts["insertions"] / total_events, 3) if total_events else 0.5,
        mapq=dict(values=values, probs=np.round(probs / probs.sum(), 5).tolist()),
        duplicate_rate=round(counts["duplicates"] / max(counts["reads"], 1), 4),
        observed=dict(mismatch_rate=counts["mismatch_rate"], indel_error_rate=counts["indel_error_rate"],
                      indel_events_by_run_length=counts["indel_by_run"].tolist(),
                      runs_spanned_by_run_length=counts["run_exposure"].tolist()),
    )


def fit_error_profile(bam: str, fasta: str, region: str, out: str, name: str, truth_vcf: str | None = None) -> dict:
    """Fit a profile from a real BAM and write it as JSON (the ``oncorisk fit-error-profile`` command)."""
    from oncorisk.io.atomic import atomic_path

    counts = measure_errors(bam, fasta, region, truth_vcf)
    source = dict(bam=Path(bam).name, reference=Path(fasta).name, region=region,
                  truth_vcf=Path(truth_vcf).name if truth_vcf else None, reads=counts["reads"])
    profile = profile_from_counts(counts, name, source)
    with atomic_path(out) as tmp:
        tmp.write_text(json.dumps(profile, indent=None, separators=(",", ":")) + "\n")
    return profile
