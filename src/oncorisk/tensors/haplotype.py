"""Haplotype-aware read support for indel candidates (what bcftools' indel re-scoring and DeepVariant's
local reassembly are for).

Around an indel, aligners often do not place it in the read: reads that end inside a repeat are soft-
clipped or aligned with mismatches, and reads count for the reference or for nothing. Here every read
over the candidate (soft-clipped bases included) is compared, without gaps, to two haplotypes, the
reference and the reference with the candidate applied, anchored at the read's left end and at its right
end. Its score against a haplotype is the sum of base qualities of mismatches (best anchoring). A read
supports the haplotype that scores at least ``MARGIN`` better; otherwise it is ambiguous (a read ending
inside the repeat fits both).

Indel candidates of one locus (overlapping, or sharing the anchor: +T, +TT and +TTT at a homopolymer) compete:
every read is scored against the reference and each of the locus's alternate haplotypes, and supports the one
allele that beats the reference and every other allele by ``MARGIN``; a read that fits two alleles equally (one
ending inside the repeat) supports none of them. A read supports the reference only when it beats every allele.
With one indel at a locus this is the pairwise comparison above.
"""

from __future__ import annotations

import numpy as np
import pysam

from oncorisk.genome.alleles import overlapping_alleles
from oncorisk.tensors.pileup import Pileup

MARGIN = 20  # one Q20 mismatch
FLANK = 300
MAX_READS = 400


def _score(read: np.ndarray, qual: np.ndarray, hap: np.ndarray, h0: int) -> float:
    n = len(read)
    lo, hi = max(0, -h0), min(n, len(hap) - h0)
    if hi - lo < n // 2:
        return float("inf")
    mism = read[lo:hi] != hap[h0 + lo:h0 + hi]
    return float(qual[lo:hi][mism].sum()) + 20.0 * (n - (hi - lo))


def _read_scores(pile: Pileup, fasta: pysam.FastaFile, starts: np.ndarray, max_len: int, clen: int, pos: int,
                 ref: str, alt: str) -> dict[int, tuple[int, float, float]]:
    """Read index -> (strand, score against the reference, score against the candidate's haplotype) for the
    reads over one indel candidate (0-based ``pos``)."""
    contig, reads = pile.contig, pile.read_store
    w0 = max(0, pos - FLANK)
    win = fasta.fetch(contig, w0, min(clen, pos + len(ref) + FLANK)).upper()
    a = pos - w0
    hap_ref = np.frombuffer(win.encode(), dtype=np.uint8)
    hap_alt = np.frombuffer((win[:a] + alt + win[a + len(ref):]).encode(), dtype=np.uint8)
    d = len(alt) - len(ref)
    end_ref = pos + len(ref)  # first reference base after the event
    first = int(np.searchsorted(starts, pos - 2 * max_len - FLANK))
    last = int(np.searchsorted(starts, end_ref + max_len, side="right"))
    out: dict[int, tuple[int, float, float]] = {}
    for j in range(first, last):
        r_start, is_rev, _, cig, seq, qual, r_end = reads[j]
        lead = cig[0][1] if cig and cig[0][0] == 4 else 0
        trail = cig[-1][1] if cig and cig[-1][0] == 4 else 0
        # soft-clipped bases count: a read aligned after a deletion may carry the bases before it as a clip
        if r_end is None or r_end + trail <= pos or r_start - lead >= end_ref:
            continue
        if len(out) >= MAX_READS:
            break
        rs = np.frombuffer(seq.encode(), dtype=np.uint8)
        q = np.frombuffer(qual, dtype=np.uint8).astype(np.float64)
        n = len(rs)
        left = r_start - lead - w0  # hap coordinate of the read's first base, left-anchored
        right_end = r_end + trail - w0  # after its last base, right-anchored
        s_ref = min(_score(rs, q, hap_ref, left), _score(rs, q, hap_ref, right_end - n))
        alt_left = left if left <= a else left + d
        alt_right = right_end + d if right_end > end_ref - w0 else right_end
        s_alt = min(_score(rs, q, hap_alt, alt_left), _score(rs, q, hap_alt, alt_right - n))
        out[j] = (int(is_rev), s_ref, s_alt)
    return out


def indel_support(pile: Pileup, fasta: pysam.FastaFile, sites) -> np.ndarray:
    """(n, 4) [alt_fwd, alt_rev, ref_fwd, ref_rev] haplotype-supporting reads per site (0-based ``pos``),
    from the reads the pileup counted, the indels of one locus competing for each read; zeros for SNVs."""
    out = np.zeros((len(sites), 4), dtype=np.int64)
    reads = pile.read_store
    if not reads or len(sites) == 0:
        return out
    clen = fasta.get_reference_length(pile.contig)
    starts = np.fromiter((t[0] for t in reads), dtype=np.int64, count=len(reads))
    max_len = max(len(t[4]) + 2 * max((n for op, n in (t[3] or ()) if op == 4), default=0) for t in reads[:2000])
    pos, ref, alt = (sites[c].to_numpy() for c in ("pos", "ref", "alt"))
    indels = np.array([k for k in range(len(sites)) if len(ref[k]) != len(alt[k])], dtype=np.int64)
    if not len(indels):
        return out
    ref_len = np.array([len(ref[k]) for k in indels])
    for locus in overlapping_alleles(np.zeros(len(indels)), pos[indels].astype(np.int64), ref_len):
        members = indels[locus]
        scores = [_read_scores(pile, fasta, starts, max_len, clen, int(pos[k]), ref[k], alt[k]) for k in members]
        for j in sorted(set().union(*scores)):
            strand = next(sc[j][0] for sc in scores if j in sc)
            s_ref = min(sc[j][1] for sc in scores if j in sc)
            s_alt = np.array([sc[j][2] if j in sc else np.inf for sc in scores])
            best = int(s_alt.argmin())
            others = np.delete(s_alt, best)
            if s_alt[best] + MARGIN <= min(s_ref, others.min(initial=np.inf)):
                out[members[best], strand] += 1
            elif s_ref + MARGIN <= s_alt.min():
                out[members, 2 + strand] += 1
    return out
