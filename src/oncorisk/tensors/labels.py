"""Training labels for candidates from truth VCFs and a confident-region BED.

Truth alleles are normalised like candidates (multi-allelic records split, MNPs split into SNVs,
common prefix/suffix trimmed, indels left-aligned against the FASTA) before they are matched, so an
indel written two equivalent ways gets the same key.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pysam

from oncorisk.errors import UserError
from oncorisk.genome.alleles import normalise_allele

UNKNOWN = -1


def open_vcf(path: str | Path, what: str = "VCF") -> pysam.VariantFile:
    """Open a VCF/BCF, or stop with one line naming the file (``what`` says which role it plays)."""
    if not Path(path).is_file():
        raise UserError(f"{path}: {what} not found: give an existing VCF (.vcf, .vcf.gz or .bcf)")
    try:
        return pysam.VariantFile(str(path))
    except (OSError, ValueError) as exc:
        raise UserError(f"{path}: cannot read the {what} ({str(exc).splitlines()[0]}): give a valid VCF") from None


def genotype_class(gt: tuple | None, k: int) -> int:
    """Class of alternate allele ``k`` in a GT: 0 absent, 1 het, 2 hom-alt (1 when there is no usable GT)."""
    if not gt or any(g is None for g in gt):
        return 1
    n_alt = sum(g == k for g in gt)
    if n_alt == 0:
        return 0
    return 2 if n_alt == len(gt) and len(gt) > 1 else 1


def read_truth(path: str | Path, fasta: pysam.FastaFile, contig: str, start: int, end: int,
               sample: str | None = None) -> dict[tuple[int, str, str], int]:
    """Normalised truth alleles of ``contig:[start, end)`` -> genotype class (1 het, 2 hom-alt; 1 when no GT)."""
    try:
        vf = pysam.VariantFile(str(path))
    except (OSError, ValueError) as exc:
        raise UserError(f"{path}: cannot read the truth VCF ({exc}): give a bgzipped, tabix-indexed VCF") from None
    contigs = set(vf.header.contigs)
    if contigs and contig not in contigs:
        shown = ", ".join(sorted(contigs)[:5])
        raise UserError(f"{path}: contig {contig!r} of the reads is not in the truth VCF (it has {shown}...): "
                        f"rename the truth's contigs to match the BAM/FASTA (bcftools annotate --rename-chrs)")
    samples = list(vf.header.samples)
    if sample is not None and sample not in samples:
        raise UserError(f"{path}: sample {sample!r} not in the VCF (samples: {', '.join(samples) or 'none'}): "
                        f"name one of them")
    col = sample if sample is not None else (samples[-1] if samples else None)
    try:
        records = vf.fetch(contig, max(0, start - 1), end + 1) if vf.index is not None else \
            (r for r in vf if r.chrom == contig)
    except ValueError:
        records = iter(())
    out: dict[tuple[int, str, str], int] = {}
    for rec in records:
        gt = rec.samples[col].get("GT") if col is not None else None
        for k, alt in enumerate(rec.alts or (), start=1):
            cls = genotype_class(gt, k)
            if cls == 0:
                continue
            for key in normalise_allele(fasta, contig, rec.pos - 1, rec.ref, alt):
                if start <= key[0] < end:
                    out[key] = max(cls, out.get(key, 0))
    return out


def in_intervals(pos: np.ndarray, intervals: list[tuple[int, int]]) -> np.ndarray:
    """Whether each 0-based position lies in one of the sorted, merged intervals."""
    if not intervals:
        return np.zeros(len(pos), dtype=bool)
    starts = np.array([a for a, _ in intervals])
    ends = np.array([b for _, b in intervals])
    i = np.searchsorted(starts, pos, side="right") - 1
    return (i >= 0) & (pos < ends[np.maximum(i, 0)])


def label_sites(sites: pd.DataFrame, truth: dict, germline_truth: dict | None, confident: np.ndarray) -> pd.DataFrame:
    """Add ``label_gt`` (0 hom-ref, 1 het, 2 hom-alt) and, with ``germline_truth``, ``label_somatic``
    (0 not a variant, 1 germline, 2 somatic). Sites outside the confident regions get -1.

    Germline mode: ``truth`` is the sample's truth. Somatic mode: ``truth`` holds the somatic truth and
    ``germline_truth`` the germline one.
    """
    keys = list(zip(sites["pos"].astype(int), sites["ref"], sites["alt"]))
    if germline_truth is None:
        gt = np.array([truth.get(k, 0) for k in keys], dtype=np.int64)
        out = sites.assign(label_gt=np.where(confident, gt, UNKNOWN))
        return out
    germ = np.array([germline_truth.get(k, 0) for k in keys], dtype=np.int64)
    som = np.array([k in truth for k in keys])
    cls = np.where(som, 2, np.where(germ > 0, 1, 0))
    return sites.assign(label_gt=np.where(confident, germ, UNKNOWN), label_somatic=np.where(confident, cls, UNKNOWN))
