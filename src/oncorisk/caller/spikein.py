"""``oncorisk spike-in``: plant SNVs and indels into real reads at chosen allele fractions (as BAMSurgeon).

Training data with real error profiles: the reads, their qualities and the real variants around stay as
sequenced; only the planted alleles are known. For each planted site, reads that cover it are edited with
probability equal to the allele fraction (decided by a hash of read name and site, so reruns are
identical and both mates of a fragment decide independently):

- SNV: the base is replaced;
- deletion of L bases: the bases are removed and the read is extended with the L reference bases that
  follow its end, CIGAR ``aM LD bM``;
- insertion: the bases are inserted and the read's tail trimmed to keep its length, CIGAR ``aM LI bM``.

Long deletions (``LONG_DEL`` bases or more; a share ``LONG_DEL_SHARE`` of the indels outside repeats) are
aligned as short-read aligners leave them: a read with at least ``LONG_FLANK`` bases on both sides gets the
deletion in its CIGAR, one with a shorter right flank a trailing soft clip, one with a shorter left flank a
leading soft clip of the bases before the deletion and an alignment that starts after it (the output is sorted
again). The caller finds such deletions from the clips (split reads, tensors/pileup.py).

Where the planted indel lies within ``CLIP_FLANK`` bases of the read's end, the edited read is aligned
as aligners do at read ends: the short tail after the indel is soft-clipped, or (for half of such reads,
by hash) kept as mismatches with an all-match CIGAR. The model has to learn that such reads still
support the indel, and that the allele fraction of indels in repeats is underestimated. Reads with clips or indels of their own are left unedited.
Planted sites avoid existing candidate variants (>= 2 alt reads, 30 bp around) and each other (60 bp).
Indels are planted preferentially in homopolymers and short tandem repeats (unit expansions and
contractions), where real indels and alignment artefacts concentrate.

Split mode (``--split``) divides the reads by a hash of their name into a pseudo-tumour and a
pseudo-normal, and plants only into the tumour: somatic training pairs whose germline variants are real.
"""

from __future__ import annotations

import logging
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pysam

from oncorisk.errors import UserError
from oncorisk.genome.vcf import write_vcf as write_truth_vcf
from oncorisk.tensors.pileup import BASE_CODE, ReadFilter, open_alignment, pileup_region
from oncorisk.genome.fasta import open_reference
from oncorisk.genome.regions import parse_regions

log = logging.getLogger(__name__)
CLIP_FLANK = 10
MIN_DEPTH = 8
LONG_DEL = (15, 60)  # lengths of the long deletions planted (bases, inclusive range)
LONG_DEL_SHARE = 0.15
LONG_FLANK = 30  # a long deletion is aligned through (CIGAR D) only with this many bases on both sides


@dataclass
class Spike:
    contig: str
    pos: int  # 0-based anchor (SNV: the base)
    ref: str
    alt: str
    vaf: float

    @property
    def kind(self) -> str:
        return "SNV" if len(self.ref) == len(self.alt) else ("DEL" if len(self.ref) > len(self.alt) else "INS")


def _repeat_unit(seq: str, i: int) -> str | None:
    """A homopolymer or STR unit (1-4 bp) repeated >= 3 times starting right after position i."""
    for k in (1, 2, 3, 4):
        unit = seq[i + 1:i + 1 + k]
        if len(unit) == k and seq[i + 1:i + 1 + 3 * k] == unit * 3:
            return unit
    return None


