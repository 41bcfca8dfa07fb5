"""``oncorisk fusion``: its flags and the options it runs with; the top-level CLI only dispatches."""

from __future__ import annotations

import argparse
import logging

from oncorisk.options import add_device_option, add_force_option, add_stage_options, check_stage_options

log = logging.getLogger("oncorisk")


def register(sub) -> None:
    """Add the subcommand(s) ``fusion`` to the top-level parser."""
    p = sub.add_parser("fusion", help="risk from genomic features + imaging embeddings, CV metrics with CIs, SHAP",
                       description="Fused and unimodal models by stratified k-fold CV (docs/fusion.md).")
    p.add_argument("--samples", required=True,
                   help="sample sheet: labels (or time/event) and image_embedding (slides: CLAM/TRIDENT bags or vectors)")
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
    p.add_argument("--threads", type=int, default=1,
                   help="CPU threads of torch; scores are identical for the same count (the workflow passes the "
                        "rule's threads, so a cluster node and a workstation agree)")
    add_device_option(p)
    p.add_argument("--out", required=True)
    add_force_option(p)
    p.set_defaults(func=cmd_fusion)


def options_from(args: argparse.Namespace):
    """The FusionOptions (with the training TrainConfig) the parsed flags give."""
    check_stage_options(args, "fusion")
    if args.threads < 1:
        from oncorisk.errors import UserError

        raise UserError(f"--threads: bad value {args.threads}: must be >= 1")
    from oncorisk.fusion.run import FusionOptions
    from oncorisk.fusion.train import TrainConfig

    return FusionOptions(samples=args.samples, pathway_scores=args.pathway_scores, out=args.out,
                         impact_matrix=args.impact, tmb=args.tmb, embeddings=args.embeddings, variants=args.variants,
                         gene_sets=args.gene_sets, gene_scores=args.gene_scores, max_genes=args.max_genes,
                         threshold=args.threshold, bootstrap_rounds=args.bootstrap, shap_samples=args.shap_samples,
                         outcome=args.outcome, encoder=args.encoder,
                         train=TrainConfig(strategy=args.strategy, hidden=args.hidden, folds=args.folds,
                                           seed=args.seed, device=args.device, survival_loss=args.survival_loss,
                                           time_bins=args.time_bins, max_patches=args.max_patches,
                                           bag_batch=args.bag_batch, patch_components=args.patch_components),
                         force=args.force, threads=args.threads)


def cmd_fusion(args: argparse.Namespace) -> int:
    from oncorisk.fusion.run import run_fusion

    m = run_fusion(options_from(args))
    key = "roc_auc" if m["mode"] == "binary" else "c_index"
    log.info("fusion (%s): %s", key, ", ".join(f"{k} {m[k][key]['value']:.3f} [{m[k][key]['ci'][0]:.3f}, "
                                                f"{m[k][key]['ci'][1]:.3f}]" for k in ("fused", "genomic", "imaging") if k in m))
    return 0
