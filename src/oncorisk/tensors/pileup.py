"""Reads of one region to per-position pileup counts and indel alleles (pysam in, numpy arrays out).

Reads are fetched once; their CIGARs are turned into aligned blocks in a short Python loop, and every
per-base count is then made by vectorised numpy (``bincount``), which is what makes this as fast as
``samtools mpileup``. Counting conventions follow samtools mpileup, so the two can be compared base for
base (tests/test_tensors.py):

- a base is counted at its reference position when its read passes the flag and MAPQ filters and the
  base's quality is at least ``min_base_quality``;
- a deletion is counted once at its anchor (the reference base before it, mpileup's ``-N``) and as a
  deleted base at every position it spans (mpileup's ``*``);
- an insertion is counted at its anchor (mpileup's ``+N``);
- a soft clip is counted where the clipped read's alignment starts or ends (a sign of misalignment).

Indel alleles are left-aligned against the reference before they are counted, so reads that place the
same indel at different offsets of a repeat count as one allele.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np
import pysam

from oncorisk.errors import UserError
from oncorisk.genome.alleles import left_align_indel
from oncorisk.genome.codes import BASE_CODE
from oncorisk.tensors.layout import COUNT_FIELDS

FLAG_NAMES = {"unmapped": 0x4, "secondary": 0x100, "qcfail": 0x200, "duplicate": 0x400, "supplementary": 0x800}
DEFAULT_EXCLUDE = sum(FLAG_NAMES.values())
PAD = 150  # bases fetched beyond the region: indels anchored near its ends, left-alignment
DOWNSAMPLE_BIN = 100

NF = len(COUNT_FIELDS)
F_INS, F_DEL, F_DELBASE, F_CLIP = (COUNT_FIELDS.index(k) for k in ("ins", "del", "delbase", "clip"))
_M, _I, _D, _N, _S, _EQ, _X = 0, 1, 2, 3, 4, 7, 8


@dataclass(frozen=True)
class ReadFilter:
    """Which reads and bases count. Defaults drop unmapped, secondary, supplementary, QC-fail and duplicate reads."""

    min_mapq: int = 5
    min_base_quality: int = 10
    exclude_flags: int = DEFAULT_EXCLUDE
    max_depth: int = 250


@dataclass
class Pileup:
    """Counts over ``[start, end)`` of one contig (0-based), in arrays indexed by ``pos - start``."""

    contig: str
    start: int
    end: int
    ref: np.ndarray  # uint8 ASCII, upper case
    counts: np.ndarray  # int32 (L, 2 strands, len(COUNT_FIELDS))
    depth: np.ndarray  # int32 (L,): counted bases plus deletions over the position
    bq_sum: np.ndarray  # float64 (L, 2): [reference-matching, other] base-quality sums
    mq_sum: np.ndarray  # float64 (L, 2)
    n_qual: np.ndarray  # int32 (L, 2): bases behind the two sums
    indels: dict = field(default_factory=dict)  # (anchor, ref, alt) -> int array [fwd, rev]
    reads: int = 0
    reads_dropped_downsampling: int = 0
    # the counted reads, sorted by start: (start, is_reverse, mapq, cigartuples or None for one aligned
    # block, seq, qual bytes, end)
    read_store: list = field(default_factory=list, repr=False)

    def base_counts(self) -> np.ndarray:
        """(L, 4) A/C/G/T counts over both strands."""
        return self.counts[:, :, :4].sum(axis=1)


def open_alignment(path: str, reference: str | None) -> pysam.AlignmentFile:
    """Open a BAM/CRAM with its index, turning htslib's complaints into one-line errors with the fix."""
    kwargs = {"reference_filename": reference} if reference and str(path).endswith(".cram") else {}
    try:
        aln = pysam.AlignmentFile(str(path), "rb" if not str(path).endswith(".cram") else "rc", **kwargs)
    except FileNotFoundError:
        raise UserError(f"{path}: alignment file not found: give an existing BAM or CRAM") from None
    except (ValueError, OSError) as exc:
        raise UserError(f"{path}: cannot read as BAM/CRAM ({exc}): check the file is complete "
                        f"('samtools quickcheck {path}') and not plain SAM") from None
    if not aln.has_index():
        raise UserError(f"{path}: no index (.bai/.csi/.crai) found: run 'samtools index {path}'")
    sort_order = aln.header.to_dict().get("HD", {}).get("SO")
    if sort_order not in (None, "coordinate"):
        raise UserError(f"{path}: header says SO:{sort_order}, not coordinate-sorted: run "
                        f"'samtools sort -o sorted.bam {path} && samtools index sorted.bam'")
    return aln


