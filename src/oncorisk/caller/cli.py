"""The caller's commands: ``call``, ``train-caller``, ``spike-in``, ``make-pon``, ``gather-vcf``, ``evaluate``."""

from __future__ import annotations

import argparse
import logging
import re

from oncorisk.errors import UserError
from oncorisk.options import add_device_option, add_force_option, add_stage_options, check_stage_options
from oncorisk.tensors.cli import add_read_options
from oncorisk.tensors.cli import options_from as tensor_options_from

log = logging.getLogger("oncorisk")


def register(sub) -> None:
    """Add the caller's subcommands to the top-level parser."""
    p = sub.add_parser("call", help="call SNVs/indels (germline, or tumour/normal somatic) with the CNN + BiLSTM",
                       description="Tensors, model inference and a bgzipped, indexed VCF in one command (docs/caller.md).")
    p.add_argument("--bam", help="the sample's (or the tumour's) BAM/CRAM")
    p.add_argument("--normal-bam", help="matched normal BAM/CRAM: somatic calling")
    p.add_argument("--tensors", nargs="+", help="instead of --bam: tensors folders (in genome order), as the workflow does")
    p.add_argument("--ref", required=True, help="reference FASTA")
    add_stage_options(p, "call", ["model", "min_qual", "pon"])
    p.add_argument("--out", required=True, help="output VCF (.vcf.gz; a .tbi index is written beside it)")
    p.add_argument("--sample-name", help="VCF sample name (default: the BAM's SM tag, else its file name)")
    p.add_argument("--normal-sample-name", help="somatic: the normal's name, written as ##normal_sample")
    p.add_argument("--batch", type=int, default=1024, help="candidates scored at once")
    add_device_option(p)
    add_read_options(p)
    p.set_defaults(func=cmd_call)

    p = sub.add_parser("train-caller", help="train the caller on labelled tensors; writes models/<name>-v<version>/",
                       description="Class-weighted CE (or focal) loss, Adam, early stopping on validation F1 (docs/caller.md).")
    p.add_argument("--tensors", nargs="+", required=True, help="labelled tensors folders (oncorisk tensors --truth-vcf)")
    p.add_argument("--name", required=True, help="model name, e.g. somatic-illumina")
    p.add_argument("--version", default="1.0.0", help="semantic version of the checkpoint (default 1.0.0)")
    p.add_argument("--out", default="models", help="parent folder of the checkpoint (default models/)")
    p.add_argument("--epochs", type=int, default=60)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--patience", type=int, default=10, help="epochs without validation-F1 gain before stopping")
    p.add_argument("--loss", choices=["ce", "focal"], default="ce")
    p.add_argument("--members", type=int, default=1, help="networks trained from consecutive seeds, averaged (default 1)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--min-qual", type=float, metavar="Q",
                   help="QUAL threshold for PASS recorded in model_info.json: `call` applies it when no --min-qual "
                        "(config call.min_qual) is given (workflow/scripts/choose_min_qual.py chooses one by "
                        "cross-validation); default: none (call uses 10)")
    p.add_argument("--init-from", metavar="MODEL", help="warm start (fine-tuning): begin from this checkpoint's weights "
                   "(a bundled name or a folder of the same tensor layout), e.g. germline-illumina on a lab's own "
                   "truth set; refused when the layout differs")
    add_device_option(p)
    add_force_option(p)
    p.set_defaults(func=cmd_train_caller)

    p = sub.add_parser("spike-in", help="plant SNVs and indels into real reads (training data with real error profiles)",
                       description="BAMSurgeon-style read editing; see docs/caller.md.")
    p.add_argument("--bam", required=True)
    p.add_argument("--ref", required=True)
    p.add_argument("--regions", nargs="+", required=True, help="BED files and/or CONTIG:START-END")
    p.add_argument("--out", required=True, help="edited BAM (indexed)")
    p.add_argument("--truth-out", required=True, help="truth VCF of the planted alleles (.vcf.gz)")
    p.add_argument("--snvs", type=int, default=100)
    p.add_argument("--indels", type=int, default=50)
    p.add_argument("--germline", action="store_true", help="plant genotypes: het (AF 0.5) or hom-alt (AF 1)")
    p.add_argument("--vaf", type=float, nargs=2, default=[0.05, 0.5], metavar=("LOW", "HIGH"),
                   help="somatic: allele fractions drawn uniformly from this range")
    p.add_argument("--normal-out", help="split the reads: plant into one half, write the other half here (pseudo-normal)")
    p.add_argument("--seed", type=int, default=1)
    p.set_defaults(func=cmd_spike_in)

    p = sub.add_parser("make-pon", help="panel of normals: alleles present in at least N normal samples' VCFs")
    p.add_argument("--vcfs", nargs="+", required=True, help="normal samples' VCFs, from any caller")
    p.add_argument("--ref", required=True, help="reference FASTA (alleles are split, trimmed and left-aligned)")
    p.add_argument("--min-samples", type=int, default=2, help="normal samples that must carry an allele (default 2)")
    p.add_argument("--include-filtered", action="store_true", help="count non-PASS records too")
    p.add_argument("--out", required=True, help="the panel, a sites-only VCF (.vcf.gz, indexed)")
    p.set_defaults(func=cmd_make_pon)

    p = sub.add_parser("gather-vcf", help="concatenate a sample's shard VCFs (in shard order) into one indexed VCF")
    p.add_argument("vcfs", nargs="+")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_gather_vcf)

    p = sub.add_parser("evaluate", help="precision / recall / F1 of a VCF against a truth VCF, SNVs and indels apart")
    p.add_argument("--truth", required=True)
    p.add_argument("--query", required=True)
    p.add_argument("--ref", required=True)
    p.add_argument("--bed", help="confident regions")
    p.add_argument("--truth-sample", help="truth sample column (default: the last)")
    p.add_argument("--query-sample", help="query sample column (default: the last, the tumour in somatic VCFs)")
    p.add_argument("--somatic", action="store_true", help="somatic: SOMATIC-flagged calls only, and results by VAF bin")
    p.add_argument("--min-vaf", type=float, help="only truth alleles and calls with VAF >= this")
    p.add_argument("--all-records", action="store_true", help="count non-PASS query records too")
    p.add_argument("--qual-thresholds", type=float, nargs="+", metavar="Q",
                   help="also score the query at each of these minimum QUALs (metrics.json by_qual; workflow/scripts/"
                        "choose_min_qual.py picks a PASS threshold from them)")
    p.add_argument("--out", required=True, help="metrics JSON")
    p.set_defaults(func=cmd_evaluate)


