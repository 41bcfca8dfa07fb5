"""Consequences of variants on transcripts: Sequence Ontology terms and HGVS protein changes.

Vectorised where most variants fall (intergenic, upstream/downstream, deep intronic); every variant within
8 bp of an exon is classified exactly, one transcript at a time, from the transcript's coding sequence.

Definitions follow VEP: splice donor/acceptor = the first/last 2 intron bases; splice region = 1-3 exon
bases or 3-8 intron bases at an internal exon boundary; upstream/downstream = within 5 kb of the
transcript (strand-aware); coding changes from translating the reference and the mutated CDS.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from oncorisk.impact.annotation import Annotation
from oncorisk.impact.terms import AA3, RANK
from oncorisk.simulate.sequence import GENETIC_CODE, revcomp_str

FLANK = 5000
SPLICE_EXON = 3
SPLICE_INTRON = 8
_KEY = np.int64(1) << 32


def normalise(pos0: int, ref: str, alt: str) -> tuple[int, str, str]:
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


def translate(seq: str) -> str:
    """Translate a coding sequence; an incomplete last codon becomes X."""
    return "".join(GENETIC_CODE.get(seq[i : i + 3], "X") for i in range(0, len(seq) - len(seq) % 3, 3)) + (
        "X" if len(seq) % 3 else "")


@dataclass
class Effect:
    """The consequence of one variant on one transcript."""

    var: int
    tx: int
    terms: tuple[str, ...]
    hgvsp: str = ""
    hgvsp_short: str = ""
    protein_pos: int = 0
    codons: str = ""

    @property
    def rank(self) -> int:
        return min(RANK[t] for t in self.terms)


class ContigIndex:
    """Elementary segments of one contig, each with the transcripts (± FLANK) that cover it."""

    def __init__(self, ann: Annotation, contig: str, flank: int = FLANK):
        tx = np.flatnonzero(ann.contig == contig)
        self.tx = tx
        if len(tx) == 0:
            self.breaks = np.array([0], dtype=np.int64)
            self.ptr = np.array([0, 0], dtype=np.int64)
            self.members = np.zeros(0, dtype=np.int64)
            return
        lo = np.maximum(ann.start[tx] - flank, 0)
        hi = ann.end[tx] + flank
        breaks = np.unique(np.concatenate(([0], lo, hi)))
        # sweep: transcripts active in each elementary segment [breaks[k], breaks[k+1])
        starts_at = np.searchsorted(breaks, lo)
        ends_at = np.searchsorted(breaks, hi)
        members: list[np.ndarray] = []
        ptr = [0]
        events_start = {}
        events_end = {}
        for t, a, b in zip(tx, starts_at, ends_at):
            events_start.setdefault(int(a), []).append(int(t))
            events_end.setdefault(int(b), []).append(int(t))
        active: set[int] = set()
        for k in range(len(breaks)):
            for t in events_end.get(k, ()):
                active.discard(t)
            for t in events_start.get(k, ()):
                active.add(t)
            members.append(np.array(sorted(active), dtype=np.int64))
            ptr.append(ptr[-1] + len(active))
        self.breaks = breaks
        self.ptr = np.array(ptr, dtype=np.int64)
        self.members = np.concatenate(members) if members else np.zeros(0, dtype=np.int64)

    def pairs(self, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(variant index, transcript index) for every transcript ± FLANK touching [lo, hi) at either end."""
        out_v, out_t = [], []
        for q in (lo, np.maximum(hi - 1, lo)):
            seg = np.searchsorted(self.breaks, q, side="right") - 1
            a, b = self.ptr[seg], self.ptr[seg + 1]
            counts = b - a
            total = int(counts.sum())
            if total == 0:
                continue
            var = np.repeat(np.arange(len(q)), counts)
            offs = np.repeat(a - np.concatenate(([0], np.cumsum(counts)[:-1])), counts)
            out_v.append(var)
            out_t.append(self.members[np.arange(total) + offs])
        if not out_v:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        key = np.unique(np.concatenate(out_v) * (1 << 31) + np.concatenate(out_t))
        return key // (1 << 31), key % (1 << 31)


