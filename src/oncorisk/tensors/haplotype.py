"""Local haplotype realignment: which reads support each indel candidate (what DeepVariant's realigner and
GATK's HaplotypeCaller do before genotyping).

Around an indel, aligners often do not place it in the read: reads that end inside a repeat are soft-clipped or
aligned with mismatches, and reads count for the reference or for nothing; one event is written differently in
different reads. Here the aligner's CIGAR is set aside:

1. **Active windows.** Indel candidates are grouped into loci (overlapping alleles, or alleles sharing an anchor:
   +T, +TT and +TTT at a homopolymer); loci less than ``JOIN`` bases apart form one window.
2. **Candidate haplotypes.** In a window, every combination of at most one allele per locus is applied to the
   reference (the reference itself included), so a read carrying two nearby events fits the haplotype that
   carries both. When a window would have more than ``MAX_HAPLOTYPES`` haplotypes, its loci are realigned one at
   a time.
3. **Read-to-haplotype alignment.** Every read over the window (soft-clipped bases included: a read aligned after
   a deletion may carry the bases before it as a clip) is aligned to each haplotype with parasail's striped
   semi-global alignment: the whole read against a haplotype stretch with free ends (``sg_dx``), affine gaps, BWA's
   scores (match 1, mismatch 4, gap open 6, extend 1); bases below ``LOW_QUALITY`` score 0 (an ``N``).
4. **Support.** A read supports an allele when the best haplotype carrying it scores at least ``MARGIN`` (one
   mismatch) above the best haplotype without it; it supports the reference of a locus when the best haplotype
   with none of the locus's alleles scores ``MARGIN`` above every haplotype with one. A read that fits two alleles
   equally (one ending inside the repeat) supports neither.
5. **SNVs near indels.** Near an indel, a read the aligner placed without the gap shows the bases after it as
   mismatches, which a pileup counts as SNV support. SNV candidates less than ``JOIN`` bases from a window are
   scored per read against the read's best haplotype: with the SNV added, and without. The read supports the SNV
   when the first scores ``MARGIN`` above the second, its reference when the second does (against every allele
   of the SNV's position); a read whose best haplotype deletes the SNV's base supports neither. The window's reads
   are taken over this wider span.
6. **Phase.** Alleles of different loci that the same reads carry (one event the aligner wrote as two, or two
   nearby events on one haplotype) share a phase set; the VCF writes them with a phased genotype and ``PS``.

These counts become the tensors' ``hap_alt``/``hap_ref`` channels and the VCF's AD and VAF for indels and the
SNVs near them (other SNVs count the reads whose alignment carries the base, as the pileup does).
"""

from __future__ import annotations

import itertools

import numpy as np
import parasail
import pysam

from oncorisk.genome.alleles import overlapping_alleles
from oncorisk.tensors.pileup import Pileup

MATCH, MISMATCH, GAP_OPEN, GAP_EXTEND = 1, 4, 6, 1  # BWA-MEM's defaults
MARGIN = MATCH + MISMATCH  # one mismatch
LOW_QUALITY = 10  # bases below this quality match anything with score 0
JOIN = 20  # loci closer than this share candidate haplotypes
MAX_HAPLOTYPES = 16
FLANK = 300  # reference bases either side of a window
PAD = 20  # haplotype bases either side of a read's span that its alignment may use
MAX_READS = 400
PHASE_MIN_READS, PHASE_FRACTION = 2, 0.8  # cis alleles of one window (_phase)

_ALPHABET = "ACGTN"


def _matrix():
    m = parasail.matrix_create(_ALPHABET, MATCH, -MISMATCH)
    n = _ALPHABET.index("N")
    for k in range(len(_ALPHABET)):
        m.set_value(n, k, 0)
        m.set_value(k, n, 0)
    return m


_MATRIX = _matrix()
_NON_ACGT = bytes.maketrans(b"RYKMSWBDHVUacgtnrykmswbdhvu", b"NNNNNNNNNNNACGTNNNNNNNNNNNN")


