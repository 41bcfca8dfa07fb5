"""Paired-end read simulation into sorted, indexed BAMs.

Each fragment comes from one haplotype of a germline genome; in a tumour sample it comes from a tumour
cell with probability ``purity`` and then carries each somatic variant of that haplotype with probability
equal to the variant's cancer-cell fraction. Reads get qualities, substitutions and homopolymer indel
errors from an ``ErrorProfile``; they are placed with the alignment they truly have (indels left-aligned),
with MAPQ drawn from the profile, and a fraction of fragments is sequenced twice and flagged duplicate.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pysam

from oncorisk import __version__
from oncorisk.simulate.profile import MAX_RUN, ErrorProfile
from oncorisk.simulate.sequence import BASE_CODE, BASES, COMPLEMENT_TABLE, run_table
from oncorisk.simulate.variants import Variant

BATCH = 20_000  # fragments simulated and error-modelled together
EXTRA = 4  # bases read beyond the read length, so an indel error can be trimmed back to full length


@dataclass(frozen=True)
class LibraryParams:
    """Library and run parameters of one BAM."""

    read_length: int
    insert_mean: float
    insert_sd: float
    duplicate_rate: float
    coverage: float
    purity: float  # 0 for a normal sample


class ContigVariants:
    """Variants of one contig as sorted arrays for fast lookup while building fragments."""

    def __init__(self, variants: list[Variant], somatic: set[int]):
        order = sorted(range(len(variants)), key=lambda i: variants[i].pos)
        self.variants = [variants[i] for i in order]
        self.somatic = np.array([i in somatic for i in order], dtype=bool)
        self.pos = np.array([v.pos for v in self.variants], dtype=np.int64)
        self.hapmask = np.array([v.hap for v in self.variants], dtype=np.int64)
        self.ccf = np.array([v.ccf for v in self.variants], dtype=float)


def _apply(ref: np.ndarray, start: int, stop: int, active: list[Variant]) -> tuple[np.ndarray, np.ndarray]:
    """Fragment sequence over reference [start, stop) with ``active`` variants; refpos -1 marks inserted bases."""
    seqs, refpos = [], []
    cur = start
    for v in active:
        if v.pos < cur or v.end > stop:
            continue
        seqs.append(ref[cur : v.pos])
        refpos.append(np.arange(cur, v.pos))
        alt = np.frombuffer(v.alt.encode(), dtype=np.uint8)
        seqs.append(alt)
        if len(v.ref) == len(v.alt):
            refpos.append(np.arange(v.pos, v.pos + len(alt)))
        else:
            rp = np.full(len(alt), -1, dtype=np.int64)
            rp[0] = v.pos
            refpos.append(rp)
        cur = v.end
    seqs.append(ref[cur:stop])
    refpos.append(np.arange(cur, stop))
    return np.concatenate(seqs), np.concatenate(refpos)


def _cigar(refpos: np.ndarray) -> tuple[int, str]:
    """Alignment start and CIGAR of a read from its per-base reference positions (-1 = inserted base)."""
    n = len(refpos)
    if refpos[0] >= 0 and refpos[-1] >= 0 and refpos[-1] - refpos[0] == n - 1 and (refpos >= 0).all():
        return int(refpos[0]), f"{n}M"
    ops: list[list] = []

    def push(op, k=1):
        if ops and ops[-1][0] == op:
            ops[-1][1] += k
        else:
            ops.append([op, k])

    aligned = np.flatnonzero(refpos >= 0)
    first, last = aligned[0], aligned[-1]
    if first:
        push("S", int(first))
    prev = None
    for i in range(first, last + 1):
        p = refpos[i]
        if p < 0:
            push("I")
            continue
        if prev is not None and p > prev + 1:
            push("D", int(p - prev - 1))
        push("M")
        prev = p
    if last < n - 1:
        push("S", int(n - 1 - last))
    return int(refpos[first]), "".join(f"{k}{op}" for op, k in ops)


def _md_tag(seq: np.ndarray, refpos: np.ndarray, ref: np.ndarray) -> tuple[int, str]:
    """NM (edit distance) and MD string of a read against the reference, as an aligner reports them."""
    nm = 0
    md: list[str] = []
    run = 0
    prev = None
    for base, p in zip(seq, refpos):
        if p < 0:
            if prev is not None:
                nm += 1  # inserted base (soft-clipped bases before the first aligned one do not count)
            continue
        if prev is not None and p > prev + 1:
            deleted = ref[prev + 1 : p].tobytes().decode()
            md.append(f"{run}^{deleted}")
            nm += len(deleted)
            run = 0
        if base != ref[p]:
            md.append(f"{run}{chr(ref[p])}")
            nm += 1
            run = 0
        else:
            run += 1
        prev = p
    # trailing inserted bases after the last aligned base are soft clips, not insertions
    tail = 0
    for p in refpos[::-1]:
        if p >= 0:
            break
        tail += 1
    nm -= tail
    md.append(str(run))
    return nm, "".join(md)


def _simple_md(mismatch: np.ndarray, ref_bases: np.ndarray) -> str:
    """MD string of an ungapped read from its mismatch mask and the reference bases it covers."""
    out = []
    last = -1
    for i in np.flatnonzero(mismatch):
        out.append(f"{i - last - 1}{chr(ref_bases[i])}")
        last = i
    out.append(str(len(mismatch) - last - 1))
    return "".join(out)


def _indel_error(rng, seq: np.ndarray, refpos: np.ndarray, profile: ErrorProfile) -> tuple[np.ndarray, np.ndarray]:
    """Apply at most one homopolymer indel error to a read (left-aligned in its run), as real aligners report it."""
    starts, lengths = run_table(seq)
    rate = profile.indel_rate[np.minimum(lengths, MAX_RUN)]
    inner = (starts > 2) & (starts + lengths < len(seq) - 2) & (refpos[starts] >= 0)
    rate = np.where(inner, rate, 0.0)
    if rate.sum() <= 0:
        return seq, refpos
    k = int(rng.choice(len(starts), p=rate / rate.sum()))
    s = int(starts[k])
    if rng.random() < profile.insertion_fraction:
        return np.insert(seq, s, seq[s]), np.insert(refpos, s, -1)
    return np.delete(seq, s), np.delete(refpos, s)


def _expected_indel_errors(ref: np.ndarray, profile: ErrorProfile) -> np.ndarray:
    """Prefix sums over reference positions of the indel-error rate of the runs starting there."""
    starts, lengths = run_table(ref)
    per_pos = np.zeros(len(ref) + 1)
    per_pos[starts + 1] = profile.indel_rate[np.minimum(lengths, MAX_RUN)]
    return np.cumsum(per_pos)


def simulate_sample_reads(
    rng: np.random.Generator,
    sam_out,
    sample: str,
    contigs: dict[str, np.ndarray],
    targets: list[tuple[str, int, int]],
    variants: list[Variant],
    somatic_ids: set[int],
    lib: LibraryParams,
    profile: ErrorProfile,
) -> dict:
    """Write one sample's read pairs as SAM text lines to ``sam_out``. Returns counts.

    Per target, in batches of fragments: draw fragments and the variants each carries (``_fragments``), cut
    the two reads and add sequencing errors from the profile (``_sequence``), tag NM/MD (``_nm_md``) and
    write the pairs (``_write_pairs``). One generator draws everything, in this order, so a seed gives the
    same BAM.
    """
    errors = _ErrorModel(profile, lib.read_length)
    by_contig = {c: [] for c in contigs}
    somatic_by_contig = {c: set() for c in contigs}
    for i, v in enumerate(variants):
        if i in somatic_ids:
            somatic_by_contig[v.contig].add(len(by_contig[v.contig]))
        by_contig[v.contig].append(v)
    index = {c: ContigVariants(by_contig[c], somatic_by_contig[c]) for c in contigs}
    indel_prefix = {c: _expected_indel_errors(s, profile) for c, s in contigs.items()}
    counts = dict(pairs=0, duplicate_pairs=0, fragments=0)
    for contig, a, b in targets:
        ref = contigs[contig]
        n_frag = int(round(lib.coverage * (b - a + lib.insert_mean) / (2 * lib.read_length)))
        for batch_start in range(0, n_frag, BATCH):
            n = min(BATCH, n_frag - batch_start)
            seq, pos, meta = _fragments(rng, ref, a, b, n, index[contig], lib, profile, errors.mapq_cdf, counts)
            out_seq, out_qual, final_pos, is_rev = _sequence(rng, seq, pos, meta, ref, indel_prefix[contig],
                                                             errors, profile)
            tags = _nm_md(out_seq, final_pos, ref)
            _write_pairs(sam_out, sample, contig, meta, out_seq, out_qual, final_pos, tags, counts)
    return dict(pairs=counts["pairs"], duplicate_pairs=counts["duplicate_pairs"])


class _ErrorModel:
    """The profile's distributions resampled to the library's read length, as cumulative tables."""

    def __init__(self, profile: ErrorProfile, read_length: int):
        cycle_map = np.minimum((np.arange(read_length) * profile.read_length) // read_length,
                               profile.read_length - 1)
        self.qcdf = profile.quality_cdf[:, cycle_map, :]  # (2, R, Q)
        self.err_rate = profile.mismatch_rate
        self.sub_cdf = np.cumsum(profile.substitution, axis=2)
        self.mapq_cdf = np.cumsum(profile.mapq_probs)


def _fragments(rng, ref, a: int, b: int, n: int, cv: ContigVariants, lib: LibraryParams, profile: ErrorProfile,
               mapq_cdf: np.ndarray, counts: dict):
    """``n`` fragments centred in ``[a, b)``, each with the variants of the haplotype (and, in tumour cells,
    the clones) it comes from; duplicates copied. Returns both reads' bases and reference positions (reference
    orientation, R + EXTRA long) and per fragment (id, minus strand, is duplicate, MAPQ)."""
    R, L = lib.read_length, len(ref)
    flen = np.clip(np.rint(rng.normal(lib.insert_mean, lib.insert_sd, n)), R + EXTRA + 5, None).astype(int)
    centre = rng.integers(a, b, size=n) if b > a else np.full(n, a)
    start = np.clip(centre - flen // 2, 0, np.maximum(L - flen - 40, 0))
    hap = rng.integers(0, 2, size=n)
    tumour_cell = rng.random(n) < lib.purity
    minus = rng.random(n) < 0.5
    dup = rng.random(n) < lib.duplicate_rate
    mapq = profile.mapq_values[np.searchsorted(mapq_cdf, rng.random(n) * mapq_cdf[-1])]
    lo = np.searchsorted(cv.pos, start)
    hi = np.searchsorted(cv.pos, start + flen + 30)
    # build fragments (fast path when no variant is nearby)
    reads_seq, reads_pos, meta = [], [], []
    for i in range(n):
        s, F = int(start[i]), int(flen[i])
        if hi[i] > lo[i]:
            sl = slice(lo[i], hi[i])
            carried = (cv.hapmask[sl] >> hap[i]) & 1
            keep = carried.astype(bool) & (~cv.somatic[sl] | (tumour_cell[i] & (rng.random(hi[i] - lo[i]) < cv.ccf[sl])))
            active = [cv.variants[j] for j in np.flatnonzero(keep) + lo[i]]
        else:
            active = []
        if active:
            fseq, fpos = _apply(ref, s, s + F + 30, active)
            fseq, fpos = fseq[:F], fpos[:F]
        else:
            fseq, fpos = ref[s : s + F], np.arange(s, s + F)
        copies = 2 if dup[i] else 1
        for c in range(copies):
            counts["fragments"] += 1
            # forward read: first R+EXTRA bases; reverse read: last R+EXTRA bases
            reads_seq.append(fseq[: R + EXTRA])
            reads_pos.append(fpos[: R + EXTRA])
            reads_seq.append(fseq[F - R - EXTRA :])
            reads_pos.append(fpos[F - R - EXTRA :])
            meta.append((counts["fragments"], bool(minus[i]), c == 1, int(mapq[i])))
    return np.stack(reads_seq), np.stack(reads_pos), meta  # (2m, R+EXTRA), reference orientation


def _sequence(rng, seq: np.ndarray, pos: np.ndarray, meta: list, ref: np.ndarray, indel_prefix: np.ndarray,
              errors: _ErrorModel, profile: ErrorProfile):
    """Cut each read to R bases with indel errors (expected count from the reference runs it spans), then
    qualities and substitutions in sequencing orientation. Returns (bases, qualities + 33, reference
    positions per read, reverse-strand flags)."""
    L = len(ref)
    R = errors.qcdf.shape[1]
    m = len(meta)
    is_rev = np.zeros(2 * m, dtype=bool)
    is_rev[1::2] = True  # the second read of each fragment is on the reverse strand
    frag_minus = np.repeat(np.array([x[1] for x in meta]), 2)
    is_read2 = is_rev ^ frag_minus  # on a minus-strand fragment read 1 is the reverse read
    span_a = np.clip(np.where(pos[:, 0] >= 0, pos[:, 0], pos.max(axis=1) - R), 0, L)
    span_b = np.clip(span_a + R, 0, L)
    lam = indel_prefix[span_b] - indel_prefix[span_a]
    has_indel = rng.random(2 * m) < -np.expm1(-lam)
    final_seq = np.empty((2 * m, R), dtype=np.uint8)
    final_pos: list = [None] * (2 * m)
    for r in range(2 * m):
        s_r, p_r = seq[r], pos[r]
        if has_indel[r]:
            s_r, p_r = _indel_error(rng, s_r, p_r, profile)
        if is_rev[r]:
            s_r, p_r = s_r[len(s_r) - R :], p_r[len(p_r) - R :]
        else:
            s_r, p_r = s_r[:R], p_r[:R]
        final_seq[r] = s_r
        final_pos[r] = p_r
    # qualities and substitutions in sequencing orientation
    read_orient = np.where(is_rev[:, None], COMPLEMENT_TABLE[final_seq[:, ::-1]], final_seq)
    rn = is_read2.astype(int)
    u = rng.random((2 * m, R))
    qual = np.empty((2 * m, R), dtype=np.int64)
    qcdf = errors.qcdf
    for k in (0, 1):
        rows = np.flatnonzero(rn == k)
        for cyc in range(R):
            qual[rows, cyc] = np.searchsorted(qcdf[k, cyc], u[rows, cyc] * qcdf[k, cyc, -1])
    qual = np.clip(qual, 2, len(errors.err_rate) - 1)
    err = rng.random((2 * m, R)) < errors.err_rate[qual]
    ri, ci = np.nonzero(err)
    true_code = BASE_CODE[read_orient[ri, ci]]
    ok = true_code < 4
    ri, ci, true_code = ri[ok], ci[ok], true_code[ok]
    cdf = errors.sub_cdf[rn[ri], true_code]
    new_code = (rng.random(len(ri))[:, None] > cdf).sum(axis=1).clip(0, 3)
    read_orient[ri, ci] = BASES[new_code]
    out_seq = np.where(is_rev[:, None], COMPLEMENT_TABLE[read_orient[:, ::-1]], read_orient)
    out_qual = np.where(is_rev[:, None], qual[:, ::-1], qual) + 33
    return out_seq, out_qual, final_pos, is_rev


def _nm_md(out_seq: np.ndarray, final_pos: list, ref: np.ndarray) -> list[tuple[int, str]]:
    """(NM, MD) per read: vectorised for ungapped reads (the vast majority), an exact walk for gapped ones."""
    L = len(ref)
    R = out_seq.shape[1]
    first = np.array([p[0] for p in final_pos])
    last = np.array([p[-1] for p in final_pos])
    ungapped = (first >= 0) & (last - first == R - 1)
    safe_first = np.where(ungapped, first, 0)
    ref_win = ref[np.minimum(safe_first[:, None] + np.arange(R), L - 1)]
    mism = (out_seq != ref_win) & ungapped[:, None]
    tags = []
    for r in range(len(final_pos)):
        if ungapped[r] and (final_pos[r][1:] - final_pos[r][:-1] == 1).all():
            tags.append((int(mism[r].sum()), _simple_md(mism[r], ref_win[r])))
        else:
            tags.append(_md_tag(out_seq[r], final_pos[r], ref))
    return tags


def _write_pairs(sam_out, sample: str, contig: str, meta: list, out_seq, out_qual, final_pos: list,
                 tags: list, counts: dict) -> None:
    """SAM lines of each fragment's two reads (flags, mate fields, TLEN, NM/MD/RG/MC tags)."""
    for f in range(len(meta)):
        fid, fminus, is_dup, mq = meta[f]
        r_f, r_r = 2 * f, 2 * f + 1
        st_f, cig_f = _cigar(final_pos[r_f])
        st_r, cig_r = _cigar(final_pos[r_r])
        end_r = int(final_pos[r_r][final_pos[r_r] >= 0][-1]) + 1
        tlen = end_r - st_f
        name = f"{sample}:{fid}"
        base_flag = 0x1 | 0x2 | (0x400 if is_dup else 0)
        flag_f = base_flag | 0x20 | (0x80 if fminus else 0x40)
        flag_r = base_flag | 0x10 | (0x40 if fminus else 0x80)
        sam_out.write(
            f"{name}\t{flag_f}\t{contig}\t{st_f + 1}\t{mq}\t{cig_f}\t=\t{st_r + 1}\t{tlen}\t"
            f"{out_seq[r_f].tobytes().decode()}\t{out_qual[r_f].astype(np.uint8).tobytes().decode()}\t"
            f"NM:i:{tags[r_f][0]}\tMD:Z:{tags[r_f][1]}\tRG:Z:{sample}\tMC:Z:{cig_r}\n"
            f"{name}\t{flag_r}\t{contig}\t{st_r + 1}\t{mq}\t{cig_r}\t=\t{st_f + 1}\t{-tlen}\t"
            f"{out_seq[r_r].tobytes().decode()}\t{out_qual[r_r].astype(np.uint8).tobytes().decode()}\t"
            f"NM:i:{tags[r_r][0]}\tMD:Z:{tags[r_r][1]}\tRG:Z:{sample}\tMC:Z:{cig_f}\n"
        )
        counts["pairs"] += 1
        counts["duplicate_pairs"] += is_dup