def _fetch(aln: pysam.AlignmentFile, path: str, contig: str, lo: int, hi: int):
    try:
        yield from aln.fetch(contig, lo, hi)
    except OSError as exc:
        try:  # htslib's close after a failed read raises again; do it here, not in a destructor's traceback
            aln.close()
        except OSError:
            pass
        raise UserError(f"{path}: read error in {contig}:{lo + 1}-{hi} ({exc}): the file is truncated or corrupt, "
                        f"or its index is stale (made for another version of the file): re-index it ('samtools "
                        f"index {path}'); if that fails, check it ('samtools quickcheck -v {path}') and copy or "
                        f"re-create it") from None


def _keep_fraction(starts: np.ndarray, ends: np.ndarray, lo: int, hi: int, max_depth: int) -> np.ndarray:
    """Per read, the fraction to keep so that expected depth stays at most ``max_depth``."""
    n = hi - lo
    diff = np.zeros(n + 1, dtype=np.int64)
    np.add.at(diff, np.clip(starts - lo, 0, n), 1)
    np.add.at(diff, np.clip(ends - lo, 0, n), -1)
    cov = np.cumsum(diff[:-1])
    nb = -(-n // DOWNSAMPLE_BIN)
    padded = np.zeros(nb * DOWNSAMPLE_BIN, dtype=np.int64)
    padded[:n] = cov
    bin_max = padded.reshape(nb, DOWNSAMPLE_BIN).max(axis=1)
    mid = np.clip(((starts + ends) // 2 - lo) // DOWNSAMPLE_BIN, 0, nb - 1)
    peak = bin_max[mid]
    return np.where(peak > max_depth, max_depth / np.maximum(peak, 1), 1.0)


BATCH = 20_000  # reads expanded at once: bounds memory whatever the partition's depth
# split reads: a soft clip of at least MIN_CLIP bases found once, exactly, in the reference within MAX_SPLIT_DEL bases
# beyond the aligned end supports a deletion of the bases between (long deletions that aligners clip)
MIN_CLIP = 10
MIN_SPLIT_DEL = 10
MAX_SPLIT_DEL = 300


class _Counter:
    """Per-position counts over ``[lo, hi)``, accumulated one batch of reads at a time."""

    def __init__(self, lo: int, hi: int, ref: np.ndarray, filt: ReadFilter):
        self.lo, self.W, self.ref, self.filt = lo, hi - lo, ref, filt
        self.ref_code = BASE_CODE[ref].astype(np.int32)
        W = self.W
        # int32 counts and float32 sums (integers, exact below 2**24): memory per chunk position stays small
        self.counts = np.zeros(W * 2 * NF, dtype=np.int32)
        self.depth = np.zeros(W, dtype=np.int32)
        self.bq_sum = np.zeros(W * 3, dtype=np.float32)
        self.mq_sum = np.zeros(W * 3, dtype=np.float32)
        self.n_qual = np.zeros(W * 3, dtype=np.int32)
        self.indels: dict = {}
        self.reads = 0

    def _expand(self, at, lens):
        lens = np.asarray(lens, dtype=np.int32)
        first = np.cumsum(lens, dtype=np.int64) - lens
        rel = np.arange(int(lens.sum()), dtype=np.int32) - np.repeat(first.astype(np.int32), lens)
        return np.repeat(np.asarray(at, dtype=np.int32) - self.lo, lens) + rel, rel, lens

    def _add(self, pos, strand, fld):  # pos relative to lo
        m = (pos >= 0) & (pos < self.W)
        self.counts += np.bincount((pos[m] * 2 + strand[m]) * NF + fld, minlength=self.counts.size).astype(np.int32)
        return m

    def add(self, batch: list) -> None:
        """Count a batch of reads: tuples (reference_start, is_reverse, mapq, cigartuples, seq, qual bytes, end)."""
        if not batch:
            return
        lo, W = self.lo, self.W
        mb_ref, mb_q, mb_len, mb_read = [], [], [], []
        del_at, del_len, del_read = [], [], []
        ins_at, ins_q, ins_len, ins_read = [], [], [], []
        clip_at, clip_read = [], []
        split: list = []  # (read, leading clip?, reference position of the clip's edge, clipped bases)
        qbase = 0
        for k, (start, _, _, cig, seq, _, _) in enumerate(batch):
            rp, qp = start, qbase
            qbase += len(seq)
            if cig is None:  # the common case: one aligned block
                mb_ref.append(rp)
                mb_q.append(qp)
                mb_len.append(len(seq))
                mb_read.append(k)
                continue
            for j, (op, n) in enumerate(cig):
                if op == _M or op == _EQ or op == _X:
                    mb_ref.append(rp)
                    mb_q.append(qp)
                    mb_len.append(n)
                    mb_read.append(k)
                    rp += n
                    qp += n
                elif op == _D:
                    del_at.append(rp - 1)
                    del_len.append(n)
                    del_read.append(k)
                    rp += n
                elif op == _I:
                    ins_at.append(rp - 1)
                    ins_q.append(qp)
                    ins_len.append(n)
                    ins_read.append(k)
                    qp += n
                elif op == _S:
                    clip_at.append(rp if j <= 1 and rp == start else rp - 1)
                    clip_read.append(k)
                    if n >= MIN_CLIP:  # qp counts from the batch's start; this read's bases from qbase - len(seq)
                        at = qp - (qbase - len(seq))
                        split.append((k, j <= 1 and rp == start, rp, seq[at:at + n]))
                    qp += n
                elif op == _N:
                    rp += n
        self.reads += len(batch)
        seqbuf = np.frombuffer("".join(b[4] for b in batch).encode(), dtype=np.uint8)
        qualbuf = np.frombuffer(b"".join(b[5] for b in batch), dtype=np.uint8)
        rev = np.fromiter((b[1] for b in batch), dtype=np.int64, count=len(batch))
        mq = np.fromiter((b[2] for b in batch), dtype=np.float64, count=len(batch))
        if mb_len:
            p, rel, lens = self._expand(mb_ref, mb_len)
            read = np.asarray(mb_read, dtype=np.int32)
            qpos = np.repeat(np.asarray(mb_q, dtype=np.int32), lens) + rel
            strand = np.repeat(rev[read].astype(np.int32), lens)
            mqb = np.repeat(mq[read], lens)
            inside = (p >= 0) & (p < W)
            if not inside.all():  # reads reaching past the fetched reference
                p, qpos, strand, mqb = p[inside], qpos[inside], strand[inside], mqb[inside]
            qv = qualbuf[qpos]
            code = BASE_CODE[seqbuf[qpos]].astype(np.int32)
            dropped = qv < self.filt.min_base_quality
            # slots per (position, strand): A C G T N dropped
            c6 = np.bincount((p * 2 + strand) * 6 + np.where(dropped, 5, code), minlength=W * 12).reshape(W, 2, 6)
            self.counts.reshape(W, 2, NF)[:, :, :4] += c6[:, :, :4].astype(np.int32)
            self.depth += c6[:, :, :5].sum(axis=(1, 2)).astype(np.int32)
            slot = p * 3 + np.where(dropped, 2, (code != self.ref_code[p]).astype(np.int32))
            self.bq_sum += np.bincount(slot, weights=qv, minlength=W * 3).astype(np.float32)
            self.mq_sum += np.bincount(slot, weights=mqb, minlength=W * 3).astype(np.float32)
            self.n_qual += np.bincount(slot, minlength=W * 3).astype(np.int32)
        if del_len:
            d_read = np.asarray(del_read, dtype=np.int64)
            self._add(np.asarray(del_at, dtype=np.int64) - lo, rev[d_read], F_DEL)
            pos, _, lens = self._expand(np.asarray(del_at) + 1, del_len)
            m = self._add(pos, np.repeat(rev[d_read], lens), F_DELBASE)
            self.depth += np.bincount(pos[m], minlength=W).astype(np.int32)
        if ins_len:
            self._add(np.asarray(ins_at, dtype=np.int64) - lo, rev[np.asarray(ins_read, dtype=np.int64)], F_INS)
        if clip_at:
            self._add(np.asarray(clip_at, dtype=np.int64) - lo, rev[np.asarray(clip_read, dtype=np.int64)], F_CLIP)
        hi = lo + W
        for k, leading, edge, clip in split:
            self._split_read_deletion(k, leading, edge, clip, rev)
        for kind, ats, lens, reads, qs in (("I", ins_at, ins_len, ins_read, ins_q),
                                           ("D", del_at, del_len, del_read, None)):
            for j in range(len(ats)):
                a = ats[j]
                if a < lo or a + lens[j] + 1 >= hi:
                    continue
                if kind == "I":
                    s = seqbuf[qs[j]:qs[j] + lens[j]].tobytes().decode().upper()
                else:
                    s = self.ref[a + 1 - lo:a + 1 + lens[j] - lo].tobytes().decode()
                self._count_indel(left_align_indel(self.ref, lo, a, kind, s), rev[reads[j]])


    def _split_read_deletion(self, k: int, leading: bool, edge: int, clip: str, rev: np.ndarray) -> None:
        """Count a deletion allele for a read whose soft clip sits, once and exactly, in the reference at least
        ``MIN_SPLIT_DEL`` and at most ``MAX_SPLIT_DEL`` bases beyond its aligned end (``edge``: the first aligned base
        for a leading clip, the base after the last for a trailing one)."""
        lo, ref = self.lo, self.ref
        clip = clip.upper().encode()
        n = len(clip)
        if leading:  # the clip ends where the deletion starts: search left of the alignment
            a, b = max(0, edge - lo - MAX_SPLIT_DEL - n), edge - lo - MIN_SPLIT_DEL
        else:
            a, b = edge - lo + MIN_SPLIT_DEL, min(len(ref), edge - lo + MAX_SPLIT_DEL + n)
        if a < 0 or b - a < n:
            return
        window = ref[a:b].tobytes()
        at = window.find(clip)
        if at < 0 or window.find(clip, at + 1) >= 0:
            return  # absent, or not unique (a repeat)
        if leading:
            d_start, d_end = a + at + n, edge - lo  # deleted: ref[d_start:d_end], relative to lo
        else:
            d_start, d_end = edge - lo, a + at
        if d_start < 1 or d_end - d_start < MIN_SPLIT_DEL:
            return
        self._count_indel(left_align_indel(ref, lo, lo + d_start - 1, "D", ref[d_start:d_end].tobytes().decode()),
                          rev[k])

    def _count_indel(self, key: tuple, strand: int) -> None:
        """One read for the indel allele ``key`` (anchor, ref, alt) on ``strand``."""
        c = self.indels.get(key)
        if c is None:
            c = self.indels[key] = np.zeros(2, dtype=np.int64)
        c[strand] += 1


def pileup_region(aln: pysam.AlignmentFile, path: str, fasta: pysam.FastaFile, contig: str, start: int, end: int,
                  filt: ReadFilter) -> Pileup:
    """Pileup counts and left-aligned indel alleles over ``contig:[start, end)``.

    Reads are read once, then expanded and counted in batches of ``BATCH`` reads.
    """
    clen = fasta.get_reference_length(contig)
    lo, hi = max(0, start - PAD), min(clen, end + PAD)
    ref = np.frombuffer(fasta.fetch(contig, lo, hi).upper().encode(), dtype=np.uint8)
    fetch_lo, fetch_hi = max(0, start - 1), min(clen, end + 1)
    reads: list = []
    names: list = []
    for r in _fetch(aln, path, contig, fetch_lo, fetch_hi):
        if r.flag & filt.exclude_flags or r.mapping_quality < filt.min_mapq:
            continue
        seq = r.query_sequence
        if not seq:
            raise UserError(f"{path}: read {r.query_name} at {contig}:{r.reference_start + 1} has no sequence "
                            f"(SEQ '*'): re-create the BAM with read sequences, or exclude such reads by flag")
        q = r.query_qualities
        if q is None:
            if filt.min_base_quality > 0:
                raise UserError(f"{path}: read {r.query_name} at {contig}:{r.reference_start + 1} has no base "
                                f"qualities (QUAL '*'): use a BAM with qualities, or set min_base_quality 0")
            q = bytes(len(seq))
        cig = r.cigartuples
        if len(cig) == 1 and cig[0][0] == _M:
            cig = None  # the common case, one aligned block: not stored (memory)
        reads.append((r.reference_start, r.is_reverse, r.mapping_quality, cig, seq, bytes(q), r.reference_end))
        names.append(r.query_name)
    dropped = 0
    if reads and filt.max_depth > 0:
        spans = np.array([(t[0], t[6]) for t in reads], dtype=np.int64)
        frac = _keep_fraction(spans[:, 0], spans[:, 1], lo, hi, filt.max_depth)
        if (frac < 1).any():
            # deterministic: a read (and its mate) is kept when the hash of its name falls below the fraction
            u = np.array([zlib.crc32(n.encode()) for n in names], dtype=np.float64) / 2 ** 32
            keep = u < frac
            dropped = int((~keep).sum())
            reads = [t for t, k in zip(reads, keep) if k]
    del names
    counter = _Counter(lo, hi, ref, filt)
    for i in range(0, len(reads), BATCH):  # expanded a batch at a time: bounded memory
        counter.add(reads[i:i + BATCH])
    W = hi - lo
    cut = slice(start - lo, end - lo)
    indels = {k: v for k, v in counter.indels.items() if start <= k[0] < end}
    return Pileup(contig=contig, start=start, end=end, ref=ref[cut].copy(),
                  counts=counter.counts.reshape(W, 2, NF)[cut], depth=counter.depth[cut],
                  bq_sum=counter.bq_sum.reshape(W, 3)[cut, :2], mq_sum=counter.mq_sum.reshape(W, 3)[cut, :2],
                  n_qual=counter.n_qual.reshape(W, 3)[cut, :2],
                  indels=indels, reads=counter.reads, reads_dropped_downsampling=dropped, read_store=reads)