class _Haplotype:
    """The window's reference with some alleles applied; ``offset`` maps a reference position into it."""

    def __init__(self, win: str, w0: int, alleles: list[tuple[int, str, str]]):
        seq, last, self.shifts = [], 0, []  # shifts: (reference position after an event, cumulative length change)
        shift = 0
        for pos, ref, alt in sorted(alleles):
            a = pos - w0
            seq += [win[last:a], alt]
            last = a + len(ref)
            shift += len(alt) - len(ref)
            self.shifts.append((pos + len(ref), shift))
        seq.append(win[last:])
        self.seq = "".join(seq)
        self.w0 = w0

    def offset(self, x: int) -> int:
        s = 0
        for end, shift in self.shifts:
            if x >= end:
                s = shift
        return x - self.w0 + s


def _windows(pos: np.ndarray, ref_len: np.ndarray) -> list[list[np.ndarray]]:
    """Loci (index arrays into pos) grouped into windows of loci less than JOIN bases apart, each window's
    haplotype count capped (a window over the cap is split into its loci)."""
    loci = overlapping_alleles(np.zeros(len(pos)), pos, ref_len)
    groups: list[list[np.ndarray]] = []
    end = 0
    for locus in loci:
        lo, e = int(pos[locus].min()), int((pos[locus] + ref_len[locus]).max())
        if groups and lo - end < JOIN:
            groups[-1].append(locus)
            end = max(end, e)
        else:
            groups.append([locus])
            end = e
    out = []
    for g in groups:
        if int(np.prod([len(locus) + 1 for locus in g])) <= MAX_HAPLOTYPES:
            out.append(g)
        else:
            out.extend([locus] for locus in g)
    return out


def _align(prof, h: _Haplotype, a: int, b: int, change: int) -> int:
    """Score of a read's profile against the stretch of ``h`` over the read's reference span [a, b), widened by PAD
    and the window's largest length change."""
    h0 = max(0, h.offset(a) - PAD - change)
    h1 = min(len(h.seq), h.offset(b) + PAD + change)
    return parasail.sg_dx_striped_profile_16(prof, h.seq[h0:h1], GAP_OPEN, GAP_EXTEND).score


def _compatible(alleles: list[tuple[int, int]]) -> bool:
    """Whether alleles given as (position, REF length) can sit on one haplotype: no two REF spans overlap."""
    end = -1
    for p, n in sorted(alleles):
        if p < end:
            return False
        end = p + n
    return True


