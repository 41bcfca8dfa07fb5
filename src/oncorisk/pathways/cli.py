"""``oncorisk pathways`` and ``oncorisk gene-network``: flags and hand-off; the top-level CLI only dispatches."""

from __future__ import annotations

import argparse
import logging

from oncorisk.errors import UserError
from oncorisk.options import add_device_option, add_force_option, add_stage_options, check_stage_options

log = logging.getLogger("oncorisk")


def register(sub) -> None:
    """Add the subcommand(s) ``pathways``, ``gene-network`` to the top-level parser."""
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
    add_device_option(p)
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


def options_from(args: argparse.Namespace):
    """The PathwayOptions (with the GNN's GnnConfig) the parsed flags give."""
    check_stage_options(args, "pathways")
    from oncorisk.pathways.gnn import GnnConfig
    from oncorisk.pathways.run import PathwayOptions

    return PathwayOptions(impact=args.impact, gene_sets=args.gene_sets, out=args.out, network=args.network,
                          string_links=args.string_links, string_info=args.string_info,
                          string_min_score=args.string_min_score, hotnet2_index=args.hotnet2_index,
                          hotnet2_edges=args.hotnet2_edges, gene_set_ids=args.gene_set_ids, labels=args.labels,
                          gtf=args.gtf, callable=args.callable, permutations=args.permutations,
                          min_size=args.min_size, evidence_cap=args.evidence_cap, seed=args.seed,
                          gnn=GnnConfig(model=args.model, layers=args.layers, hidden=args.hidden, dropout=args.dropout,
                                        folds=args.folds, bagging=args.bagging, seed=args.seed,
                                        device=args.device), force=args.force)


def cmd_pathways(args: argparse.Namespace) -> int:
    from oncorisk.pathways.run import run_pathways

    info = run_pathways(options_from(args))
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
