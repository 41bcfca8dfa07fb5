"""Consequences of variants on transcripts: Sequence Ontology terms and HGVS protein changes.

Vectorised where most variants fall (intergenic, upstream/downstream, deep intronic); every variant within
8 bp of an exon is classified exactly, one transcript at a time, from the transcript's coding sequence.

Definitions follow VEP: splice donor/acceptor = the first/last 2 intron bases; splice region = 1-3 exon
bases or 3-8 intron bases at an internal exon boundary; upstream/downstream = within 5 kb of the
transcript (strand-aware); coding changes from translating the reference and the mutated CDS.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np

from oncorisk.impact.annotation import Annotation
from oncorisk.impact.terms import AA3, RANK
from oncorisk.genome.codes import BASE_CODE, COMPLEMENT_TABLE, GENETIC_CODE, revcomp_str

FLANK = 5000
SPLICE_EXON = 3
SPLICE_INTRON = 8
_KEY = np.int64(1) << 32


def translate(seq: str) -> str:
    """Translate a coding sequence; an incomplete last codon becomes X."""
    return "".join(GENETIC_CODE.get(seq[i : i + 3], "X") for i in range(0, len(seq) - len(seq) % 3, 3)) + (
        "X" if len(seq) % 3 else "")


def translate_to_stop(seq: str) -> str:
    """Translate codon by codon up to and including the first stop."""
    out = []
    for i in range(0, len(seq) - 2, 3):
        aa = GENETIC_CODE.get(seq[i : i + 3], "X")
        out.append(aa)
        if aa == "*":
            break
    return "".join(out)


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
        seg_lo = np.searchsorted(self.breaks, lo, side="right") - 1
        seg_hi = np.searchsorted(self.breaks, np.maximum(hi - 1, lo), side="right") - 1
        wide = seg_hi != seg_lo  # spans crossing a segment boundary also get the far end's transcripts
        narrow = np.flatnonzero(~wide)
        v1, t1 = self._expand(narrow, seg_lo[narrow])
        if not wide.any():
            return v1, t1
        w = np.flatnonzero(wide)
        va, ta = self._expand(w, seg_lo[w])
        vb, tb = self._expand(w, seg_hi[w])
        key = np.unique(np.concatenate([va, vb]) * (1 << 31) + np.concatenate([ta, tb]))
        return np.concatenate([v1, key // (1 << 31)]), np.concatenate([t1, key % (1 << 31)])

    def _expand(self, var: np.ndarray, seg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        a, b = self.ptr[seg], self.ptr[seg + 1]
        counts = b - a
        total = int(counts.sum())
        if total == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        offs = np.repeat(a - np.concatenate(([0], np.cumsum(counts)[:-1])), counts)
        return np.repeat(var, counts), self.members[np.arange(total) + offs]


@dataclass
class EffectTable:
    """Effects of variants on transcripts, as columns (one row per variant-transcript pair)."""

    var: np.ndarray
    tx: np.ndarray
    rank: np.ndarray
    terms: list[str]
    hgvsp: list[str]
    hgvsp_short: list[str]
    protein_pos: np.ndarray
    codons: list[str]

    def __len__(self) -> int:
        return len(self.var)

    def effects(self) -> list[Effect]:
        return [Effect(int(v), int(t), tuple(terms.split("&")), hp, hs, int(pp), cd) for v, t, terms, hp, hs, pp, cd in
                zip(self.var, self.tx, self.terms, self.hgvsp, self.hgvsp_short, self.protein_pos, self.codons)]

    @classmethod
    def concat(cls, parts: list["EffectTable"]) -> "EffectTable":
        if not parts:
            z = np.zeros(0, dtype=np.int64)
            return cls(z, z, z, [], [], [], z, [])
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) if isinstance(getattr(parts[0], f), np.ndarray)
                     else [x for p in parts for x in getattr(p, f)] for f in cls.__dataclass_fields__))


def _simple(var, tx, term: str) -> EffectTable:
    n = len(var)
    return EffectTable(np.asarray(var, dtype=np.int64), np.asarray(tx, dtype=np.int64), np.full(n, RANK[term]),
                       [term] * n, [""] * n, [""] * n, np.zeros(n, dtype=np.int64), [""] * n)


_AA_OF_CODE = np.frombuffer("".join(GENETIC_CODE[a + b + c] for a in "ACGT" for b in "ACGT" for c in "ACGT").encode(),
                            dtype=np.uint8)
_BASE_CODE = BASE_CODE.astype(np.int64)
_COMP = COMPLEMENT_TABLE


class Annotator:
    """Classifies variants against an annotation and a reference sequence, contig by contig."""

    def __init__(self, ann: Annotation, flank: int = FLANK):
        self.ann = ann
        self.flank = flank
        self._index: dict[str, ContigIndex] = {}
        self._cds: dict[int, str] = {}
        self._tx_cache: dict[int, tuple] = {}
        ex_tx = np.repeat(np.arange(ann.n), np.diff(ann.exon_off))
        self.exon_key = ex_tx.astype(np.int64) * _KEY + ann.exon_start
        cds_tx = np.repeat(np.arange(ann.n), np.diff(ann.cds_off))
        self.cds_key = cds_tx.astype(np.int64) * _KEY + ann.cds_start
        seg_len = ann.cds_end - ann.cds_start
        cum = np.concatenate(([0], np.cumsum(seg_len)))
        self.cds_total = cum[ann.cds_off[1:]] - cum[ann.cds_off[:-1]]
        self.cum_plus = cum[:-1] - cum[ann.cds_off[cds_tx]]  # CDS bases before a segment, plus strand
        self.cum_minus = cum[ann.cds_off[cds_tx + 1]] - cum[1:]  # CDS bases after it, minus strand
        has_cds = ann.cds_off[1:] > ann.cds_off[:-1]
        self.cds_lo = np.where(has_cds, ann.cds_start[np.minimum(ann.cds_off[:-1], len(ann.cds_start) - 1)], -1)
        self.cds_hi = np.where(has_cds, ann.cds_end[np.maximum(ann.cds_off[1:] - 1, 0)], -1)
        self._contig_cds: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def index(self, contig: str) -> ContigIndex:
        if contig not in self._index:
            self._index[contig] = ContigIndex(self.ann, contig, self.flank)
        return self._index[contig]

    def _all_cds(self, contig: str, seq: str) -> tuple[np.ndarray, np.ndarray]:
        """Every coding sequence of the contig's transcripts, concatenated (uint8), and each one's offset."""
        if contig not in self._contig_cds:
            tx = self.index(contig).tx
            offsets = np.full(self.ann.n, -1, dtype=np.int64)
            parts, pos = [], 0
            for t in tx:
                if self.ann.coding[t]:
                    offsets[t] = pos
                    s = self.cds_sequence(int(t), seq)
                    parts.append(s)
                    pos += len(s)
            self._contig_cds[contig] = (np.frombuffer("".join(parts).encode(), dtype=np.uint8), offsets)
        return self._contig_cds[contig]

    def annotate(self, contig: str, seq: str, starts: np.ndarray, refs: list[str], alts: list[str]) -> EffectTable:
        """Effects of normalised variants (``genome.alleles.trim_alleles``) on one contig; ``seq`` is the contig, upper case.

        Returns:
            one row per (variant, transcript) pair within FLANK of the transcript; variants with none are
            intergenic.
        """
        ann = self.ann
        starts = np.asarray(starts, dtype=np.int64)
        rlen = np.fromiter((len(r) for r in refs), dtype=np.int64, count=len(refs))
        alen = np.fromiter((len(a) for a in alts), dtype=np.int64, count=len(alts))
        is_ins = rlen == 0
        lo = np.where(is_ins, starts - 1, starts)
        hi = np.where(is_ins, starts + 1, starts + rlen)
        v, t = self.index(contig).pairs(lo, hi)
        if len(v) == 0:
            return EffectTable.concat([])
        t_start, t_end, strand = ann.start[t], ann.end[t], ann.strand[t]
        plo, phi = lo[v], hi[v]
        near = (phi > t_start - self.flank) & (plo < t_end + self.flank)
        v, t, plo, phi, t_start, t_end, strand = (x[near] for x in (v, t, plo, phi, t_start, t_end, strand))
        parts: list[EffectTable] = []
        before = phi <= t_start
        after = plo >= t_end
        up = (before & (strand > 0)) | (after & (strand < 0))
        down = (before & (strand < 0)) | (after & (strand > 0))
        parts.append(_simple(v[up], t[up], "upstream_gene_variant"))
        parts.append(_simple(v[down], t[down], "downstream_gene_variant"))
        inside = ~(before | after)
        v, t, plo, phi, strand = v[inside], t[inside], plo[inside], phi[inside], strand[inside]
        # where is the span relative to the exon that starts at or before it?
        n_ex = len(ann.exon_start)
        i = np.searchsorted(self.exon_key, t.astype(np.int64) * _KEY + plo, side="right") - 1
        first, last = ann.exon_off[t], ann.exon_off[t + 1] - 1
        valid = (i >= first) & (i <= last)
        i_s = np.clip(i, 0, n_ex - 1)
        i_next = np.clip(i + 1, 0, n_ex - 1)
        has_next = valid & (i < last)
        ex_a, ex_b = ann.exon_start[i_s], ann.exon_end[i_s]
        deep = has_next & (plo >= ex_b + SPLICE_INTRON) & (phi <= ann.exon_start[i_next] - SPLICE_INTRON)
        parts.append(_simple(v[deep], t[deep], "intron_variant"))
        # inside one exon, away from internal exon boundaries (splice regions need the exact path)
        lo_margin = np.where(i_s > first, SPLICE_EXON, 0)
        hi_margin = np.where(i_s < last, SPLICE_EXON, 0)
        plain_exon = valid & (plo >= ex_a + lo_margin) & (phi <= ex_b - hi_margin)
        noncoding = plain_exon & ~ann.coding[t]
        parts.append(_simple(v[noncoding], t[noncoding], "non_coding_transcript_exon_variant"))
        coding = plain_exon & ann.coding[t]
        cds_lo, cds_hi = self.cds_lo[t], self.cds_hi[t]
        five = coding & (((strand > 0) & (phi <= cds_lo)) | ((strand < 0) & (plo >= cds_hi)))
        three = coding & (((strand > 0) & (plo >= cds_hi)) | ((strand < 0) & (phi <= cds_lo)))
        parts.append(_simple(v[five], t[five], "5_prime_UTR_variant"))
        parts.append(_simple(v[three], t[three], "3_prime_UTR_variant"))
        snv = coding & ~five & ~three & (rlen[v] == 1) & (alen[v] == 1)
        done = deep | noncoding | five | three
        snv_table, snv_done = self._coding_snvs(contig, seq, v[snv], t[snv], starts, alts)
        parts.append(snv_table)
        done[np.flatnonzero(snv)[snv_done]] = True
        rest = [self.classify(int(vi), int(ti), seq, int(starts[vi]), refs[vi], alts[vi])
                for vi, ti in zip(v[~done], t[~done])]
        if rest:
            parts.append(EffectTable(
                np.array([e.var for e in rest], dtype=np.int64), np.array([e.tx for e in rest], dtype=np.int64),
                np.array([e.rank for e in rest], dtype=np.int64), ["&".join(e.terms) for e in rest],
                [e.hgvsp for e in rest], [e.hgvsp_short for e in rest],
                np.array([e.protein_pos for e in rest], dtype=np.int64), [e.codons for e in rest]))
        return EffectTable.concat(parts)

    def _coding_snvs(self, contig, seq, v, t, starts, alts) -> tuple[EffectTable, np.ndarray]:
        """Vectorised SNVs inside one coding exon: codon, amino acids, SO term and HGVS p.

        Returns:
            the effects, and a mask of the pairs handled (others, e.g. an incomplete last codon, go the exact way).
        """
        ann = self.ann
        if len(v) == 0:
            return EffectTable.concat([]), np.zeros(0, dtype=bool)
        pos = starts[v]
        j = np.searchsorted(self.cds_key, t.astype(np.int64) * _KEY + pos, side="right") - 1
        j_s = np.clip(j, 0, len(ann.cds_start) - 1)
        inside = (j >= ann.cds_off[t]) & (j < ann.cds_off[t + 1]) & (pos < ann.cds_end[j_s])
        plus = ann.strand[t] > 0
        c = np.where(plus, self.cum_plus[j_s] + pos - ann.cds_start[j_s], self.cum_minus[j_s] + ann.cds_end[j_s] - 1 - pos)
        k, o = c // 3, c % 3
        complete = 3 * k + 2 < self.cds_total[t]
        allcds, offs = self._all_cds(contig, seq)
        base = offs[t] + 3 * k
        ok = inside & complete & (offs[t] >= 0)
        base = np.where(ok, base, 0)
        codon = np.stack([allcds[np.minimum(base + x, len(allcds) - 1)] for x in range(3)], axis=1)
        alt_b = np.frombuffer("".join(alts[x] for x in v).encode(), dtype=np.uint8)
        alt_t = np.where(plus, alt_b, _COMP[alt_b])
        new = codon.copy()
        new[np.arange(len(v)), o] = alt_t
        ref_code = _BASE_CODE[codon]
        alt_code = _BASE_CODE[new]
        ok &= (ref_code < 4).all(axis=1) & (alt_code < 4).all(axis=1)
        ref_aa = _AA_OF_CODE[np.minimum(ref_code[:, 0] * 16 + ref_code[:, 1] * 4 + ref_code[:, 2], 63)]
        alt_aa = _AA_OF_CODE[np.minimum(alt_code[:, 0] * 16 + alt_code[:, 1] * 4 + alt_code[:, 2], 63)]
        star, met = ord("*"), ord("M")
        term = np.where((k == 0) & (ref_aa == met) & (alt_aa != met), "start_lost",
               np.where((ref_aa == star) & (alt_aa != star), "stop_lost",
               np.where((ref_aa != star) & (alt_aa == star), "stop_gained",
               np.where((ref_aa == star) & (alt_aa == star) & (k == self.cds_total[t] // 3 - 1), "stop_retained_variant",
               np.where(ref_aa == alt_aa, np.where(k == 0, "start_retained_variant", "synonymous_variant"),
                        "missense_variant")))))
        idx = np.flatnonzero(ok)
        terms, hgvsp, short, codons = [], [], [], []
        for x in idx:
            r, a, p, tm = chr(ref_aa[x]), chr(alt_aa[x]), int(k[x]) + 1, str(term[x])
            terms.append(tm)
            codons.append(codon[x].tobytes().decode() + "/" + new[x].tobytes().decode())
            if tm == "start_lost":
                hgvsp.append("p.Met1?")
                short.append("p.M1?")
            elif tm == "stop_lost":
                hgvsp.append(f"p.Ter{p}{AA3[a]}extTer?")
                short.append(f"p.*{p}{a}ext*")
            elif r == a:
                hgvsp.append(f"p.{AA3[r]}{p}=")
                short.append(f"p.{r}{p}=")
            else:
                hgvsp.append(f"p.{AA3[r]}{p}{AA3[a]}")
                short.append(f"p.{r}{p}{a}")
        table = EffectTable(v[idx].astype(np.int64), t[idx].astype(np.int64),
                            np.array([RANK[x] for x in terms], dtype=np.int64), terms, hgvsp, short,
                            (k[idx] + 1).astype(np.int64), codons)
        return table, ok

    # --- exact classification of one variant on one transcript -------------------------------------------

    def cds_sequence(self, t: int, seq: str) -> str:
        """The transcript's coding sequence (stop codon included), 5'->3'."""
        if t not in self._cds:
            a, b = self.ann.cds_off[t], self.ann.cds_off[t + 1]
            s = "".join(seq[x:y] for x, y in zip(self.ann.cds_start[a:b].tolist(), self.ann.cds_end[a:b].tolist()))
            self._cds[t] = s if self.ann.strand[t] > 0 else revcomp_str(s)
        return self._cds[t]

    def _tx(self, t: int) -> tuple:
        """Per-transcript Python lists: exons, CDS segment starts/ends and bases before each (transcript order)."""
        if t not in self._tx_cache:
            ann = self.ann
            exons = list(zip(ann.exon_start[ann.exon_off[t] : ann.exon_off[t + 1]].tolist(),
                             ann.exon_end[ann.exon_off[t] : ann.exon_off[t + 1]].tolist()))
            a, b = ann.cds_off[t], ann.cds_off[t + 1]
            cs, ce = ann.cds_start[a:b].tolist(), ann.cds_end[a:b].tolist()
            before = (self.cum_plus if ann.strand[t] > 0 else self.cum_minus)[a:b].tolist()
            self._tx_cache[t] = (exons, cs, ce, before)
        return self._tx_cache[t]

    def _cds_index(self, t: int, pos: int) -> int:
        """CDS coordinate (0-based, transcript orientation) of genomic ``pos``, or -1 outside the CDS."""
        _, cs, ce, before = self._tx(t)
        k = bisect.bisect_right(cs, pos) - 1
        if k < 0 or pos >= ce[k]:
            return -1
        return before[k] + (pos - cs[k] if self.ann.strand[t] > 0 else ce[k] - 1 - pos)

    def classify(self, var: int, t: int, seq: str, start: int, ref: str, alt: str) -> Effect:
        ann = self.ann
        plus = ann.strand[t] > 0
        exons = self._tx(t)[0]
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
        delta = len(alt_t) - len(ref_t)
        if delta % 3:
            terms.add("frameshift_variant")
            alt_protein = translate_to_stop(new[3 * k0 :])
            ref_protein = translate_to_stop(cds[3 * k0 :])
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
            ext = translate(new[3 * (stop_pos - 1) :]) or "X"  # X: the change runs past the annotated CDS
            nxt = ext.find("*")
            tail = f"extTer{nxt}" if nxt > 0 else "extTer?"
            return Effect(var, t, tuple(terms), f"p.Ter{stop_pos}{AA3[ext[0]]}{tail}", f"p.*{stop_pos}{ext[0]}ext*", stop_pos, codons)
        if "*" in a and "*" not in r:
            terms.add("stop_gained")
        if not r and not a:  # the same protein
            if delta:
                terms.add("inframe_insertion" if delta > 0 else "inframe_deletion")
            else:
                terms.add("stop_retained_variant" if ref_aa.endswith("*") and k1 == len(cds) // 3 - 1 else
                          "start_retained_variant" if k0 == 0 else "synonymous_variant")
            aa = ref_aa[0]
            return Effect(var, t, tuple(terms), f"p.{AA3[aa]}{k0 + 1}=", f"p.{aa}{k0 + 1}=", k0 + 1, codons)
        if delta == 0:
            if "stop_gained" not in terms:
                terms.add("missense_variant" if len(r) == len(a) == 1 else "protein_altering_variant")
        elif "stop_gained" not in terms:
            terms.add("inframe_insertion" if delta > 0 else "inframe_deletion")
        return Effect(var, t, tuple(terms), *_hgvs_inframe(cds, pos, r, a), pos, codons)