def indel_support(pile: Pileup, fasta: pysam.FastaFile, sites) -> np.ndarray:
    """(n, 6) [alt_fwd, alt_rev, ref_fwd, ref_rev, phase set, realigned] per site (0-based ``pos``): the reads
    supporting the site's allele / its locus's reference by realignment to candidate haplotypes, from the reads the
    pileup counted, the phase set of alleles that the same reads carry (``_phase``; 0 for none), and 1 where the
    site was realigned (every indel, and the SNVs less than ``JOIN`` bases from an indel's window); zeros
    elsewhere."""
    out = np.zeros((len(sites), 6), dtype=np.int64)
    reads = pile.read_store
    if not reads or len(sites) == 0:
        return out
    pos, ref, alt = (sites[c].to_numpy() for c in ("pos", "ref", "alt"))
    indels = np.array([k for k in range(len(sites)) if len(ref[k]) != len(alt[k])], dtype=np.int64)
    if not len(indels):
        return out
    snvs = np.array([k for k in range(len(sites)) if len(ref[k]) == len(alt[k])], dtype=np.int64)
    snvs = snvs[np.argsort(pos[snvs], kind="stable")]
    snv_at = pos[snvs].astype(np.int64)
    clen = fasta.get_reference_length(pile.contig)
    starts = np.fromiter((t[0] for t in reads), dtype=np.int64, count=len(reads))
    max_len = max(len(t[4]) + 2 * max((n for op, n in (t[3] or ()) if op == 4), default=0) for t in reads[:2000])
    ipos = pos[indels].astype(np.int64)
    ref_len = np.array([len(ref[k]) for k in indels], dtype=np.int64)
    profiles: dict[int, tuple[object, int, int, int]] = {}  # read index -> (profile, strand, span start, span end)
    for window in _windows(ipos, ref_len):
        members = [indels[locus] for locus in window]
        every = np.concatenate(members)
        out[every, 5] = 1
        lo = int(pos[every].min())
        hi = int(max(pos[k] + len(ref[k]) for k in every))
        s0, s1 = int(np.searchsorted(snv_at, lo - JOIN)), int(np.searchsorted(snv_at, hi + JOIN))
        near = [k for k in snvs[s0:s1] if not out[k, 5]]  # an SNV between two windows goes to the first
        if near:
            out[near, 5] = 1
            lo, hi = min(lo, int(pos[near[0]])), max(hi, int(pos[near[-1]]) + 1)
        w0 = max(0, lo - FLANK)
        win = fasta.fetch(pile.contig, w0, min(clen, hi + FLANK)).upper().translate(_NON_ACGT)
        choices = [[None] + [int(k) for k in m] for m in members]
        combos = list(itertools.product(*choices))
        haps = [_Haplotype(win, w0, [(int(pos[k]), ref[k], alt[k]) for k in c if k is not None]) for c in combos]
        change = max(abs(len(alt[k]) - len(ref[k])) for k in every)
        first = int(np.searchsorted(starts, lo - 2 * max_len - FLANK))
        last = int(np.searchsorted(starts, hi + max_len, side="right"))
        for j in [j for j in profiles if j < first]:  # reads left behind: windows come in order
            del profiles[j]
        scores, strands, spans = [], [], []
        for j in range(first, last):
            r_start, is_rev, _, cig, seq, qual, r_end = reads[j]
            lead = cig[0][1] if cig and cig[0][0] == 4 else 0
            trail = cig[-1][1] if cig and cig[-1][0] == 4 else 0
            if r_end is None or r_end + trail <= lo or r_start - lead > hi:
                continue
            if len(scores) >= MAX_READS:
                break
            prof = profiles.get(j)
            if prof is None:
                q = np.frombuffer(qual, dtype=np.uint8)
                s = seq.upper().translate(_NON_ACGT)
                if (q < LOW_QUALITY).any():
                    s = "".join("N" if qv < LOW_QUALITY else b for b, qv in zip(s, q))
                prof = profiles[j] = (parasail.profile_create_16(s, _MATRIX), int(is_rev), r_start - lead, r_end + trail)
            p, strand, a, b = prof
            scores.append([_align(p, h, a, b, change) for h in haps])
            strands.append(strand)
            spans.append((p, a, b))
        if not scores:
            continue
        sc = np.array(scores, dtype=np.int64)  # (reads, haplotypes)
        st = np.array(strands, dtype=np.int64)
        loci = _locus_support(members, sc, combos) + _snv_support(near, sc, spans, combos, win, w0, change, pos, ref, alt)
        supports, informative = {}, []  # allele -> its reads; per locus, reads that tell its alleles apart
        for li, (ref_rows, ref_reads, alleles) in enumerate(loci):
            for strand in (0, 1):
                out[ref_rows, 2 + strand] += int((ref_reads & (st == strand)).sum())
            told = ref_reads.copy()
            for k, alt_reads in alleles:
                for strand in (0, 1):
                    out[k, strand] += int((alt_reads & (st == strand)).sum())
                supports[int(k)] = (li, alt_reads)
                told |= alt_reads
            informative.append(told)
        _phase(supports, informative, pos, out)
    return out


