"""The ``oncorisk`` command line: one subcommand per stage, plus the simulator and helpers.

The CLI parses and validates, then hands off to a ``run_*`` function of the package. User errors end
with one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import errno
import logging
import os
import re
import signal
import sys
from pathlib import Path

import yaml

from oncorisk import __version__
from oncorisk.errors import UserError
from oncorisk.options import add_stage_options, check_stage_options

log = logging.getLogger("oncorisk")



def _parse_set(items: list[str]) -> dict:
    out = {}
    for item in items:
        if "=" not in item:
            raise UserError(f"--set: bad value {item!r}: write KEY=VALUE, e.g. --set tumor_coverage=60")
        key, value = item.split("=", 1)
        out[key.strip()] = yaml.safe_load(value)
    return out


def cmd_simulate(args: argparse.Namespace) -> int:
    from oncorisk.config import load_config, validate_config
    from oncorisk.simulate.cohort import SimulationConfig, run_simulation

    sim: dict = {}
    seed = None
    if args.config:
        cfg = load_config(args.config)
        sim = {k: v for k, v in cfg["simulate"].items() if k != "enabled"}
        seed = cfg["seed"]
    sim.update(_parse_set(args.set or []))
    for key in ("patients", "bam_patients", "genome_size", "capture"):
        if getattr(args, key) is not None:
            sim[key] = getattr(args, key)
    if args.null:
        sim["null"] = True
    if args.seed is not None:
        seed = args.seed
    resolved = validate_config({"seed": 1 if seed is None else seed, "simulate": sim}, args.config or "command line")
    cfg = SimulationConfig.from_config(resolved["simulate"], resolved["seed"])
    log.info("simulating %d patients (%d with BAMs) into %s", cfg.patients, cfg.bam_patients, args.out)
    manifest = run_simulation(cfg, args.out, threads=args.threads, force=args.force)
    log.info("wrote %d files to %s", len(manifest["files"]), args.out)
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from oncorisk.config import column_map, ensure_fasta_index, load_config, load_samples, write_samples
    from oncorisk.io.text import check_file

    mode = args.mode
    if args.config:
        cfg = load_config(args.config)
        mode = mode or cfg["mode"]
        if cfg.get("reference"):
            ensure_fasta_index(cfg["reference"])
        print(f"{args.config}: OK (cohort {cfg['cohort']}, mode {cfg['mode']}, simulate {cfg['simulate']['enabled']})")
    if args.samples:
        columns = column_map(args.column or [])
        if args.cohort_calls:
            check_file(args.cohort_calls, "a cohort MAF or multi-sample VCF/BCF", "--cohort-calls")
        samples = load_samples(args.samples, mode or "somatic", columns=columns, calls=args.cohort_calls)
        n_bam = sum(s.has_bam for s in samples)
        print(f"{args.samples}: OK ({len(samples)} samples: {n_bam} with BAMs, {len(samples) - n_bam} with VCFs only)")
        if args.out:
            write_samples(samples, args.out)
    if not (args.config or args.samples):
        raise UserError("validate: nothing to check: give --config and/or --samples")
    return 0


def cmd_merge_calls(args: argparse.Namespace) -> int:
    from oncorisk.config import load_samples, with_calls, write_samples

    samples = with_calls(load_samples(args.samples, args.mode), args.calls, args.samples)
    write_samples(samples, args.out)
    print(f"{args.out}: {len(args.calls)} of {len(samples)} samples carry the caller's VCF")
    return 0


def cmd_fit_profile(args: argparse.Namespace) -> int:
    from oncorisk.simulate.profile import fit_error_profile

    for path in (args.bam, args.ref):
        if not Path(path).is_file():
            raise UserError(f"{path}: file not found: give an existing indexed BAM and its reference FASTA")
    p = fit_error_profile(args.bam, args.ref, args.region, args.out, args.name, args.truth_vcf)
    print(f"{args.out}: mismatch rate {p['observed']['mismatch_rate']:.5f}, "
          f"indel-error rate {p['observed']['indel_error_rate']:.2e}, duplicates {p['duplicate_rate']:.4f}")
    return 0


def cmd_impact(args: argparse.Namespace) -> int:
    check_stage_options(args, "impact")
    from oncorisk.impact.run import ImpactOptions, run_impact
    from oncorisk.impact.scores import load_weights

    samples = None
    sample_calls: list[tuple[str, str]] = []
    vcfs = list(args.vcf or [])
    if args.samples:
        from oncorisk.config import load_samples

        sheet = load_samples(args.samples, mode="germline", check_files=True)
        samples = [s.sample for s in sheet]
        sample_calls = [(s.sample, s.vcf) for s in sheet if s.vcf]
    weights = load_weights(args.consequence_weights, args.hotspots, args.hotspot_weight, args.regions, args.gene_weights,
                           args.vaf_scaling, args.confidence_scaling)
    opts = ImpactOptions(out=args.out, vcfs=vcfs, sample_calls=sample_calls, maf=args.maf, gtf=args.gtf, ref=args.ref,
                         samples=samples, barcode_match=args.barcode_match,
                         transcript_choice=args.transcript_choice, use_existing=args.use_existing_annotation,
                         chrom_alias=args.chrom_alias, ref_mismatch=args.ref_mismatch,
                         include_filtered=args.include_filtered, callable_bed=args.callable,
                         callable_mb=args.callable_mb, weights=weights, force=args.force)
    info = run_impact(opts)
    log.info("impact: %d samples, %d genes, %d variant rows (%d skipped) -> %s", info["samples"], info["genes"],
             info["variant_rows"], info["skipped"], args.out)
    return 0


def cmd_pathways(args: argparse.Namespace) -> int:
    check_stage_options(args, "pathways")
    from oncorisk.pathways.gnn import GnnConfig
    from oncorisk.pathways.run import PathwayOptions, run_pathways

    opts = PathwayOptions(impact=args.impact, gene_sets=args.gene_sets, out=args.out, network=args.network,
                          string_links=args.string_links, string_info=args.string_info,
                          string_min_score=args.string_min_score, hotnet2_index=args.hotnet2_index,
                          hotnet2_edges=args.hotnet2_edges, gene_set_ids=args.gene_set_ids, labels=args.labels,
                          gtf=args.gtf, callable=args.callable, permutations=args.permutations,
                          min_size=args.min_size, evidence_cap=args.evidence_cap, seed=args.seed,
                          gnn=GnnConfig(model=args.model, layers=args.layers, hidden=args.hidden, dropout=args.dropout,
                                        folds=args.folds, bagging=args.bagging, seed=args.seed,
                                        device=args.device), force=args.force)
    info = run_pathways(opts)
    ranking = info["ranking"]
    log.info("pathways: %d sets tested; top: %s", info["tested"], ", ".join(
        f"{r.pathway} (q={r.q:.3g})" for r in ranking.head(3).itertuples()))
    return 0


def cmd_gene_network(args: argparse.Namespace) -> int:
    from oncorisk.io.atomic import atomic_path
    from oncorisk.pathways.genesets import load_gmt
    from oncorisk.pathways.gpml import gpml_edges
    from oncorisk.pathways.network import co_membership_edges

    if args.max_set_size < 2:
        raise UserError(f"--max-set-size: bad value {args.max_set_size}: must be >= 2 (a pair needs two members)")
    extra = [e for path in args.gpml for e in gpml_edges(path)]
    edges = co_membership_edges(load_gmt(args.gene_sets), args.max_set_size, extra)
    if not edges:
        raise UserError(f"{args.gene_sets}: no gene set has 2 to {args.max_set_size} members: no edge to write; "
                        f"raise --max-set-size")
    with atomic_path(args.out) as tmp:
        with open(tmp, "w") as fh:
            fh.write(f"# co-membership network: {args.gene_sets} (sets of <= {args.max_set_size} genes)"
                     + "".join(f", {p}" for p in args.gpml) + "\ngene_a\tgene_b\tweight\n")
            fh.writelines(f"{a}\t{b}\t{w:g}\n" for a, b, w in edges)
    log.info("gene-network: %d edges among %d genes -> %s", len(edges), len({g for e in edges for g in e[:2]}), args.out)
    return 0


def cmd_fusion(args: argparse.Namespace) -> int:
    check_stage_options(args, "fusion")
    from oncorisk.fusion.run import FusionOptions, run_fusion
    from oncorisk.fusion.train import TrainConfig

    opts = FusionOptions(samples=args.samples, pathway_scores=args.pathway_scores, out=args.out,
                         impact_matrix=args.impact, tmb=args.tmb, embeddings=args.embeddings, variants=args.variants,
                         gene_sets=args.gene_sets, gene_scores=args.gene_scores, max_genes=args.max_genes,
                         threshold=args.threshold, bootstrap_rounds=args.bootstrap, shap_samples=args.shap_samples,
                         outcome=args.outcome,
                         train=TrainConfig(strategy=args.strategy, hidden=args.hidden, folds=args.folds,
                                           seed=args.seed, device=args.device), force=args.force)
    m = run_fusion(opts)
    key = "roc_auc" if m["mode"] == "binary" else "c_index"
    log.info("fusion (%s): %s", key, ", ".join(f"{k} {m[k][key]['value']:.3f} [{m[k][key]['ci'][0]:.3f}, "
                                                f"{m[k][key]['ci'][1]:.3f}]" for k in ("fused", "genomic", "imaging") if k in m))
    return 0


READ_KEYS = ["min_mapq", "min_base_quality", "max_depth", "keep_duplicates"]
CANDIDATE_KEYS = ["snv_min_alt", "snv_min_af", "indel_min_alt", "indel_min_af"]


def add_read_options(p: argparse.ArgumentParser) -> None:
    """Read filters, candidate thresholds and chunking, shared by ``tensors`` and ``call`` (config section tensors)."""
    g = p.add_argument_group("reads")
    add_stage_options(g, "tensors", READ_KEYS)
    g.add_argument("--keep-secondary", action="store_true", help="count secondary alignments")
    g.add_argument("--keep-supplementary", action="store_true", help="count supplementary alignments")
    g.add_argument("--keep-qcfail", action="store_true", help="count QC-fail reads")
    add_stage_options(p.add_argument_group("candidates (empty: germline DeepVariant-like; somatic AF 0.03)"),
                      "tensors", CANDIDATE_KEYS)
    g = p.add_argument_group("regions and shards")
    g.add_argument("--regions", nargs="+", help="BED files and/or CONTIG[:START-END] (1-based); default: all contigs")
    add_stage_options(g, "tensors", ["chunk_size"])
    g.add_argument("--chunk-index", type=int, default=0, help="process share K of --chunk-count (scatter)")
    # standalone, one share; the workflow passes its tensors.chunks (docs/tensors.md)
    g.add_argument("--chunk-count", type=int, default=1, help="number of shares the regions are split into "
                   "(the workflow's tensors.chunks; default 1)")
    g.add_argument("--threads", type=int, default=1, help="chunks processed in parallel")


def read_options(args: argparse.Namespace, normal: bool):
    """(ReadFilter, Thresholds) from the parsed options."""
    from dataclasses import replace

    from oncorisk.tensors.candidates import GERMLINE, SOMATIC
    from oncorisk.tensors.pileup import FLAG_NAMES, ReadFilter

    check_stage_options(args, "tensors", READ_KEYS + CANDIDATE_KEYS + ["chunk_size"])
    for key in ("chunk_count", "threads"):
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


def cmd_tensors(args: argparse.Namespace) -> int:
    from oncorisk.tensors.run import TensorOptions, run_tensors

    filt, th = read_options(args, bool(args.normal_bam))
    opts = TensorOptions(bam=args.bam, ref=args.ref, out=args.out, normal_bam=args.normal_bam, regions=args.regions,
                         chunk_size=args.chunk_size, chunk_index=args.chunk_index, chunk_count=args.chunk_count,
                         filt=filt, thresholds=th, truth_vcf=args.truth_vcf, germline_truth_vcf=args.germline_truth_vcf,
                         confident_bed=args.confident_bed, truth_sample=args.truth_sample, threads=args.threads,
                         unknown_af_above=args.unknown_af_above, force=args.force)
    info = run_tensors(opts)
    log.info("tensors (%s): %d candidate alleles, tensor %s, %d reads -> %s", info["mode"], info["n_sites"],
             "x".join(map(str, info["shape"])), info["counts"]["reads"], args.out)
    return 0


def cmd_call(args: argparse.Namespace) -> int:
    from oncorisk.caller.run import CallOptions, command_line, run_call
    from oncorisk.tensors.run import TensorOptions

    tensor_opts = None
    if args.bam:
        filt, th = read_options(args, bool(args.normal_bam))
        tensor_opts = TensorOptions(bam=args.bam, ref=args.ref, normal_bam=args.normal_bam, regions=args.regions,
                                    chunk_size=args.chunk_size, chunk_index=args.chunk_index,
                                    chunk_count=args.chunk_count, filt=filt, thresholds=th, threads=args.threads)
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
    info = train_caller(TrainOptions(data=args.tensors, out=args.out, name=args.name, version=args.version,
                                     epochs=args.epochs, batch=args.batch, lr=args.lr, patience=args.patience,
                                     loss=args.loss, seed=args.seed, device=args.device, recipe=command_line(),
                                     members=args.members, force=args.force))
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
    log.info("gather-vcf: %d records from %d chunks -> %s", n, len(args.vcfs), args.out)
    return 0


def cmd_run_info(args: argparse.Namespace) -> int:
    import json

    from oncorisk.runinfo import write_run_info

    try:
        config = json.loads(args.config_json)
    except json.JSONDecodeError as exc:
        raise UserError(f"--config-json: not valid JSON ({exc})") from None
    inputs = dict(item.split("=", 1) for item in args.inputs or [] if "=" in item)
    write_run_info(args.out, config, inputs, args.samples, args.model)
    return 0


def cmd_report_summary(args: argparse.Namespace) -> int:
    from oncorisk.summary import write_report_summary

    if not Path(args.results).is_dir():
        raise UserError(f"--results {args.results}: not a folder: give a run's results/<cohort> folder")
    texts = write_report_summary(args.results, args.out, args.force)
    log.info("report-summary: %d lines of headline -> %s", texts["summary.rst"].count("\n") + 1, args.out)
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from oncorisk.caller.evaluate import evaluate, write_metrics

    res = evaluate(args.truth, args.query, args.ref, args.bed, args.truth_sample, args.query_sample, args.somatic,
                   not args.all_records, args.min_vaf)
    write_metrics(res, args.out)
    for k in ("SNV", "INDEL"):
        r = res[k]
        print(f"{k}: precision {r['precision']} recall {r['recall']} F1 {r['f1']} (TP {r['tp']}, FP {r['fp']}, "
              f"FN {r['fn']}; genotype concordance {r['genotype_concordance']})")
    return 0


def _terminate(signum, frame):
    raise KeyboardInterrupt


class _Parser(argparse.ArgumentParser):
    """argparse with one-line usage errors (the error catalogue's rule), pointing to --help."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}: see '{self.prog} --help'\n")


# subcommands that write an output folder (the output rule of io.atomic), and the folder each writes
FOLDER_OUTPUTS = {"simulate", "impact", "pathways", "fusion", "tensors", "train-caller", "report-summary"}
OUTPUT_ARGS = ("out", "truth_out", "normal_out")  # every option naming something we write


def add_force_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--force", action="store_true",
                   help="write into a non-empty --out folder that is not a previous output of this command: our "
                        "files are replaced one by one, files oncorisk did not write are kept")