def cmd_call(args: argparse.Namespace) -> int:
    from oncorisk.caller.run import CallOptions, command_line, run_call
    tensor_opts = None
    if args.bam:
        tensor_opts = tensor_options_from(args, labels=False)
    elif not args.tensors:
        raise UserError("call: give --bam (and --normal-bam for tumour/normal) or --tensors folders")
    if not args.out.endswith(".vcf.gz"):
        raise UserError(f"--out: bad value {args.out!r}: the VCF is bgzipped and indexed: name it *.vcf.gz")
    check_stage_options(args, "call", ["min_qual"])
    model = args.model
    if model is None:  # the mode's bundled model: somatic with a normal (or somatic tensors), else germline
        from oncorisk.caller.defaults import default_model
        from oncorisk.tensors.run import load_tensors

        somatic = bool(args.normal_bam) if args.bam else load_tensors(args.tensors[0])[2]["mode"] == "somatic"
        model = default_model("somatic" if somatic else "germline")
    opts = CallOptions(out=args.out, model=model, ref=args.ref, tensor_opts=tensor_opts,
                       tensors=args.tensors or [], sample=args.sample_name, normal_sample=args.normal_sample_name,
                       min_qual=args.min_qual, device=args.device, batch=args.batch, command=command_line(),
                       pon=args.pon)
    res = run_call(opts)
    log.info("call (%s): %s -> %s", res["model"], ", ".join(f"{k} {v}" for k, v in res["stats"].items()), args.out)
    return 0


def cmd_make_pon(args: argparse.Namespace) -> int:
    from oncorisk.caller.pon import build_pon

    res = build_pon(args.vcfs, args.ref, args.out, args.min_samples, args.include_filtered)
    log.info("make-pon: %d normal samples in %d VCFs, %d alleles seen, %d in >= %d samples -> %s", res["normals"],
             res["vcfs"], res["alleles_seen"], res["kept"], args.min_samples, args.out)
    return 0


def cmd_train_caller(args: argparse.Namespace) -> int:
    from oncorisk.caller.run import command_line
    from oncorisk.caller.train import TrainOptions, train_caller

    if not re.fullmatch(r"\d+\.\d+\.\d+", args.version):
        raise UserError(f"--version: bad value {args.version!r}: use semantic versioning, e.g. 1.0.0")
    if args.min_qual is not None and not args.min_qual >= 0:
        raise UserError(f"--min-qual: bad value {args.min_qual}: a QUAL threshold must be >= 0")
    info = train_caller(TrainOptions(data=args.tensors, out=args.out, name=args.name, version=args.version,
                                     epochs=args.epochs, batch=args.batch, lr=args.lr, patience=args.patience,
                                     loss=args.loss, seed=args.seed, device=args.device, recipe=command_line(),
                                     members=args.members, force=args.force, init_from=args.init_from,
                                     min_qual=args.min_qual))
    v = info["validation"]
    log.info("train-caller: %s, %d member(s), validation F1 %.4f -> %s", info["name"], args.members, v["f1"],
             info["folder"])
    return 0


def cmd_spike_in(args: argparse.Namespace) -> int:
    from oncorisk.caller.spikein import spike_in

    vaf = None
    if not args.germline:
        lo, hi = args.vaf
        if not 0 < lo <= hi <= 1:
            raise UserError(f"--vaf: bad value {args.vaf}: give LOW HIGH with 0 < LOW <= HIGH <= 1")
        vaf = (lo, hi)
    res = spike_in(args.bam, args.ref, args.out, args.truth_out, args.regions, args.snvs, args.indels, vaf,
                   args.germline, args.seed, args.normal_out)
    log.info("spike-in: %d sites (%d SNVs, %d indels), %d reads edited -> %s", res["spikes"], res["snv"],
             res["indel"], res["reads_edited"], args.out)
    return 0


def cmd_gather_vcf(args: argparse.Namespace) -> int:
    from oncorisk.caller.vcf import gather_vcfs

    n = gather_vcfs(args.vcfs, args.out)
    log.info("gather-vcf: %d records from %d shards -> %s", n, len(args.vcfs), args.out)
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from oncorisk.caller.evaluate import evaluate, write_metrics

    if args.qual_thresholds and min(args.qual_thresholds) < 0:
        raise UserError(f"--qual-thresholds: bad value {min(args.qual_thresholds)}: QUAL thresholds must be >= 0")
    res = evaluate(args.truth, args.query, args.ref, args.bed, args.truth_sample, args.query_sample, args.somatic,
                   not args.all_records, args.min_vaf, args.qual_thresholds)
    write_metrics(res, args.out)
    for k in ("SNV", "INDEL"):
        r = res[k]
        print(f"{k}: precision {r['precision']} recall {r['recall']} F1 {r['f1']} (TP {r['tp']}, FP {r['fp']}, "
              f"FN {r['fn']}; genotype concordance {r['genotype_concordance']})")
    return 0
