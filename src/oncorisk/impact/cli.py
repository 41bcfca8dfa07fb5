"""``oncorisk impact``: its flags and the options it runs with; the top-level CLI only dispatches."""

from __future__ import annotations

import argparse
import logging

from oncorisk.options import add_force_option, add_stage_options, check_stage_options

log = logging.getLogger("oncorisk")


def register(sub) -> None:
    """Add the subcommand(s) ``impact`` to the top-level parser."""
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


def options_from(args: argparse.Namespace):
    """The ImpactOptions the parsed flags give (weights loaded, the sheet's call files listed)."""
    check_stage_options(args, "impact")
    from oncorisk.impact.run import ImpactOptions
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
    return ImpactOptions(out=args.out, vcfs=vcfs, sample_calls=sample_calls, maf=args.maf, gtf=args.gtf, ref=args.ref,
                         samples=samples, barcode_match=args.barcode_match,
                         transcript_choice=args.transcript_choice, use_existing=args.use_existing_annotation,
                         chrom_alias=args.chrom_alias, ref_mismatch=args.ref_mismatch,
                         include_filtered=args.include_filtered, callable_bed=args.callable,
                         callable_mb=args.callable_mb, weights=weights, force=args.force)


def cmd_impact(args: argparse.Namespace) -> int:
    from oncorisk.impact.run import run_impact

    info = run_impact(options_from(args))
    log.info("impact: %d samples, %d genes, %d variant rows (%d skipped) -> %s", info["samples"], info["genes"],
             info["variant_rows"], info["skipped"], args.out)
    return 0