def _locus_support(members: list[np.ndarray], sc: np.ndarray, combos: list) -> list:
    """Per indel locus of the window (``members``: its site indices): (the locus's sites, reads supporting its
    reference, [(site, reads supporting its allele)]) from the reads' scores against every haplotype."""
    out = []
    for li, m in enumerate(members):
        carried = np.array([c[li] for c in combos], dtype=object)
        none = np.array([c is None for c in carried])
        ref_reads = sc[:, none].max(axis=1) >= sc[:, ~none].max(axis=1) + MARGIN
        alleles = []
        for k in m:
            has = np.array([c == k for c in carried])
            alleles.append((k, sc[:, has].max(axis=1) >= sc[:, ~has].max(axis=1) + MARGIN))
        out.append((m, ref_reads, alleles))
    return out


_UNSCORED = np.iinfo(np.int64).min // 2  # a read that does not cover the SNV, or whose best haplotype deletes it


def _snv_support(near: list, sc: np.ndarray, spans: list, combos: list, win: str, w0: int, change: int,
                 pos: np.ndarray, ref: np.ndarray, alt: np.ndarray) -> list:
    """Per SNV position of ``near`` (site indices sorted by position), as ``_locus_support``: (its sites, reads
    supporting the reference, [(site, reads supporting it)]), each read scored against its best haplotype with the
    SNV added and without."""
    best = sc.argmax(axis=1)  # ties: the first, the reference's combination first
    best_score = sc[np.arange(len(sc)), best]
    cache: dict[tuple[int, int], _Haplotype | None] = {}
    out = []
    for x in sorted({int(pos[k]) for k in near}):
        ks = [k for k in near if int(pos[k]) == x]
        alt_scores = np.full((len(sc), len(ks)), _UNSCORED, dtype=np.int64)
        for r, (prof, a, b) in enumerate(spans):
            if not a <= x < b:
                continue
            c = combos[best[r]]
            for i, k in enumerate(ks):
                key = (int(best[r]), int(k))
                if key not in cache:
                    carried = [(int(pos[m]), ref[m], alt[m]) for m in c if m is not None]
                    ok = _compatible([(p_, len(r_)) for p_, r_, _ in carried] + [(x, 1)])
                    cache[key] = _Haplotype(win, w0, carried + [(x, ref[k], alt[k])]) if ok else None
                h = cache[key]
                if h is None:  # the read's best haplotype deletes this base
                    break
                alt_scores[r, i] = _align(prof, h, a, b, change)
        alleles = [(k, alt_scores[:, i] >= best_score + MARGIN) for i, k in enumerate(ks)]
        top = alt_scores.max(axis=1)
        ref_reads = (best_score >= top + MARGIN) & (top > _UNSCORED)
        out.append((np.array(ks, dtype=np.int64), ref_reads, alleles))
    return out


def _phase(supports: dict, informative: list, pos: np.ndarray, out: np.ndarray) -> None:
    """Alleles of different loci of one window that the same reads carry (cis) share a phase set: out[:, 4] = the
    1-based anchor of the set's first allele. Two alleles are cis when at least ``PHASE_MIN_READS`` reads support
    both, and at least ``PHASE_FRACTION`` of the reads that support one and tell the other's locus apart support
    the other too (reads that end before a locus say nothing of it)."""
    keys = sorted(supports)
    for x, a in enumerate(keys):
        la, ra = supports[a]
        for b in keys[x + 1:]:
            lb, rb = supports[b]
            both = int((ra & rb).sum())
            if la == lb or both < PHASE_MIN_READS:
                continue
            if both >= PHASE_FRACTION * (ra & informative[lb]).sum() and both >= PHASE_FRACTION * (rb & informative[la]).sum():
                sets = [out[a, 4] or int(pos[a]) + 1, out[b, 4] or int(pos[b]) + 1]
                new, old = min(sets), max(sets)
                out[out[:, 4] == old, 4] = new
                out[[a, b], 4] = new
