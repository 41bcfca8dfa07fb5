"""Haplotype-aware read support for indel candidates (what bcftools' indel re-scoring and DeepVariant's
local reassembly are for).

Around an indel, aligners often do not place it in the read: reads that end inside a repeat are soft-
clipped or aligned with mismatches, and reads count for the reference or for nothing. Here every read
over the candidate (soft-clipped bases included) is compared, without gaps, to two haplotypes, the
reference and the reference with the candidate applied, anchored at the read's left end and at its right
end. Its score against a haplotype is the sum of base qualities of mismatches (best anchoring). A read
supports the haplotype that scores at least ``MARGIN`` better; otherwise it is ambiguous (a read ending
inside the repeat fits both).
"""

from __future__ import annotations

import numpy as np
import pysam

from oncorisk.tensors.pileup import ReadFilter

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


def indel_support(aln: pysam.AlignmentFile, fasta: pysam.FastaFile, contig: str, sites, filt: ReadFilter) -> np.ndarray:
    """(n, 4) [alt_fwd, alt_rev, ref_fwd, ref_rev] haplotype-supporting reads per site (0-based ``pos``);
    zeros for SNVs."""
    out = np.zeros((len(sites), 4), dtype=np.int64)
    clen = fasta.get_reference_length(contig)
    for k, (pos, ref, alt) in enumerate(zip(sites["pos"], sites["ref"], sites["alt"])):
        if len(ref) == len(alt):
            continue
        pos = int(pos)
        w0 = max(0, pos - FLANK)
        win = fasta.fetch(contig, w0, min(clen, pos + len(ref) + FLANK)).upper()
        a = pos - w0
        hap_ref = np.frombuffer(win.encode(), dtype=np.uint8)
        hap_alt = np.frombuffer((win[:a] + alt + win[a + len(ref):]).encode(), dtype=np.uint8)
        d = len(alt) - len(ref)
        end_ref = pos + len(ref)  # first reference base after the event
        seen = 0
        for r in aln.fetch(contig, pos, end_ref):
            if r.flag & filt.exclude_flags or r.mapping_quality < filt.min_mapq:
                continue
            seq = r.query_sequence
            if not seq or r.query_qualities is None:
                continue
            seen += 1
            if seen > MAX_READS:
                break
            cig = r.cigartuples
            lead = cig[0][1] if cig[0][0] == 4 else 0
            trail = cig[-1][1] if cig[-1][0] == 4 else 0
            rs = np.frombuffer(seq.encode(), dtype=np.uint8)
            q = np.asarray(r.query_qualities, dtype=np.float64)
            n = len(rs)
            left = r.reference_start - lead - w0  # ref/hap coordinate of the read's first base, left-anchored
            right_end = r.reference_end + trail - w0  # ref coordinate after its last base, right-anchored
            s_ref = min(_score(rs, q, hap_ref, left), _score(rs, q, hap_ref, right_end - n))
            alt_left = left if left <= a else left + d
            alt_right = right_end + d if right_end > end_ref - w0 else right_end
            s_alt = min(_score(rs, q, hap_alt, alt_left), _score(rs, q, hap_alt, alt_right - n))
            strand = int(r.is_reverse)
            if s_alt + MARGIN <= s_ref:
                out[k, strand] += 1
            elif s_ref + MARGIN <= s_alt:
                out[k, 2 + strand] += 1
    return out