class Annotator:
    """Classifies variants against an annotation and a reference sequence, contig by contig."""

    def __init__(self, ann: Annotation, flank: int = FLANK):
        self.ann = ann
        self.flank = flank
        self._index: dict[str, ContigIndex] = {}
        self._cds: dict[int, str] = {}
        ex_tx = np.repeat(np.arange(ann.n), np.diff(ann.exon_off))
        self.exon_key = ex_tx.astype(np.int64) * _KEY + ann.exon_start

    def index(self, contig: str) -> ContigIndex:
        if contig not in self._index:
            self._index[contig] = ContigIndex(self.ann, contig, self.flank)
        return self._index[contig]

    def annotate(self, contig: str, seq: str, starts: np.ndarray, refs: list[str], alts: list[str]) -> list[Effect]:
        """Effects of normalised variants (``normalise``) on one contig; ``seq`` is the contig, upper case.

        Returns:
            one Effect per (variant, transcript) pair within FLANK of the transcript; variants with none are
            intergenic.
        """
        ann = self.ann
        starts = np.asarray(starts, dtype=np.int64)
        rlen = np.array([len(r) for r in refs], dtype=np.int64)
        is_ins = rlen == 0
        lo = np.where(is_ins, starts - 1, starts)
        hi = np.where(is_ins, starts + 1, starts + rlen)
        v, t = self.index(contig).pairs(lo, hi)
        if len(v) == 0:
            return []
        t_start, t_end, strand = ann.start[t], ann.end[t], ann.strand[t]
        plo, phi = lo[v], hi[v]
        near = (phi > t_start - self.flank) & (plo < t_end + self.flank)
        v, t, plo, phi, t_start, t_end, strand = (x[near] for x in (v, t, plo, phi, t_start, t_end, strand))
        effects: list[Effect] = []
        before = phi <= t_start
        after = plo >= t_end
        for mask, plus_term, minus_term in ((before, "upstream_gene_variant", "downstream_gene_variant"),
                                            (after, "downstream_gene_variant", "upstream_gene_variant")):
            for vi, ti, s in zip(v[mask], t[mask], strand[mask]):
                effects.append(Effect(int(vi), int(ti), (plus_term if s > 0 else minus_term,)))
        inside = ~(before | after)
        v, t, plo, phi = v[inside], t[inside], plo[inside], phi[inside]
        # deep intronic: between two exons and at least SPLICE_INTRON bases from both
        i = np.searchsorted(self.exon_key, t.astype(np.int64) * _KEY + plo, side="right") - 1
        first, last = ann.exon_off[t], ann.exon_off[t + 1] - 1
        valid = (i >= first) & (i < last)
        i_safe = np.clip(i, 0, len(ann.exon_start) - 2)
        deep = valid & (plo >= ann.exon_end[i_safe] + SPLICE_INTRON) & (phi <= ann.exon_start[i_safe + 1] - SPLICE_INTRON)
        for vi, ti in zip(v[deep], t[deep]):
            effects.append(Effect(int(vi), int(ti), ("intron_variant",)))
        for vi, ti in zip(v[~deep], t[~deep]):
            effects.append(self.classify(int(vi), int(ti), seq, int(starts[vi]), refs[vi], alts[vi]))
        return effects

    # --- exact classification of one variant on one transcript -------------------------------------------

    def cds_sequence(self, t: int, seq: str) -> str:
        """The transcript's coding sequence (stop codon included), 5'->3'."""
        if t not in self._cds:
            a, b = self.ann.cds_off[t], self.ann.cds_off[t + 1]
            s = "".join(seq[x:y] for x, y in zip(self.ann.cds_start[a:b], self.ann.cds_end[a:b]))
            self._cds[t] = s if self.ann.strand[t] > 0 else revcomp_str(s)
        return self._cds[t]

    def _cds_index(self, t: int, pos: int) -> int:
        """CDS coordinate (0-based, transcript orientation) of genomic ``pos``, or -1 outside the CDS."""
        ann = self.ann
        a, b = ann.cds_off[t], ann.cds_off[t + 1]
        starts, ends = ann.cds_start[a:b], ann.cds_end[a:b]
        k = int(np.searchsorted(starts, pos, side="right")) - 1
        if k < 0 or pos >= ends[k]:
            return -1
        lengths = ends - starts
        if ann.strand[t] > 0:
            return int(lengths[:k].sum() + pos - starts[k])
        return int(lengths[k + 1 :].sum() + ends[k] - 1 - pos)

    def classify(self, var: int, t: int, seq: str, start: int, ref: str, alt: str) -> Effect:
        ann = self.ann
        plus = ann.strand[t] > 0
        exons = list(zip(ann.exon_start[ann.exon_off[t] : ann.exon_off[t + 1]].tolist(),
                         ann.exon_end[ann.exon_off[t] : ann.exon_off[t + 1]].tolist()))
        ins = len(ref) == 0
        lo, hi = (start - 1, start + 1) if ins else (start, start + len(ref))
        terms: set[str] = set()

        def hit(a: int, b: int, whole: bool = False) -> bool:
            if ins:  # an insertion sits inside a site only when both flanking bases are in it
                return a <= lo and hi <= b if whole else (a <= lo < b or a <= hi - 1 < b)
            return lo < b and hi > a

        for (ea, eb), (na, nb) in zip(exons, exons[1:]):
            ia, ib = eb, na  # intron [ia, ib)
            donor, acceptor = ((ia, ia + 2), (ib - 2, ib)) if plus else ((ib - 2, ib), (ia, ia + 2))
            if hit(*donor, whole=True):
                terms.add("splice_donor_variant")
            if hit(*acceptor, whole=True):
                terms.add("splice_acceptor_variant")
            for a, b in ((ia - SPLICE_EXON, ia), (ib, ib + SPLICE_EXON), (ia + 2, ia + SPLICE_INTRON),
                         (ib - SPLICE_INTRON, ib - 2)):
                if hit(a, b):
                    terms.add("splice_region_variant")
        exonic = any((a <= lo and hi <= b) if ins else (lo < b and hi > a) for a, b in exons)
        if not exonic:
            if not terms & {"splice_donor_variant", "splice_acceptor_variant"}:
                terms.add("intron_variant")
            return Effect(var, t, tuple(sorted(terms, key=RANK.get)))
        if not ann.coding[t]:
            terms.add("non_coding_transcript_exon_variant")
            return Effect(var, t, tuple(sorted(terms, key=RANK.get)))
        effect = self._coding(var, t, seq, start, ref, alt, terms, plus)
        effect.terms = tuple(sorted(set(effect.terms), key=RANK.get))
        return effect

    def _coding(self, var, t, seq, start, ref, alt, terms: set, plus: bool) -> Effect:
        ann = self.ann
        ins = len(ref) == 0
        if ins:
            up, down = (start - 1, start) if plus else (start, start - 1)  # transcript-upstream/downstream flanks
            ci_up, ci_down = self._cds_index(t, up), self._cds_index(t, down)
            if ci_up < 0 or ci_down < 0:
                cds_lo = ann.cds_start[ann.cds_off[t]]
                cds_hi = ann.cds_end[ann.cds_off[t + 1] - 1]
                five = (start <= cds_lo) if plus else (start >= cds_hi)
                terms.add("5_prime_UTR_variant" if five else "3_prime_UTR_variant")
                return Effect(var, t, tuple(terms))
            c0, ref_t = ci_down, ""
        else:
            idx = [self._cds_index(t, p) for p in range(start, start + len(ref))]
            inside = [i >= 0 for i in idx]
            if not any(inside):
                cds_lo = ann.cds_start[ann.cds_off[t]]
                five = (start + len(ref) <= cds_lo) if plus else (start >= ann.cds_end[ann.cds_off[t + 1] - 1])
                terms.add("5_prime_UTR_variant" if five else "3_prime_UTR_variant")
                return Effect(var, t, tuple(terms))
            if not all(inside):
                terms.add("coding_sequence_variant")
                cds_len = len(self.cds_sequence(t, seq))
                if any(0 <= i < 3 for i in idx):
                    terms.add("start_lost")
                if any(cds_len - 3 <= i < cds_len for i in idx):
                    terms.add("stop_lost")
                return Effect(var, t, tuple(terms), hgvsp="p.?", hgvsp_short="p.?")
            c0 = min(idx)
            ref_t = ref if plus else revcomp_str(ref)
        alt_t = alt if plus else revcomp_str(alt)
        cds = self.cds_sequence(t, seq)
        new = cds[:c0] + alt_t + cds[c0 + len(ref_t):]
        k0 = c0 // 3
        k1 = max(k0, (c0 + len(ref_t) - 1) // 3) if ref_t else k0
        ref_codons = cds[3 * k0 : 3 * (k1 + 1)]
        protein = translate(cds)
        delta = len(alt_t) - len(ref_t)
        if delta % 3:
            terms.add("frameshift_variant")
            alt_protein = translate(new[3 * k0 :])
            ref_protein = protein[k0:]
            j = 0
            while j < min(len(alt_protein), len(ref_protein)) and alt_protein[j] == ref_protein[j]:
                j += 1
            pos = k0 + j + 1
            if j >= len(ref_protein):
                return Effect(var, t, tuple(terms), "p.?", "p.?", pos)
            r_aa = ref_protein[j]
            new_aa = alt_protein[j] if j < len(alt_protein) else "X"
            stop = alt_protein.find("*", j)
            if new_aa == "*":
                terms.discard("frameshift_variant")
                terms.add("stop_gained")
                return Effect(var, t, tuple(terms), f"p.{AA3[r_aa]}{pos}Ter", f"p.{r_aa}{pos}*", pos)
            fs = f"Ter{stop - j + 1}" if stop >= 0 else "Ter?"
            codons = f"{ref_codons}/{new[3 * k0 : max(3 * k0, 3 * (k1 + 1) + delta)]}"
            return Effect(var, t, tuple(terms), f"p.{AA3[r_aa]}{pos}{AA3[new_aa]}fs{fs}", f"p.{r_aa}{pos}fs", pos,
                          codons)
        alt_codons = new[3 * k0 : 3 * (k1 + 1) + delta]
        ref_aa, alt_aa = translate(ref_codons), translate(alt_codons)
        codons = f"{ref_codons}/{alt_codons}"
        # trim what the two peptides share, keeping track of the protein position
        p = 0
        while p < min(len(ref_aa), len(alt_aa)) and ref_aa[p] == alt_aa[p]:
            p += 1
        s = 0
        while s < min(len(ref_aa), len(alt_aa)) - p and ref_aa[-1 - s] == alt_aa[-1 - s]:
            s += 1
        r, a = ref_aa[p : len(ref_aa) - s], alt_aa[p : len(alt_aa) - s]
        pos = k0 + p + 1
        if k0 == 0 and ref_aa[:1] == "M" and alt_aa[:1] != "M":
            terms.add("start_lost")
            return Effect(var, t, tuple(terms), "p.Met1?", "p.M1?", 1, codons)
        if "*" in ref_aa and "*" not in alt_aa:
            terms.add("stop_lost")
            stop_pos = k0 + ref_aa.index("*") + 1
            ext = translate(new[3 * (stop_pos - 1) :])
            nxt = ext.find("*")
            tail = f"extTer{nxt}" if nxt > 0 else "extTer?"
            return Effect(var, t, tuple(terms), f"p.Ter{stop_pos}{AA3[ext[0]]}{tail}", f"p.*{stop_pos}{ext[0]}ext*", stop_pos, codons)
        if "*" in a and "*" not in r:
            terms.add("stop_gained")
        if not r and not a:  # the same protein
            if delta:
                terms.add("inframe_insertion" if delta > 0 else "inframe_deletion")
            else:
                terms.add("stop_retained_variant" if ref_aa.endswith("*") and k1 == len(protein) - 1 else
                          "start_retained_variant" if k0 == 0 else "synonymous_variant")
            aa = ref_aa[0]
            return Effect(var, t, tuple(terms), f"p.{AA3[aa]}{k0 + 1}=", f"p.{aa}{k0 + 1}=", k0 + 1, codons)
        if delta == 0:
            if "stop_gained" not in terms:
                terms.add("missense_variant" if len(r) == len(a) == 1 else "protein_altering_variant")
        elif "stop_gained" not in terms:
            terms.add("inframe_insertion" if delta > 0 else "inframe_deletion")
        return Effect(var, t, tuple(terms), *_hgvs_inframe(protein, pos, r, a), pos, codons)


def _hgvs_inframe(protein: str, pos: int, r: str, a: str) -> tuple[str, str]:
    """HGVS p. (three-letter) and short (one-letter) forms of an in-frame change at protein position ``pos``."""
    three = lambda s: "".join(AA3[x] for x in s)  # noqa: E731
    if len(r) == 1 and len(a) == 1:
        return f"p.{AA3[r]}{pos}{AA3[a]}", f"p.{r}{pos}{a}"
    if not r:  # insertion between pos-1 and pos
        left, right = protein[pos - 2], protein[pos - 1] if pos - 1 < len(protein) else "*"
        return (f"p.{AA3[left]}{pos - 1}_{AA3[right]}{pos}ins{three(a)}", f"p.{left}{pos - 1}_{right}{pos}ins{a}")
    span3 = f"{AA3[r[0]]}{pos}" + (f"_{AA3[r[-1]]}{pos + len(r) - 1}" if len(r) > 1 else "")
    span1 = f"{r[0]}{pos}" + (f"_{r[-1]}{pos + len(r) - 1}" if len(r) > 1 else "")
    if not a:
        return f"p.{span3}del", f"p.{span1}del"
    return f"p.{span3}delins{three(a)}", f"p.{span1}delins{a}"