def choose_spikes(rng: np.random.Generator, fasta: pysam.FastaFile, contig: str, start: int, end: int,
                  depth: np.ndarray, busy: np.ndarray, n_snv: int, n_indel: int, vafs) -> list[Spike]:
    seq = fasta.fetch(contig, start, end).upper()
    ok = (depth >= MIN_DEPTH) & ~busy
    ok[:20] = False
    ok[-20:] = False
    cand = np.flatnonzero(ok)
    rng.shuffle(cand)
    taken = np.zeros(len(seq), dtype=bool)
    spikes: list[Spike] = []
    want_snv, want_indel = n_snv, n_indel
    for i in cand:
        if want_snv == 0 and want_indel == 0:
            break
        if taken[max(0, i - 60):i + 60].any() or seq[i] not in "ACGT":
            continue
        vaf = float(vafs(rng))
        unit = _repeat_unit(seq, i)
        if want_indel and (unit is not None or rng.random() < 0.3):
            if unit is not None:
                times = int(rng.integers(1, 3))
                ins = rng.random() < 0.5
                body = unit * times
            else:
                body = "".join(rng.choice(list("ACGT"), size=int(rng.integers(1, 8))))
                ins = rng.random() < 0.5
                if not ins:
                    if rng.random() < LONG_DEL_SHARE:
                        body = "N" * int(rng.integers(LONG_DEL[0], LONG_DEL[1] + 1))
                    body = seq[i + 1:i + 1 + len(body)]
                    if len(body) >= LONG_DEL[0] and not ok[i:i + len(body) + 1].all():
                        continue  # the whole deleted span must be well covered and free
            if not ins and seq[i + 1:i + 1 + len(body)] != body:
                continue
            spikes.append(Spike(contig, start + i, seq[i] + (body if not ins else ""), seq[i] + (body if ins else ""), vaf))
            want_indel -= 1
        elif want_snv:
            alt = str(rng.choice([b for b in "ACGT" if b != seq[i]]))
            spikes.append(Spike(contig, start + i, seq[i], alt, vaf))
            want_snv -= 1
        else:
            continue
        taken[max(0, i - 60):i + 60] = True
    return sorted(spikes, key=lambda s: s.pos)


def _edit(read: pysam.AlignedSegment, sp: Spike, fasta: pysam.FastaFile) -> bool:
    """Plant one spike into a read with a single aligned block. Returns whether the read changed."""
    cig = read.cigartuples
    if not cig or len(cig) != 1 or cig[0][0] != 0:
        return False
    s, n = read.reference_start, read.query_length
    o = sp.pos - s
    seq = read.query_sequence
    qual = read.query_qualities
    if sp.kind == "SNV":
        if not 0 <= o < n:
            return False
        new, cigar = seq[:o] + sp.alt + seq[o + 1:], [(0, n)]
    elif sp.kind == "DEL":
        L = len(sp.ref) - 1
        if not (0 <= o and o + 1 + L <= n - 1):
            return False
        tail = fasta.fetch(sp.contig, s + n, s + n + L).upper()
        if len(tail) < L:
            return False
        new = seq[:o + 1] + seq[o + 1 + L:] + tail
        flank = n - (o + 1 + L)
        if L >= LONG_DEL[0] and min(o + 1, flank) < LONG_FLANK:  # an aligner clips a long deletion near an end
            if flank < LONG_FLANK and flank <= o + 1:
                return _set(read, new, qual, [(0, o + 1), (4, n - o - 1)])
            read.reference_start = s + o + 1 + L  # the bases before the deletion become a leading clip
            return _set(read, new, qual, [(4, o + 1), (0, n - o - 1)])
        if min(o + 1, flank) < CLIP_FLANK:  # near an end: no indel in the alignment
            return False if o + 1 < CLIP_FLANK else _set(read, new, qual, _near_end(read, sp, o, n))
        cigar = [(0, o + 1), (2, L), (0, n - o - 1)]
    else:
        ins = sp.alt[1:]
        L = len(ins)
        if not (0 <= o and o + 1 + L < n):
            return False
        new = seq[:o + 1] + ins + seq[o + 1:n - L]
        flank = n - (o + 1 + L)
        if min(o + 1, flank) < CLIP_FLANK:
            return False if o + 1 < CLIP_FLANK else _set(read, new, qual, _near_end(read, sp, o, n))
        cigar = [(0, o + 1), (1, L), (0, n - o - 1 - L)]
    return _set(read, new, qual, cigar)


def _near_end(read, sp: Spike, o: int, n: int) -> list[tuple[int, int]]:
    """CIGAR of a read whose planted indel is too close to its end to be aligned: clip or mismatch."""
    if _u("clip", read.query_name, sp.pos) < 0.5:
        return [(0, o + 1), (4, n - o - 1)]
    return [(0, n)]


def _set(read, seq, qual, cigar) -> bool:
    read.query_sequence = seq
    read.query_qualities = qual
    read.cigartuples = cigar
    for tag in ("MD", "NM"):
        if read.has_tag(tag):
            read.set_tag(tag, None)
    return True


def _u(*parts) -> float:
    return zlib.crc32("|".join(map(str, parts)).encode()) / 2 ** 32


