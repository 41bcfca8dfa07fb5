"""Run the pathways stage: network + impact matrix + gene sets -> gene scores, ranked pathways, per-sample scores."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from oncorisk.errors import UserError
from oncorisk.pathways.gnn import EVIDENCE, NODE, GnnConfig
from oncorisk.io.atomic import atomic_dir
from oncorisk.io.intervals import read_bed
from oncorisk.io.provenance import file_checksums, stage_info, write_info
from oncorisk.io.tables import read_table
from oncorisk.io.text import check_file
from oncorisk.pathways.genesets import load_gmt, looks_like_ids
from oncorisk.pathways.network import Network, load_edge_list, load_hotnet2, load_string
from oncorisk.pathways.null import GnnScorer, PropagationScorer, network_null_ranking
from oncorisk.pathways.scoring import (EVIDENCE_CAP, degree_length_bins, gene_features, propagate, rank_pathways,
                                      sample_pathway_scores, walk_operator, zscore)

log = logging.getLogger(__name__)


@dataclass
class PathwayOptions:
    """Everything `oncorisk pathways` is run with."""

    impact: str
    gene_sets: str
    out: str
    network: str | None = None
    string_links: str | None = None
    string_info: str | None = None
    string_min_score: int = 700
    hotnet2_index: str | None = None
    hotnet2_edges: str | None = None
    gene_set_ids: str | None = None
    labels: str | None = None
    gtf: str | None = None
    callable: str | None = None
    permutations: int = 1000
    min_size: int = 3
    evidence_cap: float = EVIDENCE_CAP
    seed: int = 1
    gnn: GnnConfig | None = None
    force: bool = False  # write into a non-empty --out (io.atomic's output rule)


def load_impact_matrix(path: str | Path) -> pd.DataFrame:
    """genes × samples impact matrix from the impact stage (Parquet with a gene column, or TSV)."""
    path = check_file(path, "the impact stage's impact_matrix.parquet (or .tsv): run the impact stage first",
                      "--impact")
    df = read_table(path, "--impact")
    if "gene" not in df.columns:
        raise UserError(f"{path}: no 'gene' column: expected the impact stage's genes × samples matrix")
    df = df.set_index("gene")
    bad = [c for c in df.columns if not np.issubdtype(df[c].dtype, np.number)]
    if bad:
        raise UserError(f"{path}: column {bad[0]!r} is not numeric: every sample column holds impact values")
    if not np.isfinite(df.to_numpy(dtype=float)).all():
        raise UserError(f"{path}: NaN or infinite impact values: rerun the impact stage")
    return df


def _load_network(opts: PathwayOptions) -> Network:
    if opts.string_links:
        if not opts.string_info:
            raise UserError("pathways: --string-links needs --string-info (protein.info, for gene names)")
        return load_string(opts.string_links, opts.string_info, opts.string_min_score)
    if opts.hotnet2_index or opts.hotnet2_edges:
        if not (opts.hotnet2_index and opts.hotnet2_edges):
            raise UserError("pathways: HotNet2 networks need both --hotnet2-index and --hotnet2-edges")
        return load_hotnet2(opts.hotnet2_index, opts.hotnet2_edges)
    if not opts.network:
        raise UserError("pathways: no network: give --network EDGES.tsv, --string-links/--string-info or HotNet2 files")
    return load_edge_list(opts.network)


def gene_lengths_kb(gtf: str | None, callable_bed: str | None = None) -> dict[str, float] | None:
    """Length (kb) over which each gene can collect mutations.

    With a callable BED (e.g. the capture panel): the callable bases inside the gene's span; otherwise the
    exonic length of its longest transcript. Without an annotation: ``documented_lengths_kb`` (the coding length
    of the genes oncorisk bundles).
    """
    if not gtf:
        return documented_lengths_kb()
    from oncorisk.impact.annotation import load_annotation

    ann = load_annotation(gtf)
    lengths: dict[str, float] = {}
    covered = _callable_prefix(callable_bed) if callable_bed else None
    for t in range(ann.n):
        g = ann.gene_name[t]
        if covered is not None:
            c = ann.contig[t]
            kb = (covered(c, int(ann.end[t])) - covered(c, int(ann.start[t]))) / 1000 if c in covered.contigs else 0.0
        else:
            a, b = ann.exon_off[t], ann.exon_off[t + 1]
            kb = float((ann.exon_end[a:b] - ann.exon_start[a:b]).sum()) / 1000
        lengths[g] = max(lengths.get(g, 0.0), kb)
    return {g: v for g, v in lengths.items() if v > 0}


LENGTH_SOURCE_DOCUMENTED = ("coding length 3 x protein length (UniProt canonical, resources/genes/*.tsv) for the "
                            "bundled genes; the median of those for other genes (no annotation given)")


def documented_lengths_kb() -> dict[str, float]:
    """Coding length (kb) = 3 x canonical protein length of the genes in resources/genes (cancer and background
    genes): the length adjustment of a run without a GTF (e.g. a cohort MAF); other genes get their median."""
    from oncorisk.resources import gene_catalogue

    return {r["gene"]: 3 * int(r["protein_length"]) / 1000 for r in gene_catalogue() if int(r["protein_length"]) > 0}


def _callable_prefix(bed: str):
    """covered(contig, x): callable bases before x, from merged BED intervals."""
    merged = {}
    for c, items in read_bed(bed).items():
        starts = np.array([a for a, _ in items])
        ends = np.array([b for _, b in items])
        merged[c] = (starts, ends, np.concatenate(([0], np.cumsum(ends - starts))))

    def covered(contig: str, x: int) -> int:
        starts, ends, cum = merged[contig]
        k = int(np.searchsorted(starts, x, side="right"))  # intervals starting before x
        if k == 0:
            return 0
        return int(cum[k - 1] + min(x, ends[k - 1]) - starts[k - 1])

    covered.contigs = set(merged)
    return covered


def load_labels(path: str, genes: set[str]) -> pd.Series:
    """Known cancer-gene labels (TSV gene<TAB>label, label 0/1); unknown genes are reported, not fatal."""
    check_file(path, "a TSV gene<TAB>label (0/1)", "--labels")
    df = read_table(path, "--labels", comment="#", dtype={"gene": str}, keep_default_na=False)
    if not {"gene", "label"} <= set(df.columns):
        raise UserError(f"{path}: header: columns gene and label are required (TSV gene<TAB>label with 0/1 labels)")
    bad = df[~df["label"].isin([0, 1])]
    if len(bad):
        raise UserError(f"{path}: row {bad.index[0] + 1}, column label: bad value {bad['label'].iloc[0]!r}: accepted: 0, 1")
    unknown = sorted(set(df["gene"]) - genes)
    if unknown:
        log.warning("%s: %d labelled genes are not in the network and are ignored (e.g. %s)", path, len(unknown),
                    ", ".join(unknown[:5]))
    df = df[df["gene"].isin(genes)]
    return df.set_index("gene")["label"].astype(int)


STATISTIC = {
    "GnnScorer": "mean GNN gene score of the set's network members (a labelled gene's from the fold that held it "
                 "out); p: the same GNN re-inferred on the evidence permuted over genes within degree x length "
                 "bins, network and gene sets fixed (pathways.null)",
    "PropagationScorer": "mean evidence propagation (random walk with restart 0.5 of min(max(z, 0), {cap:g})) of "
                         "the set's network members, no labels to train a GNN; p: the evidence permuted over "
                         "genes within degree x length bins, network and gene sets fixed (pathways.null)",
}
BASELINE_STATISTIC = ("mean of min(max(z, 0), {cap:g}) of the member genes' length-adjusted impact evidence; p: "
                      "random sets matched on degree and length (columns baseline_*)")


def _train_gnn(opts: PathwayOptions, cfg: GnnConfig, net: Network, feats: pd.DataFrame, labels: pd.Series,
               walk) -> tuple[dict, dict]:
    """Cross-validate the GNN against the known cancer genes; returns the CV result and gnn_metrics.json."""
    from oncorisk.pathways.gnn import FEATURES, cross_validate, pooled_metrics

    labelled = np.array([net.index[g] for g in labels.index], dtype=np.int64)
    y = labels.to_numpy()
    ei, ew = net.edge_index()
    # peers: raw mutation frequency, and HotNet2-style diffusion of mutation frequency; plus our own
    # non-GNN score (diffusion of the length-adjusted evidence), reported for comparison
    baselines = {"mutation_frequency": feats["frac_samples_hit"].to_numpy(),
                 "hotnet2_propagation": propagate(None, feats["frac_samples_hit"].to_numpy(), operator=walk),
                 "evidence_propagation": feats["propagation_score"].to_numpy()}
    try:
        cv = cross_validate(cfg, feats[list(FEATURES)].to_numpy(dtype=float), ei, ew, labelled, y, baselines)
    except ValueError as exc:
        raise UserError(f"{opts.labels}: {exc}") from None
    # where a network model should win: the known cancer genes whose own evidence is weak (below the known
    # genes' median evidence z), to be ranked above all labelled non-cancer genes
    z = feats["evidence_z"].to_numpy()[labelled]
    low = (y == 0) | (z < np.median(z[y == 1]))
    low_scores = {"gnn": cv["held_out"][low]} | {k: b[labelled][low] for k, b in baselines.items()}
    best_baseline = max(baselines, key=lambda k: cv["pooled"][k]["auprc"])
    metrics = dict(labelled_genes=int(len(y)), positives=int(y.sum()), folds=cv["folds"], pooled=cv["pooled"],
                   mean_fold_auprc=cv["mean_fold_auprc"], device=cv["device"], model=cfg.__dict__,
                   low_own_evidence=dict(genes=int(low.sum()), positives=int(y[low].sum()),
                                         pooled=pooled_metrics(y[low], low_scores)),
                   gnn_at_least_best_baseline=bool(cv["pooled"]["gnn"]["auprc"] >= cv["pooled"][best_baseline]["auprc"]),
                   best_baseline=best_baseline)
    log.info("held-out AUPRC: GNN %.3f, mutation frequency %.3f, HotNet2-style propagation %.3f, "
             "evidence propagation %.3f", *(cv["pooled"][k]["auprc"] for k in
                                           ("gnn", "mutation_frequency", "hotnet2_propagation", "evidence_propagation")))
    return cv, metrics


def _figures(out: Path, ranking: pd.DataFrame, net: Network, scores: pd.Series) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import networkx as nx

    top = ranking.dropna(subset=["p"]).head(15).iloc[::-1]
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(top) + 1.5))
    ax.barh(top["pathway"], -np.log10(top["q"].clip(lower=1e-300)), color="#3b6ea8")
    ax.axvline(-np.log10(0.05), color="grey", linestyle="--", linewidth=1, label="q = 0.05")
    ax.set_xlabel("-log10 q (evidence permuted within degree x length bins, BH)")
    ax.set_title("Top pathways")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "top_pathways.png", dpi=120)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(6, 5))
    if len(top):
        best = ranking.dropna(subset=["p"]).iloc[0]
        lead = [g for g in str(best["leading_genes"]).split(",") if g]
        nodes = set(lead)
        for g in lead:
            nodes |= set(net.graph.neighbors(g)) & set(lead + [n for n in net.graph.neighbors(g)][:3])
        # nodes and edges in sorted order: a set's order changes with the process's hash seed, and the layout
        # (hence the PNG's bytes) with the order
        sub = nx.Graph()
        sub.add_nodes_from(sorted(nodes))
        sub.add_edges_from(sorted(tuple(sorted(e)) for e in net.graph.subgraph(nodes).edges()))
        pos = nx.spring_layout(sub, seed=1)
        vals = [float(scores.get(n, 0.0)) for n in sub.nodes]
        drawn = nx.draw_networkx_nodes(sub, pos, node_color=vals, cmap="viridis", ax=ax, node_size=500)
        nx.draw_networkx_edges(sub, pos, ax=ax, alpha=0.4)
        nx.draw_networkx_labels(sub, pos, ax=ax, font_size=7)
        fig.colorbar(drawn, ax=ax, label="gene score (z)")
        ax.set_title(f"{best['pathway']}: leading genes and neighbours")
    ax.axis("off")
    fig.tight_layout()
    fig.savefig(out / "top_pathway_network.png", dpi=120)
    plt.close(fig)


def run_pathways(opts: PathwayOptions) -> dict:
    """Run the stage and write its outputs into ``opts.out`` (atomically). Returns a summary."""
    if not opts.evidence_cap > 0:
        raise UserError(f"pathways: --evidence-cap {opts.evidence_cap}: must be a positive number of standard "
                        f"deviations (default 4)")
    matrix = load_impact_matrix(opts.impact)
    net = _load_network(opts)
    sets = load_gmt(opts.gene_sets, opts.gene_set_ids)
    cohort_genes = set(matrix.index)
    shared = cohort_genes & set(net.genes)
    if not shared:
        raise UserError(f"{opts.network or opts.string_links or opts.hotnet2_edges}: the network shares no gene with "
                        f"the impact matrix {opts.impact} (e.g. {sorted(net.genes)[:3]} vs {sorted(cohort_genes)[:3]}): "
                        f"use a network in the same gene symbols")
    absent = sorted(cohort_genes - set(net.genes))
    hit_absent = [g for g in absent if matrix.loc[g].sum() > 0]
    if hit_absent:
        log.warning("%d mutated genes are absent from the network and get no network score (e.g. %s)",
                    len(hit_absent), ", ".join(hit_absent[:5]))
    isolated = sorted(g for g in net.genes if g not in cohort_genes)
    feats = gene_features(matrix, net.genes, gene_lengths_kb(opts.gtf, opts.callable))
    adjacency, degree = net.adjacency(), net.degree()
    walk = walk_operator(adjacency)
    propagated = propagate(None, np.clip(feats["evidence_z"].to_numpy(), 0, None), operator=walk)
    feats["degree"] = degree
    feats["propagation_score"] = propagated
    feats["gene_score"] = zscore(propagated)
    hit = (feats["frac_samples_hit"] > 0).to_numpy()
    rng = np.random.default_rng(opts.seed)
    bins = degree_length_bins(degree, feats["exon_kb"].to_numpy())
    baseline = rank_pathways(feats["evidence_z"].to_numpy(), net.genes, degree, feats["exon_kb"].to_numpy(),
                             sets, hit, rng, opts.permutations, opts.min_size, cap=opts.evidence_cap)
    if not baseline["p"].notna().any():
        if looks_like_ids(sets) and not opts.gene_set_ids:
            raise UserError(f"{opts.gene_sets}: its members are numeric ids (Entrez?), the network's are symbols: "
                            f"0 of {len(sets)} sets could be tested: give --gene-set-ids (TSV id<TAB>symbol)")
        raise UserError(f"{opts.gene_sets}: 0 of {len(sets)} gene sets have >= {opts.min_size} members in the network: "
                        f"use gene sets in the network's gene symbols, or lower --min-size")
    per_sample = sample_pathway_scores(matrix, sets, feats["evidence_z"])
    z_column = EVIDENCE.index("evidence_z")
    metrics: dict = {}
    if opts.labels:
        labels = load_labels(opts.labels, set(net.genes))
        gnn_config = opts.gnn or GnnConfig(seed=opts.seed)
        cv, metrics = _train_gnn(opts, gnn_config, net, feats, labels, walk)
        feats["gnn_score"] = cv["scores"]
        scorer = GnnScorer(cv["models"], cv["fold_of"], np.array([net.index[g] for g in labels.index]),
                           cv["centre"], cv["scale"], cv["adj_t"], walk, feats[list(NODE)].to_numpy(dtype=float),
                           z_column, gnn_config.hidden)
    else:
        scorer = PropagationScorer(walk, z_column, opts.evidence_cap)
    ranking = network_null_ranking(scorer, feats[list(EVIDENCE)].to_numpy(dtype=float), bins, sets, net.genes, hit,
                                   rng, opts.permutations, opts.min_size)
    ranking = ranking.merge(baseline[["pathway", "score", "p", "q"]].rename(columns=lambda c: c if c == "pathway"
                                                                            else f"baseline_{c}"),
                            on="pathway", how="left", validate="one_to_one")
    with atomic_dir(opts.out, "pathways", opts.force) as tmp:
        feats.reset_index().to_csv(tmp / "gene_scores.tsv", sep="\t", index=False, float_format="%.6g")
        ranking.to_csv(tmp / "pathway_ranking.tsv", sep="\t", index=False, float_format="%.6g", na_rep="NA")
        per_sample.reset_index().to_parquet(tmp / "pathway_scores.parquet", index=False)
        _figures(tmp, ranking, net, feats["gene_score"])
        resolved = replace(opts, gnn=gnn_config) if opts.labels else opts
        info = stage_info(
            "pathways", resolved, file_checksums([opts.impact, opts.gene_sets, opts.network, opts.string_links,
                                                  opts.string_info, opts.hotnet2_index, opts.hotnet2_edges,
                                                  opts.gene_set_ids, opts.labels, opts.gtf, opts.callable]),
            seed=opts.seed, device=metrics.get("device"),
            gene_score="network propagation (random walk with restart 0.5) of the length-adjusted impact evidence",
            pathway_statistic=STATISTIC[type(scorer).__name__].format(cap=opts.evidence_cap),
            baseline_statistic=BASELINE_STATISTIC.format(cap=opts.evidence_cap),
            network=net.report | dict(cohort_genes_absent=len(absent), network_genes_not_in_cohort=len(isolated),
                                      mutated_genes_absent=hit_absent[:50]),
            gene_sets=len(sets), tested=int(ranking["p"].notna().sum()), metrics=metrics,
            gene_length_source=(f"exonic length of the longest transcript in {opts.gtf}" if opts.gtf
                                else LENGTH_SOURCE_DOCUMENTED) + (f", callable bases of {opts.callable}"
                                                                  if opts.gtf and opts.callable else ""),
        )
        if metrics:
            write_info(tmp / "gnn_metrics.json", metrics)
        write_info(tmp / "run_info.json", info)
    return info | dict(ranking=ranking)
