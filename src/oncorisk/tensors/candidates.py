"""Candidate variants from pileup counts: SNVs and left-aligned indels, multi-allelic sites as one row per allele."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from oncorisk.tensors.pileup import BASE_CODE, F_DEL, F_INS, Pileup

SITE_COLUMNS = ["contig", "pos", "ref", "alt", "kind", "depth", "ref_fwd", "ref_rev", "alt_fwd", "alt_rev", "af"]


@dataclass(frozen=True)
class Thresholds:
    """Alt-read and allele-fraction thresholds, separate for SNVs and indels.

    Germline defaults are DeepVariant's (>= 2 reads; AF >= 0.12 for SNVs, 0.06 for indels); the somatic
    defaults (:data:`SOMATIC`) let tumour alleles down to AF 0.03 through.
    """

    snv_min_alt: int = 2
    snv_min_af: float = 0.12
    indel_min_alt: int = 2
    indel_min_af: float = 0.06
    min_depth: int = 1


GERMLINE = Thresholds()
SOMATIC = Thresholds(snv_min_alt=2, snv_min_af=0.03, indel_min_alt=2, indel_min_af=0.03)


def allele_counts(pile: Pileup, pos: np.ndarray, ref: list[str], alt: list[str]) -> np.ndarray:
    """(n, 5) depth, ref_fwd, ref_rev, alt_fwd, alt_rev of given alleles (0-based anchor positions) in a pileup.

    For an indel, reference reads are those with the reference base at the anchor and no indel starting
    there. Positions outside the pileup give zeros.
    """
    out = np.zeros((len(pos), 5), dtype=np.int64)
    for k, (p, r, a) in enumerate(zip(pos, ref, alt)):
        i = int(p) - pile.start
        if not 0 <= i < len(pile.depth):
            continue
        rc = BASE_CODE[ord(r[0])]
        ref_strand = pile.counts[i, :, rc] if rc < 4 else np.zeros(2, dtype=np.int64)
        if len(r) == len(a) == 1:
            ac = BASE_CODE[ord(a)]
            alt_strand = pile.counts[i, :, ac] if ac < 4 else np.zeros(2, dtype=np.int64)
        else:
            alt_strand = pile.indels.get((int(p), r, a), np.zeros(2, dtype=np.int64))
            ref_strand = np.maximum(ref_strand - pile.counts[i, :, F_INS] - pile.counts[i, :, F_DEL], 0)
        out[k] = (pile.depth[i], ref_strand[0], ref_strand[1], alt_strand[0], alt_strand[1])
    return out


def find_candidates(pile: Pileup, th: Thresholds, start: int | None = None, end: int | None = None) -> pd.DataFrame:
    """Candidate alleles anchored in ``[start, end)`` (default: the whole pileup), sorted by position."""
    start = pile.start if start is None else start
    end = pile.end if end is None else end
    lo, hi = start - pile.start, end - pile.start
    depth = pile.depth[lo:hi].astype(np.int64)
    ref_code = BASE_CODE[pile.ref[lo:hi]]
    tot = pile.counts[lo:hi, :, :4].sum(axis=1)
    rows = []
    for b, base in enumerate("ACGT"):
        ok = (ref_code < 4) & (ref_code != b) & (tot[:, b] >= th.snv_min_alt) & (depth >= th.min_depth) & \
             (tot[:, b] >= th.snv_min_af * np.maximum(depth, 1))
        for i in np.flatnonzero(ok):
            rows.append((start + int(i), chr(pile.ref[lo + i]), base, "SNV"))
    for (p, r, a), c in pile.indels.items():
        if not start <= p < end:
            continue
        n = int(c.sum())
        d = int(pile.depth[p - pile.start])
        if n >= th.indel_min_alt and d >= th.min_depth and n >= th.indel_min_af * max(d, 1):
            rows.append((p, r, a, "DEL" if len(r) > len(a) else "INS"))
    rows.sort(key=lambda t: (t[0], t[3] != "SNV", t[2], t[1]))
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype="int64" if c not in ("contig", "ref", "alt", "kind") else "object")
                             for c in SITE_COLUMNS}).assign(af=pd.Series(dtype="float64"))
    pos = np.array([r[0] for r in rows], dtype=np.int64)
    refs = [r[1] for r in rows]
    alts = [r[2] for r in rows]
    cnt = allele_counts(pile, pos, refs, alts)
    df = pd.DataFrame(dict(contig=pile.contig, pos=pos, ref=refs, alt=alts, kind=[r[3] for r in rows],
                           depth=cnt[:, 0], ref_fwd=cnt[:, 1], ref_rev=cnt[:, 2], alt_fwd=cnt[:, 3], alt_rev=cnt[:, 4]))
    df["af"] = np.round((df.alt_fwd + df.alt_rev) / np.maximum(df.depth, 1), 6)
    return df
