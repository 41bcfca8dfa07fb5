"""Haplotype comparison of two call sets (in the manner of vcfeval and hap.py).

Allele matching fails when one event is written two ways that normalisation cannot reconcile: a complex
substitution written as one record or as an SNV plus a deletion, or an insertion in a repeat split into two
pieces. Here the variants of both sets are grouped into windows (variants closer than ``WINDOW_GAP`` bases,
truth and query together); in each window every phasing of each side's genotypes is applied to the reference,
and the window matches when some phasing of the truth and some phasing of the query give the same pair of
haplotype sequences. Every variant of a matched window is a true positive (truth side for recall, query side for
precision); a window that does not match falls back to allele matching inside it, so a window holding one true
and one false call still credits the true one.

Genotypes count (as vcfeval's default): a het called hom-alt does not give the same haplotype pair, and is
credited only by the allele fallback, as in allele matching.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pysam

from oncorisk.genome.alleles import trim_alleles

WINDOW_GAP = 10  # variants closer than this (bases between their REF spans) share a window
MAX_PHASINGS = 1 << 12  # windows with more phasings than this are compared by alleles only


Edit = tuple[int, str, str]  # (0-based start, replaced reference bases, inserted bases): a trimmed allele


@dataclass(frozen=True)
class Call:
    """One record's alleles and genotype."""

    edits: tuple[Edit, ...]  # the alleles the genotype carries, trimmed: (a,) hom-alt or het, (a, b) for 1/2
    het: bool  # one copy of edits[0] (0/1); with two alleles always a het of two alternate alleles
    keys: tuple  # the normalised allele keys of this record (for the allele fallback and SNV/indel classes)

    @classmethod
    def from_record(cls, pos: int, ref: str, alts: list[str], het: bool, keys: tuple) -> Call:
        """A record at 0-based ``pos`` whose genotype carries ``alts`` (at most two are used)."""
        return cls(edits=tuple(trim_alleles(pos, ref, a) for a in alts[:2]), het=het, keys=keys)

    @property
    def pos(self) -> int:
        """Start of the span the record touches: its trimmed edits and its left-aligned keys (a caller that writes
        an indel at the right end of a repeat still meets a truth written at its left end)."""
        return min([e[0] for e in self.edits] + [k[0][1] for k in self.keys])

    @property
    def end(self) -> int:
        return max([e[0] + len(e[1]) for e in self.edits] + [k[0][1] + len(k[0][2]) for k in self.keys])


def _options(call: Call) -> list[tuple[Edit | None, Edit | None]]:
    """(haplotype 1 allele, haplotype 2 allele) choices of a record; None = reference."""
    if len(call.edits) == 2:
        a, b = call.edits
        return [(a, b), (b, a)]
    if call.het:
        return [(call.edits[0], None), (None, call.edits[0])]
    return [(call.edits[0], call.edits[0])]


def _apply(ref: str, offset: int, edits: list[Edit | None]) -> str | None:
    """The reference window ``ref`` (starting at 0-based ``offset``) with the edits applied; None when two of
    them overlap (they cannot sit on one haplotype)."""
    out, at = [], offset
    for start, old, new in sorted((e for e in edits if e is not None), key=lambda e: (e[0], len(e[1]))):
        if start < at:
            return None
        out.append(ref[at - offset: start - offset])
        out.append(new)
        at = start + len(old)
    out.append(ref[at - offset:])
    return "".join(out)


def haplotype_pairs(ref: str, offset: int, calls: list[Call]) -> set[tuple[str, str]] | None:
    """Every (sorted) pair of haplotype sequences the calls' genotypes can give; None when too many phasings."""
    options = [_options(c) for c in calls]
    n = 1
    for o in options:
        n *= len(o)
    if n > MAX_PHASINGS:
        return None
    pairs = set()
    first_het = next((i for i, o in enumerate(options) if len(o) == 2), None)
    for choice in itertools.product(*options):
        if first_het is not None and choice[first_het] != options[first_het][0]:
            continue  # swapping the two haplotypes gives the same unordered pair
        h1 = _apply(ref, offset, [x[0] for x in choice])
        h2 = _apply(ref, offset, [x[1] for x in choice])
        if h1 is not None and h2 is not None:
            pairs.add(tuple(sorted((h1, h2))))
    return pairs


def windows(truth: list[Call], query: list[Call], gap: int = WINDOW_GAP) -> list[tuple[list[Call], list[Call]]]:
    """Group the calls of one contig into windows: (truth calls, query calls) per window, in order."""
    tagged = sorted([(c.pos, c.end, 0, c) for c in truth] + [(c.pos, c.end, 1, c) for c in query],
                    key=lambda x: (x[0], x[1], x[2]))
    out: list[tuple[list[Call], list[Call]]] = []
    end = None
    for pos, stop, side, call in tagged:
        if end is None or pos - end > gap:
            out.append(([], []))
            end = stop
        out[-1][side].append(call)
        end = max(end, stop)
    return out


def compare_contig(fasta: pysam.FastaFile, contig: str, truth: list[Call], query: list[Call]):
    """Yield (truth calls, query calls, matched) per window of one contig."""
    for t, q in windows(truth, query):
        if not t or not q:
            yield t, q, False
            continue
        lo = min(c.pos for c in t + q) - 1
        hi = max(c.end for c in t + q) + 1
        lo = max(lo, 0)
        ref = fasta.fetch(contig, lo, hi).upper()
        tp, qp = haplotype_pairs(ref, lo, t), haplotype_pairs(ref, lo, q)
        yield t, q, bool(tp is not None and qp is not None and tp & qp)