def sam_header(sample: str, contigs: dict[str, np.ndarray], seed: int, profile: ErrorProfile) -> str:
    """SAM header: sorted by coordinate, one read group, the simulator's @PG line (no paths, so bytes are stable)."""
    lines = ["@HD\tVN:1.6\tSO:coordinate"]
    lines += [f"@SQ\tSN:{c}\tLN:{len(s)}" for c, s in contigs.items()]
    lines.append(f"@RG\tID:{sample}\tSM:{sample}\tLB:{sample}-lib1\tPL:ILLUMINA\tPU:{sample}.1")
    lines.append(f"@PG\tID:oncorisk-simulate\tPN:oncorisk\tVN:{__version__}\tCL:oncorisk simulate --seed {seed} "
                 f"(error profile {profile.name})")
    return "\n".join(lines) + "\n"


def write_bam(
    path: Path, rng: np.random.Generator, sample: str, contigs: dict[str, np.ndarray],
    targets: list[tuple[str, int, int]], variants: list[Variant], somatic_ids: set[int],
    lib: LibraryParams, profile: ErrorProfile, seed: int, threads: int = 1,
) -> dict:
    """Simulate one sample and write a coordinate-sorted, indexed BAM at ``path``."""
    tmp_sam = path.with_suffix(".unsorted.sam")
    with open(tmp_sam, "w") as fh:
        fh.write(sam_header(sample, contigs, seed, profile))
        stats = simulate_sample_reads(rng, fh, sample, contigs, targets, variants, somatic_ids, lib, profile)
    try:
        pysam.sort("--no-PG", "-@", str(max(threads, 1)), "-m", "256M", "-T", str(path) + ".sorttmp",
                   "-o", str(path), str(tmp_sam))
    finally:
        os.unlink(tmp_sam)
    pysam.index(str(path))
    return stats
