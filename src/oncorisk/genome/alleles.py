"""Allele representation, in one place: trimming a VCF allele pair (annotation), left-aligning an indel
(candidates, truth and panel keys), and splitting and left-aligning a VCF record's allele into keys.

Every stage that compares or annotates alleles uses these, so one event written two ways (a shifted indel in
a repeat, a padded MNV) gets the same key everywhere.
"""

from __future__ import annotations

import numpy as np
import pysam


def trim_alleles(pos0: int, ref: str, alt: str) -> tuple[int, str, str]:
    """Trim the shared prefix, then the shared suffix, of a VCF allele pair.

    Returns:
        (start, ref, alt): ``start`` is the 0-based first affected base; for an insertion ``ref`` is empty and
        the inserted bases go between ``start - 1`` and ``start``.
    """
    k = 0
    while k < min(len(ref), len(alt)) and ref[k] == alt[k]:
        k += 1
    ref, alt, start = ref[k:], alt[k:], pos0 + k
    j = 0
    while j < min(len(ref), len(alt)) and ref[-1 - j] == alt[-1 - j]:
        j += 1
    if j:
        ref, alt = ref[: len(ref) - j], alt[: len(alt) - j]
    return start, ref, alt


def left_align_indel(ref: np.ndarray, offset: int, anchor: int, kind: str, seq: str) -> tuple[int, str, str]:
    """VCF-style (anchor, REF, ALT) of an insertion of ``seq`` or a deletion of ``seq``, shifted left.

    ``ref`` holds the reference from 0-based position ``offset``; ``anchor`` is the 0-based reference
    base before the indel.
    """
    while anchor - offset > 0 and ref[anchor - offset] == ord(seq[-1]):
        seq = chr(ref[anchor - offset]) + seq[:-1]
        anchor -= 1
    base = chr(ref[anchor - offset])
    return (anchor, base, base + seq) if kind == "I" else (anchor, base + seq, base)


def left_align(seq: np.ndarray, pos: int, ref: str, alt: str, offset: int = 0) -> tuple[int, str, str]:
    """Left-align a simple insertion or deletion given in VCF form (one anchor base first; 0-based ``pos``) over
    ``seq``, the reference from 0-based ``offset`` (ASCII uint8); an allele pair of equal length is returned as it is."""
    if len(ref) == len(alt):
        return pos, ref, alt
    deleted = len(ref) > len(alt)
    return left_align_indel(seq, offset, pos, "D" if deleted else "I", ref[1:] if deleted else alt[1:])


def normalise_allele(fasta: pysam.FastaFile, contig: str, pos: int, ref: str, alt: str) -> list[tuple[int, str, str]]:
    """Split and left-align one REF/ALT pair (0-based ``pos``) into (pos, ref, alt) keys."""
    ref, alt = ref.upper(), alt.upper()
    if alt in ("*", ".", "<*>", "<NON_REF>") or alt.startswith("<") or "[" in alt or "]" in alt:
        return []
    if len(ref) == len(alt):
        return [(pos + i, r, a) for i, (r, a) in enumerate(zip(ref, alt)) if r != a]
    while len(ref) > 1 and len(alt) > 1 and ref[-1] == alt[-1]:  # common suffix
        ref, alt = ref[:-1], alt[:-1]
    while len(ref) > 1 and len(alt) > 1 and ref[0] == alt[0]:  # common prefix, keeping one anchor base
        ref, alt, pos = ref[1:], alt[1:], pos + 1
    if len(ref) > 1 and len(alt) > 1:
        return [(pos, ref, alt)]  # complex: kept as written
    lo = max(0, pos - 500)
    context = np.frombuffer(fasta.fetch(contig, lo, pos + 1).upper().encode(), dtype=np.uint8)
    return [left_align(context, pos, ref, alt, offset=lo)]
