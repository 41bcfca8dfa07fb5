"""``oncorisk tensors``: a shard of the regions to partitions, partitions to candidates and tensors, written
atomically.

Output folder:

- ``tensors.npy``: float16 array (n_sites, WIDTH, channels), rows in site order;
- ``sites.tsv``: one row per candidate allele (1-based ``pos`` as in VCF), with tumour (and normal)
  counts, and labels when a truth VCF was given;
- ``tensor_info.json``: format version, shape, channel names, dtype, filters, thresholds, inputs.

Names (as DeepVariant's): a **shard** is one job's share of a sample's regions (``--shard-index`` K of
``--shard-count`` N; the workflow's ``tensors.shards``); a **partition** is a span of at most
``partition_size`` bases read at once inside a shard. Memory is bounded by the partition size (default
500 kb), not by the genome: each partition is counted, encoded and appended to a temporary file before the
next is read.
"""

from __future__ import annotations

import json
import logging
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pysam

from oncorisk import __version__
from oncorisk.errors import UserError
from oncorisk.genome.fasta import open_reference
from oncorisk.genome.regions import parse_regions
from oncorisk.io.atomic import atomic_dir
from oncorisk.options import check_value
from oncorisk.tensors import labels as lab
from oncorisk.tensors.candidates import GERMLINE, SITE_COLUMNS, SOMATIC, Thresholds, allele_counts, find_candidates
from oncorisk.tensors.encode import encode_sites
from oncorisk.tensors.haplotype import indel_support
from oncorisk.tensors.layout import WINDOW, layout_info
from oncorisk.tensors.pileup import ReadFilter, open_alignment, pileup_region

log = logging.getLogger(__name__)
GLUE = 1000  # region intervals closer than this are read as one partition


@dataclass
class TensorOptions:
    bam: str
    ref: str
    out: str | None = None
    normal_bam: str | None = None
    regions: list[str] | None = None  # BED paths or CONTIG[:START-END] (1-based, inclusive)
    partition_size: int = 500_000
    shard_index: int = 0
    shard_count: int = 1
    filt: ReadFilter = field(default_factory=ReadFilter)
    thresholds: Thresholds | None = None  # default: GERMLINE, or SOMATIC with a normal
    truth_vcf: str | None = None
    germline_truth_vcf: str | None = None
    confident_bed: str | None = None
    truth_sample: str | None = None
    unknown_af_above: float | None = None  # non-truth candidates at or above this AF get label -1 (spike-in data)
    threads: int = 1
    force: bool = False  # write into a non-empty --out (io.atomic's output rule)

    @property
    def mode(self) -> str:
        return "somatic" if self.normal_bam else "germline"


def check_contigs(aln: pysam.AlignmentFile, path: str, fasta: pysam.FastaFile, ref: str) -> None:
    """The BAM's contigs must be the FASTA's (same names, same lengths where both have them)."""
    bam = dict(zip(aln.references, aln.lengths))
    fa = dict(zip(fasta.references, fasta.lengths))
    shared = set(bam) & set(fa)
    if not shared:
        raise UserError(f"{path}: no contig names in common with {ref}: BAM has {', '.join(list(bam)[:4])}... and "
                        f"FASTA has {', '.join(list(fa)[:4])}...: use the reference the reads were aligned to "
                        f"(e.g. 'chr20' vs '20' naming)")
    bad = [c for c in sorted(shared) if bam[c] != fa[c]]
    if bad:
        c = bad[0]
        raise UserError(f"{path}: contig {c} is {bam[c]} bp in the BAM but {fa[c]} bp in {ref}: use the reference "
                        f"the reads were aligned to")


def split_partitions(regions: list[tuple[str, int, int]], partition_size: int, index: int = 0,
                     count: int = 1) -> list[tuple[str, int, int, list[tuple[int, int]]]]:
    """Shard ``index`` of ``count`` near-equal shards of the regions (in bases), as partitions.

    A partition is (contig, start, end, intervals): the span read in one go, and the region intervals in it
    where candidates are kept. Intervals closer than ``GLUE`` bases share a partition (a capture panel's
    exons are read once, not once per exon), and no partition spans much more than ``partition_size`` bases.
    """
    if not 0 <= index < count:
        raise UserError(f"--shard-index: bad value {index}: must be 0..{count - 1} for --shard-count {count}")
    total = sum(b - a for _, a, b in regions)
    lo, hi = total * index // count, total * (index + 1) // count
    pieces, done = [], 0
    for c, a, b in regions:
        s, e = max(a, a + lo - done), min(b, a + hi - done)
        done += b - a
        while s < e:
            pieces.append((c, s, min(e, s + partition_size)))
            s += partition_size
    partitions: list = []
    for c, s, e in pieces:
        last = partitions[-1] if partitions else None
        if last and last[0] == c and s - last[2] <= GLUE and e - last[1] <= partition_size:
            partitions[-1] = (c, last[1], e, last[3] + [(s, e)])
        else:
            partitions.append((c, s, e, [(s, e)]))
    return partitions