def output_folder(args: argparse.Namespace) -> str:
    if args.command == "train-caller":
        return os.path.join(args.out, f"{args.name}-v{args.version}")
    return args.out


def input_paths(args: argparse.Namespace) -> list[str]:
    """Every path-like value the user gave (``SAMPLE=PATH`` items included) and the files a --samples sheet names."""
    out: list[str] = []
    for key, value in vars(args).items():
        if key in OUTPUT_ARGS or key in ("func", "command"):
            continue
        for v in value if isinstance(value, list) else [value]:
            if isinstance(v, str) and v:
                if len(v) < 4096 and "\n" not in v and not v.lstrip().startswith(("{", "[")):
                    out.append(v.split("=", 1)[1] if "=" in v and not os.path.exists(v) else v)
    sheet = getattr(args, "samples", None)
    if isinstance(sheet, str) and os.path.isfile(sheet):
        from oncorisk.config import PATH_COLUMNS, load_samples

        try:
            for s in load_samples(sheet, mode="germline", check_files=False):
                out += [getattr(s, c) for c in PATH_COLUMNS if getattr(s, c)]
        except UserError:
            pass  # the stage reports the sheet's own error
    return out


def check_outputs(args: argparse.Namespace) -> None:
    """The output rule, before any work: no output is an input or holds one; a folder output is new, empty, a
    previous output of the same command, or --force was given."""
    from oncorisk.io.atomic import check_inputs_outside, check_output_folder

    inputs = input_paths(args)
    for key in OUTPUT_ARGS:
        out = getattr(args, key, None)
        if not isinstance(out, str) or not out:
            continue
        folder = key == "out" and args.command in FOLDER_OUTPUTS
        target = output_folder(args) if folder else out
        check_inputs_outside(target, inputs, is_folder=folder)
        if folder:
            check_output_folder(target, args.command, getattr(args, "force", False))
        elif os.path.isdir(out):
            raise UserError(f"--{key.replace('_', '-')}: {out}: is a folder, where a file is written: give a file "
                            f"path (the folder is left as it is)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="oncorisk",
        description="From aligned reads to a traceable per-patient cancer-risk score. "
        "Stages: tensors -> call -> impact -> pathways -> fusion.",
    )
    parser.add_argument("--version", action="version", version=f"oncorisk {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument("-q", "--quiet", action="store_true", help="warnings and errors only")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("simulate", help="write a seeded demo cohort (reference, GTF, BAMs, VCFs, truth, labels, embeddings)")
    p.add_argument("--out", required=True, help="output folder (replaced atomically)")
    p.add_argument("--seed", type=int, help="random seed (default: config seed, else 1)")
    p.add_argument("--null", action="store_true", help="null mode: labels independent of everything, no drivers")
    p.add_argument("--patients", type=int, help="patients in the cohort (default 200)")
    p.add_argument("--bam-patients", type=int, help="patients with tumour/normal BAMs; the rest get VCFs (default 8)")
    p.add_argument("--genome-size", type=int, help="reference length in bp (default 1,000,000)")
    p.add_argument("--capture", choices=["panel", "wgs"], help="sequence the gene panel or the whole genome")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="any other simulate.* key of config.yaml")
    p.add_argument("--config", help="take simulate.* and seed from this config file first")
    p.add_argument("--threads", type=int, default=1, help="patients simulated in parallel")
    add_force_option(p)
    p.set_defaults(func=cmd_simulate)

    p = sub.add_parser("validate", help="check a config file and/or a sample sheet")
    p.add_argument("--config", help="config.yaml to check")
    p.add_argument("--samples", help="sample sheet (TSV) to check")
    p.add_argument("--mode", choices=["somatic", "germline"], help="calling mode (default: the config's, else somatic)")
    p.add_argument("--out", help="write the validated sheet with resolved paths here")
    p.add_argument("--column", action="append", metavar="OURS=THEIRS",
                   help="the sheet's own name of one of oncorisk's columns (config sample_columns), e.g. "
                   "time=days_to_last_followup; with any, the sheet's other columns are ignored")
    p.add_argument("--cohort-calls", metavar="MAF_OR_VCF",
                   help="a cohort MAF or multi-sample VCF/BCF for every row without its own tumor_bam or vcf "
                   "(config calls)")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("merge-calls", help="a validated sample sheet with the caller's VCFs in the vcf column")
    p.add_argument("--samples", required=True, help="sample sheet (TSV), e.g. the validated one")
    p.add_argument("--mode", choices=["somatic", "germline"], default="somatic", help="calling mode of the sheet")
    p.add_argument("--calls", nargs="+", required=True, metavar="SAMPLE=VCF", help="the caller's VCF per BAM sample")
    p.add_argument("--out", required=True, help="the sheet to write (paths relative to it)")
    p.set_defaults(func=cmd_merge_calls)

    p = sub.add_parser("fit-error-profile", help="fit a sequencing-error profile for the simulator from a real BAM")
    p.add_argument("--bam", required=True)
    p.add_argument("--ref", required=True)
    p.add_argument("--region", required=True, help="CONTIG:START-END (1-based)")
    p.add_argument("--truth-vcf", help="known variants to exclude from the error counts")
    p.add_argument("--name", required=True, help="profile name")
    p.add_argument("--out", required=True, help="output JSON")
    p.set_defaults(func=cmd_fit_profile)

    p = sub.add_parser("impact", help="consequences, weighted mutation impact per gene and sample (Σ f·w), and TMB",
                       description="Annotate variants against a GTF/GFF3 and score MutationImpact = Σ f(x)·w "
                       "per gene and sample (docs/impact.md).")
    src = p.add_argument_group("inputs (at least one of --vcf, --samples, --maf)")
    src.add_argument("--vcf", nargs="+", metavar="[SAMPLE=]VCF", help="VCF/BCF files from any caller")
    src.add_argument("--samples", help="sample sheet: its vcf column, and its sample order for the matrix")
    src.add_argument("--maf", help="a MAF (TCGA/GDC); its Variant_Classification gives the consequence")
    src.add_argument("--gtf", help="gene annotation, GTF or GFF3 (needed for VCFs)")
    src.add_argument("--ref", help="reference FASTA with .fai (needed for VCFs)")
    p.add_argument("--out", required=True, help="output folder")
    add_stage_options(p, "impact", ["transcript_choice", "use_existing_annotation", "chrom_alias", "ref_mismatch",
                                    "include_filtered", "callable", "callable_mb", "barcode_match"])
    add_stage_options(p.add_argument_group("weights f and w"), "impact",
                      ["consequence_weights", "vaf_scaling", "confidence_scaling", "hotspots", "hotspot_weight",
                       "regions", "gene_weights"], aliases={"consequence_weights": ["--weights"]})
    add_force_option(p)
    p.set_defaults(func=cmd_impact)

    p = sub.add_parser("pathways", help="gene scores over a gene network and ranked pathways with significance",
                       description="Network gene scores (propagation of length-adjusted impact evidence) and "
                       "pathway ranking by permutation; with --labels, a GNN scored by cross-validation (docs/pathways.md).")
    p.add_argument("--impact", required=True, help="impact_matrix.parquet (or .tsv) from the impact stage")
    p.add_argument("--gene-sets", required=True, help="GMT")
    p.add_argument("--gene-set-ids", help="TSV id<TAB>symbol, for GMTs in Entrez ids")
    p.add_argument("--network", help="edge list TSV gene_a<TAB>gene_b[<TAB>weight]")
    p.add_argument("--string-links", help="STRING protein.links file (instead of --network)")
    p.add_argument("--string-info", help="STRING protein.info file (protein id -> gene name)")
    p.add_argument("--string-min-score", type=int, default=700, help="STRING combined score cut-off (default 700)")
    p.add_argument("--hotnet2-index", help="HotNet2 index file (instead of --network)")
    p.add_argument("--hotnet2-edges", help="HotNet2 edge file")
    add_stage_options(p, "pathways")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    p.add_argument("--gtf", help="annotation, for gene lengths")
    p.add_argument("--callable", help="BED of sequenced regions (the panel): gene length = callable bases in the gene")
    p.add_argument("--min-size", type=int, default=3, help="smallest gene set tested (members in the network)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", required=True, help="output folder")
    add_force_option(p)
    p.set_defaults(func=cmd_pathways)

    p = sub.add_parser("gene-network", help="a gene network (edge list) from gene sets' co-membership and GPML diagrams",
                       description="Link two genes when they share a gene set of at most --max-set-size members "
                       "(weight: sets shared), plus the curated interactions of WikiPathways GPML files: a network "
                       "in the gene sets' own symbols, for cohorts whose genes the bundled network lacks.")
    p.add_argument("--gene-sets", required=True, help="GMT (gene symbols)")
    p.add_argument("--gpml", nargs="*", default=[], help="WikiPathways .gpml diagrams whose interactions are added")
    p.add_argument("--max-set-size", type=int, default=50, help="sets larger than this add no edges (default 50)")
    p.add_argument("--out", required=True, help="edge list TSV gene_a, gene_b, weight")
    p.set_defaults(func=cmd_gene_network)

    p = sub.add_parser("fusion", help="risk from genomic features + imaging embeddings, CV metrics with CIs, SHAP",
                       description="Fused and unimodal models by stratified k-fold CV (docs/fusion.md).")
    p.add_argument("--samples", required=True, help="sample sheet: labels (or time/event) and image_embedding paths")
    p.add_argument("--pathway-scores", required=True, help="pathway_scores.parquet from the pathways stage")
    p.add_argument("--impact", help="impact_matrix.parquet: selected gene impacts join the genomic features")
    p.add_argument("--gene-scores", help="gene_scores.tsv from pathways: picks the genes with most evidence")
    p.add_argument("--tmb", help="tmb.tsv from the impact stage")
    p.add_argument("--embeddings", help="one table of all embeddings (sample column + dimensions), instead of the sheet's paths")
    p.add_argument("--variants", help="variants.tsv from impact: traces top-risk patients to their variants")
    p.add_argument("--gene-sets", help="GMT: pathway members, for the traces")
    p.add_argument("--outcome", choices=["auto", "label", "survival"], default="auto",
                   help="auto: the binary label when given, else survival (time/event, Cox)")
    add_stage_options(p, "fusion")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    p.add_argument("--out", required=True)
    add_force_option(p)
    p.set_defaults(func=cmd_fusion)

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
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
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
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
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

    p = sub.add_parser("gather-vcf", help="concatenate a sample's chunk VCFs (in chunk order) into one indexed VCF")
    p.add_argument("vcfs", nargs="+")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_gather_vcf)

    p = sub.add_parser("run-info", help="write run_info.json: config, versions, seed, model and input checksums")
    p.add_argument("--config-json", required=True, help="the resolved config, as JSON")
    p.add_argument("--inputs", nargs="*", metavar="LABEL=PATH", help="input files to checksum")
    p.add_argument("--samples", help="sample sheet: its files are checksummed too")
    p.add_argument("--model", help="caller model used (name or folder)")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_run_info)

    p = sub.add_parser("report-summary", help="headline numbers of a run as rst, for snakemake --report's front page")
    p.add_argument("--results", required=True, help="the run's results/<cohort> folder")
    p.add_argument("--out", required=True, help="output folder: summary.rst and caption snippets")
    add_force_option(p)
    p.set_defaults(func=cmd_report_summary)

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
    p.add_argument("--out", required=True, help="metrics JSON")
    p.set_defaults(func=cmd_evaluate)
    return parser


