"""``oncorisk tensors`` and the read, candidate and shard flags it shares with ``call``."""

from __future__ import annotations

import argparse
import logging

from oncorisk.errors import UserError
from oncorisk.options import add_force_option, add_stage_options, check_stage_options

log = logging.getLogger("oncorisk")


READ_KEYS = ["min_mapq", "min_base_quality", "max_depth", "keep_duplicates"]
CANDIDATE_KEYS = ["snv_min_alt", "snv_min_af", "indel_min_alt", "indel_min_af"]


def register(sub) -> None:
    """Add the subcommand(s) ``tensors`` to the top-level parser."""
    p = sub.add_parser("tensors", help="BAM/CRAM pileups around candidate variants to tensors (+ labels from a truth VCF)",
                       description="Candidate SNVs and indels, with per-strand counts, and fixed-layout pileup "
                       "tensors (docs/tensors.md).")
    p.add_argument("--bam", required=True, help="tumour (or the germline sample's) BAM/CRAM, indexed")
    p.add_argument("--normal-bam", help="matched normal BAM/CRAM: somatic mode, tumour and normal stacked")
    p.add_argument("--ref", required=True, help="reference FASTA (plain or bgzipped, with .fai/.gzi)")
    p.add_argument("--out", required=True, help="output folder: tensors.npy, sites.tsv, tensor_info.json")
    add_read_options(p)
    g = p.add_argument_group("labels, for training")
    g.add_argument("--truth-vcf", help="truth VCF (germline mode: genotypes; somatic mode: the somatic truth)")
    g.add_argument("--germline-truth-vcf", help="somatic mode: the germline truth (labels germline vs somatic)")
    g.add_argument("--confident-bed", help="confident regions: candidates outside get label -1")
    g.add_argument("--truth-sample", help="sample column of the truth VCF (default: the last)")
    g.add_argument("--unknown-af-above", type=float, help="candidates not in the truth with AF >= this get label -1 "
                   "(spike-in data, whose own variants are not known)")
    add_force_option(p)
    p.set_defaults(func=cmd_tensors)


# flags renamed after 0.1.0 (a shard is a job's share, a partition the span read at once: DeepVariant's names); the old
# spellings still parse, with a warning, until 0.3
DEPRECATED_FLAGS = {"--chunk-index": "--shard-index", "--chunk-count": "--shard-count", "--chunk-size": "--partition-size"}


class _Deprecated(argparse.Action):
    """An old flag: warns once and stores into the new flag's destination."""

    def __call__(self, parser, namespace, values, option_string=None):
        log.warning("%s is deprecated: use %s (the old name goes in oncorisk 0.3)", option_string,
                    DEPRECATED_FLAGS[option_string])
        setattr(namespace, self.dest, values)


def add_read_options(p: argparse.ArgumentParser) -> None:
    """Read filters, candidate thresholds, shard and partition, shared by ``tensors`` and ``call``."""
    g = p.add_argument_group("reads")
    add_stage_options(g, "tensors", READ_KEYS)
    g.add_argument("--keep-secondary", action="store_true", help="count secondary alignments")
    g.add_argument("--keep-supplementary", action="store_true", help="count supplementary alignments")
    g.add_argument("--keep-qcfail", action="store_true", help="count QC-fail reads")
    add_stage_options(p.add_argument_group("candidates (empty: germline DeepVariant-like; somatic AF 0.03)"),
                      "tensors", CANDIDATE_KEYS)
    g = p.add_argument_group("regions, shards and partitions")
    g.add_argument("--regions", nargs="+", help="BED files and/or CONTIG[:START-END] (1-based); default: all contigs")
    add_stage_options(g, "tensors", ["partition_size"])
    g.add_argument("--shard-index", type=int, default=0, help="process shard K of --shard-count (scatter)")
    # standalone, one shard; the workflow passes its tensors.shards (docs/tensors.md)
    g.add_argument("--shard-count", type=int, default=1, help="number of shards the regions are split into "
                   "(the workflow's tensors.shards; default 1)")
    for old, new in DEPRECATED_FLAGS.items():
        g.add_argument(old, dest=new[2:].replace("-", "_"), type=int, action=_Deprecated, help=argparse.SUPPRESS)
    g.add_argument("--threads", type=int, default=1, help="partitions processed in parallel")


def read_options(args: argparse.Namespace, normal: bool):
    """(ReadFilter, Thresholds) from the parsed options."""
    from dataclasses import replace

    from oncorisk.tensors.candidates import GERMLINE, SOMATIC
    from oncorisk.tensors.pileup import FLAG_NAMES, ReadFilter

    check_stage_options(args, "tensors", READ_KEYS + CANDIDATE_KEYS + ["partition_size"])
    for key in ("shard_count", "threads"):
        if getattr(args, key) < 1:
            raise UserError(f"--{key.replace('_', '-')}: bad value {getattr(args, key)}: must be >= 1")
    excluded = FLAG_NAMES["unmapped"]
    for name, keep in (("duplicate", args.keep_duplicates), ("secondary", args.keep_secondary),
                       ("supplementary", args.keep_supplementary), ("qcfail", args.keep_qcfail)):
        if not keep:
            excluded |= FLAG_NAMES[name]
    filt = ReadFilter(min_mapq=args.min_mapq, min_base_quality=args.min_base_quality, exclude_flags=excluded,
                      max_depth=args.max_depth)
    th = SOMATIC if normal else GERMLINE
    for key in CANDIDATE_KEYS:
        v = getattr(args, key)
        if v is not None:
            th = replace(th, **{key: v})
    return filt, th


def options_from(args: argparse.Namespace, labels: bool = True):
    """The TensorOptions the parsed flags give (``labels``: the truth flags of ``tensors``; ``call`` has none)."""
    from oncorisk.tensors.run import TensorOptions

    filt, th = read_options(args, bool(args.normal_bam))
    truth = dict(out=args.out, truth_vcf=args.truth_vcf, germline_truth_vcf=args.germline_truth_vcf,
                 confident_bed=args.confident_bed, truth_sample=args.truth_sample,
                 unknown_af_above=args.unknown_af_above, force=args.force) if labels else {}
    return TensorOptions(bam=args.bam, ref=args.ref, normal_bam=args.normal_bam, regions=args.regions,
                         partition_size=args.partition_size, shard_index=args.shard_index,
                         shard_count=args.shard_count, filt=filt, thresholds=th, threads=args.threads, **truth)


def cmd_tensors(args: argparse.Namespace) -> int:
    from oncorisk.tensors.run import run_tensors

    info = run_tensors(options_from(args))
    log.info("tensors (%s): %d candidate alleles, tensor %s, %d reads -> %s", info["mode"], info["n_sites"],
             "x".join(map(str, info["shape"])), info["counts"]["reads"], args.out)
    return 0