def _partition_job(args) -> tuple[pd.DataFrame, np.ndarray, dict]:
    opts, (contig, start, end, intervals) = args
    fasta = open_reference(opts.ref)
    clen = fasta.get_reference_length(contig)
    ctx = (max(0, start - WINDOW), min(clen, end + WINDOW))
    piles = []
    for path in [opts.bam] + ([opts.normal_bam] if opts.normal_bam else []):
        aln = open_alignment(path, opts.ref)
        piles.append(pileup_region(aln, path, fasta, contig, ctx[0], ctx[1], opts.filt))
        aln.close()
    th = opts.thresholds or (SOMATIC if opts.normal_bam else GERMLINE)
    sites = find_candidates(piles[0], th, start, end)
    if len(intervals) > 1:
        sites = sites[lab.in_intervals(sites["pos"].to_numpy(), intervals)].reset_index(drop=True)
    supports = [allele_counts(p, sites["pos"].to_numpy(), list(sites["ref"]), list(sites["alt"])) for p in piles]
    haps, phases = [], []
    for pile, sup in zip(piles, supports):
        h = indel_support(pile, fasta, sites)
        phases.append(h[:, 4])
        pile.read_store = []  # free the reads
        # SNVs away from indels: the alignment already says which reads carry the base
        cigar = ((sites["kind"] == "SNV").to_numpy() & (h[:, 5] == 0))[:, None]
        haps.append(np.where(cigar, np.stack([sup[:, 3] + sup[:, 4], sup[:, 1] + sup[:, 2]], axis=1),
                             np.stack([h[:, 0] + h[:, 1], h[:, 2] + h[:, 3]], axis=1)))
    sites = sites.assign(hap_alt=haps[0][:, 0], hap_ref=haps[0][:, 1], hap_phase=phases[0])  # the sample's (tumour's)
    if opts.normal_bam:
        n = supports[1]
        sites = sites.assign(normal_depth=n[:, 0], normal_ref_fwd=n[:, 1], normal_ref_rev=n[:, 2],
                             normal_alt_fwd=n[:, 3], normal_alt_rev=n[:, 4],
                             normal_af=np.round((n[:, 3] + n[:, 4]) / np.maximum(n[:, 0], 1), 6),
                             normal_hap_alt=haps[1][:, 0], normal_hap_ref=haps[1][:, 1])
    tensors = encode_sites(sites, piles, supports, haps, opts.filt.max_depth or 250)
    if opts.truth_vcf:
        confident = np.ones(len(sites), dtype=bool)
        if opts.confident_bed:
            from oncorisk.io.intervals import read_bed

            confident = lab.in_intervals(sites["pos"].to_numpy(), read_bed(opts.confident_bed).get(contig, []))
        truth = lab.read_truth(opts.truth_vcf, fasta, contig, start, end, opts.truth_sample)
        germ = lab.read_truth(opts.germline_truth_vcf, fasta, contig, start, end) if opts.germline_truth_vcf else \
            ({} if opts.normal_bam else None)
        if opts.unknown_af_above is not None:
            hap_af = sites["hap_alt"].to_numpy() / np.maximum(sites["hap_alt"] + sites["hap_ref"], 1).to_numpy()
            af = np.maximum(sites["af"].to_numpy(), hap_af)  # in repeats the aligner hides indel reads
            confident &= ~((af >= opts.unknown_af_above)
                           & ~np.array([k in truth for k in zip(sites["pos"], sites["ref"], sites["alt"])], dtype=bool))
        sites = lab.label_sites(sites, truth, germ, confident)
    sites = sites.assign(pos=sites["pos"].astype("int64") + 1)  # 1-based from here on, as in VCF
    stats = dict(reads=sum(p.reads for p in piles), downsampled=sum(p.reads_dropped_downsampling for p in piles),
                 bases=sum(b - a for a, b in intervals))
    return sites, tensors, stats