def _hgvs_inframe(cds: str, pos: int, r: str, a: str) -> tuple[str, str]:
    """HGVS p. (three-letter) and short (one-letter) forms of an in-frame change at protein position ``pos``."""
    three = lambda s: "".join(AA3[x] for x in s)  # noqa: E731
    if len(r) == 1 and len(a) == 1:
        return f"p.{AA3[r]}{pos}{AA3[a]}", f"p.{r}{pos}{a}"
    if not r:  # insertion between pos-1 and pos
        left = translate(cds[3 * (pos - 2) : 3 * (pos - 1)]) or "X"
        right = translate(cds[3 * (pos - 1) : 3 * pos]) or "*"
        return (f"p.{AA3[left]}{pos - 1}_{AA3[right]}{pos}ins{three(a)}", f"p.{left}{pos - 1}_{right}{pos}ins{a}")
    span3 = f"{AA3[r[0]]}{pos}" + (f"_{AA3[r[-1]]}{pos + len(r) - 1}" if len(r) > 1 else "")
    span1 = f"{r[0]}{pos}" + (f"_{r[-1]}{pos + len(r) - 1}" if len(r) > 1 else "")
    if not a:
        return f"p.{span3}del", f"p.{span1}del"
    return f"p.{span3}delins{three(a)}", f"p.{span1}delins{a}"