def spike_in(bam: str, ref: str, out_bam: str, truth_vcf: str, regions: list[str], n_snv: int, n_indel: int,
             vaf_range: tuple[float, float] | None, genotypes: bool, seed: int, normal_out: str | None = None) -> dict:
    """Write an edited BAM (+ .bai) and a truth VCF of the planted alleles (and, with ``normal_out``, a
    pseudo-normal of the other half of the reads)."""
    fasta = open_reference(ref)
    aln = open_alignment(bam, ref)
    rng = np.random.default_rng(seed)
    spikes: list[Spike] = []
    regs = parse_regions(regions, fasta)
    order = rng.permutation(len(regs))  # regions in random order take what is left of the quotas
    left_snv, left_indel = n_snv, n_indel
    if genotypes:
        def vafs(r):
            return 1.0 if r.random() < 0.35 else 0.5
    else:
        lo, hi = vaf_range

        def vafs(r):
            return r.uniform(lo, hi)
    for j in order:
        contig, a, b = regs[j]
        if left_snv == 0 and left_indel == 0:
            break
        pile = pileup_region(aln, bam, fasta, contig, a, b, ReadFilter(max_depth=0, min_base_quality=0))
        alt_any = pile.counts[:, :, :4].sum(axis=1)
        ref_code = BASE_CODE[pile.ref].astype(np.int64)
        alt_n = alt_any.sum(axis=1) - np.where(ref_code < 4, alt_any[np.arange(len(ref_code)), np.minimum(ref_code, 3)], 0)
        indel_n = pile.counts[:, :, 4:6].sum(axis=(1, 2))
        busy_pt = (alt_n >= 2) | (indel_n >= 2)
        # within 30 bp of an existing variant ("full" then centred: also right for regions shorter than 61 bp)
        busy = np.convolve(busy_pt.astype(int), np.ones(61, dtype=int))[30:30 + len(busy_pt)] > 0
        got = choose_spikes(rng, fasta, contig, a, b, pile.depth, busy, left_snv, left_indel, vafs)
        left_snv -= sum(sp.kind == "SNV" for sp in got)
        left_indel -= sum(sp.kind != "SNV" for sp in got)
        spikes += got
    spikes.sort(key=lambda sp: (fasta.references.index(sp.contig), sp.pos))
    if not spikes:
        raise UserError(f"{bam}: no site in the regions has depth >= {MIN_DEPTH} away from existing variants: "
                        f"give larger or better-covered regions")
    by_contig: dict[str, list[Spike]] = {}
    for sp in spikes:
        by_contig.setdefault(sp.contig, []).append(sp)
    out = pysam.AlignmentFile(out_bam + ".tmp.bam", "wb", template=aln)
    normal = pysam.AlignmentFile(normal_out + ".tmp.bam", "wb", template=aln) if normal_out else None
    edited = 0
    for read in aln.fetch(until_eof=False):
        if normal is not None and _u(seed, read.query_name) < 0.5:
            normal.write(read)
            continue
        if not read.is_unmapped and not read.is_secondary and not read.is_supplementary:
            for sp in by_contig.get(read.reference_name, ()):
                if sp.pos < read.reference_start - 1:
                    continue
                if sp.pos > (read.reference_end or 0):
                    break
                if _u(seed, read.query_name, read.is_read1, sp.pos) < sp.vaf and _edit(read, sp, fasta):
                    edited += 1
                    break
        out.write(read)
    out.close()
    # reads that now start after a long deletion moved: sort again (deterministic for the same input)
    pysam.sort("-o", out_bam + ".sorted.tmp.bam", out_bam + ".tmp.bam", catch_stdout=False)
    Path(out_bam + ".tmp.bam").unlink()
    Path(out_bam + ".sorted.tmp.bam").replace(out_bam)
    pysam.index(out_bam)
    if normal is not None:
        normal.close()
        Path(normal_out + ".tmp.bam").replace(normal_out)
        pysam.index(normal_out)
    records = []
    for sp in spikes:
        gt = "1/1" if sp.vaf >= 0.99 and genotypes else "0/1"
        records.append(f"{sp.contig}\t{sp.pos + 1}\t.\t{sp.ref}\t{sp.alt}\t.\tPASS\tEXPECTED_VAF={sp.vaf:.4f}\tGT\t{gt}")
    contigs = dict(zip(fasta.references, fasta.lengths))
    write_truth_vcf(Path(truth_vcf), contigs, ["SPIKE"], records,
                    ['##INFO=<ID=EXPECTED_VAF,Number=1,Type=Float,Description="Planted allele fraction">'],
                    ['##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">'], seed)
    return dict(spikes=len(spikes), snv=sum(s.kind == "SNV" for s in spikes),
                indel=sum(s.kind != "SNV" for s in spikes), reads_edited=edited)