_DISK_FULL = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}
# operating-system errors that name a user's path: one line with the fix, exit 2 (the error catalogue's rule)
_USER_OS_ERRORS = {
    errno.ENOENT: "check the path (relative paths are read from the current folder, or the sheet's folder)",
    errno.EACCES: "check the permissions, or choose a location you can read and write",
    errno.EPERM: "check the permissions, or choose a location you can read and write",
    errno.EROFS: "the location is read-only: choose a writable one",
    errno.EISDIR: "a folder was given where a file is needed: give the file",
    errno.ENOTDIR: "a file was given where a folder is needed: give the folder",
}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING if args.quiet else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # SIGTERM (a scheduler or snakemake stopping the job) unwinds like Ctrl-C, so temporary outputs are removed
    signal.signal(signal.SIGTERM, _terminate)
    try:
        check_outputs(args)
        return args.func(args)
    except UserError as exc:
        print(f"oncorisk: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("oncorisk: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:
        if exc.errno in _USER_OS_ERRORS and exc.filename:
            print(f"oncorisk: error: {exc.filename}: {exc.strerror}: {_USER_OS_ERRORS[exc.errno]}", file=sys.stderr)
            return 2
        if exc.errno not in _DISK_FULL:
            raise
        where = exc.filename or getattr(args, "out", None) or "an output file"
        print(f"oncorisk: error: {where}: {exc.strerror or 'write failed'} while writing: free disk space (or "
              f"write to a larger disk) and rerun; no partial output was kept", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