def iter_partitions(opts: TensorOptions):
    """Yield (sites, tensors, stats) per partition of the shard, in order (sites with 1-based ``pos``);
    partitions run in ``opts.threads`` processes."""
    fasta = open_reference(opts.ref)
    for path in [opts.bam] + ([opts.normal_bam] if opts.normal_bam else []):
        aln = open_alignment(path, opts.ref)
        check_contigs(aln, path, fasta, opts.ref)
        aln.close()
    for path in (opts.truth_vcf, opts.germline_truth_vcf, opts.confident_bed):
        if path and not Path(path).is_file():
            raise UserError(f"{path}: file not found: give an existing truth VCF / confident BED")
    check_value("tensors", "partition_size", opts.partition_size)
    partitions = split_partitions(parse_regions(opts.regions, fasta), opts.partition_size, opts.shard_index,
                                  opts.shard_count)
    jobs = [(opts, p) for p in partitions]
    if opts.threads > 1 and len(jobs) > 1:
        with ProcessPoolExecutor(max_workers=opts.threads) as ex:
            yield from ex.map(_partition_job, jobs)
    else:
        for j in jobs:
            yield _partition_job(j)


def run_tensors(opts: TensorOptions) -> dict:
    """Write tensors, sites and tensor_info.json for the requested shard into ``opts.out``."""
    info = layout_info(opts.mode)
    with atomic_dir(opts.out, "tensors", opts.force) as tmp:
        raw = tmp / "tensors.raw"
        n, tables = 0, []
        totals = dict(reads=0, downsampled=0, bases=0, partitions=0)
        with open(raw, "wb") as fh:
            for sites, tensors, stats in iter_partitions(opts):
                fh.write(np.ascontiguousarray(tensors).tobytes())
                n += len(sites)
                tables.append(sites)
                for k in ("reads", "downsampled", "bases"):
                    totals[k] += stats[k]
                totals["partitions"] += 1
        shape = (n, info["width"], info["channels"])
        with open(tmp / "tensors.npy", "wb") as out, open(raw, "rb") as src:
            np.lib.format.write_array_header_1_0(out, {"descr": np.dtype(info["dtype"]).str, "fortran_order": False,
                                                       "shape": shape})
            while block := src.read(1 << 24):
                out.write(block)
        raw.unlink()
        sites = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=SITE_COLUMNS)
        sites.to_csv(tmp / "sites.tsv", sep="\t", index=False)
        info.update(dict(
            shape=list(shape), n_sites=n, oncorisk_version=__version__,
            inputs=dict(bam=str(opts.bam), normal_bam=opts.normal_bam, ref=str(opts.ref), regions=opts.regions,
                        truth_vcf=opts.truth_vcf, germline_truth_vcf=opts.germline_truth_vcf,
                        confident_bed=opts.confident_bed, unknown_af_above=opts.unknown_af_above),
            shard=dict(index=opts.shard_index, count=opts.shard_count), partition_size=opts.partition_size,
            read_filter=asdict(opts.filt), thresholds=asdict(opts.thresholds or (SOMATIC if opts.normal_bam else GERMLINE)),
            labels=bool(opts.truth_vcf), counts=totals,
            files=dict(tensors="tensors.npy", sites="sites.tsv")))
        (tmp / "tensor_info.json").write_text(json.dumps(info, indent=2) + "\n")
    return info


def load_tensors(folder: str | Path, mmap: bool = True) -> tuple[pd.DataFrame, np.ndarray, dict]:
    """Read a tensors folder back: (sites, tensors, info)."""
    folder = Path(folder)
    info_path = folder / "tensor_info.json"
    if not info_path.is_file():
        raise UserError(f"{folder}: no tensor_info.json: give a folder written by 'oncorisk tensors'")
    info = json.loads(info_path.read_text())
    tensors = np.load(folder / "tensors.npy", mmap_mode="r" if mmap else None)
    sites = pd.read_csv(folder / "sites.tsv", sep="\t", dtype={"contig": str, "ref": str, "alt": str, "kind": str, "pos": "int64"},
                        keep_default_na=False)
    if tuple(tensors.shape) != tuple(info["shape"]) or len(sites) != tensors.shape[0]:
        raise UserError(f"{folder}: tensors.npy shape {tensors.shape}, sites.tsv {len(sites)} rows and "
                        f"tensor_info.json {info['shape']} disagree: re-run 'oncorisk tensors'")
    return sites, tensors, info
