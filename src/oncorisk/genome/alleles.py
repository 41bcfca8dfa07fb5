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
    start, r, a = trim_alleles(pos, ref, alt)
    if r and a:
        return [(start, r, a)]  # complex: kept as written (trimmed)
    # a plain insertion or deletion, anchored on the base before it (also when the record's own first bases
    # differ, e.g. GAGT>AGT, the deletion of the G)
    lo = max(0, start - 1 - 500)
    context = np.frombuffer(fasta.fetch(contig, lo, start).upper().encode(), dtype=np.uint8)
    if start < 1 or len(context) < start - lo:
        return [(start, r, a)]  # at the contig's first base: no anchor
    base = chr(context[-1])
    return [left_align(context, start - 1, base + r, base + a, offset=lo)]


def overlapping_alleles(contig: np.ndarray, pos: np.ndarray, ref_len: np.ndarray) -> list[np.ndarray]:
    """Indices of alleles per locus: alleles on one contig whose REF spans ``[pos, pos + ref_len)`` overlap, or
    that share their anchor base, chained into one locus (an SNV under a deletion, +T/+TT/+TTT at a homopolymer).
    Loci come sorted by (contig, position), each with its indices sorted."""
    loci: list[list[int]] = []
    cur_contig, cur_end = None, -1
    for i in np.lexsort((pos, contig)) if len(pos) else []:
        if contig[i] != cur_contig or pos[i] >= cur_end:
            loci.append([])
            cur_contig, cur_end = contig[i], pos[i] + ref_len[i]
        loci[-1].append(int(i))
        cur_end = max(cur_end, pos[i] + ref_len[i])
    return [np.array(sorted(x), dtype=np.int64) for x in loci]
