#!/usr/bin/env python
"""Benchmark the pathways stage.

1. Scale: a synthetic 20,000-gene, ~500,000-edge network (Barabasi-Albert, m = 25), 500 samples, 2,000 gene
   sets of 10-300 genes and 2,500 labelled genes: GNN cross-validation, the GNN re-inferred on 1,000 evidence
   permutations, and the baseline's 1,000 random sets per set, timed with its peak memory (goal: under 15
   minutes on 2 cores, under 4 GB).
2. Real data: TCGA LAML (../shared/data) through `oncorisk impact` (cancerhotspots v2 weights), then
   `oncorisk pathways` with Reactome gene sets, a network of the WikiPathways GPML diagrams' interactions
   plus co-membership in small Reactome sets (5-30 genes), and the Sanchez-Vega 2018 oncogenic-pathway genes
   as known cancer genes. Prints the top 10 pathways and the held-out AUPRC of the GNN and the baselines.

Usage: python benchmarks/pathways.py [--skip-scale] [--skip-real] [--genes N] [--samples N]
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import json
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from oncorisk import __version__

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import timed  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"


def scale(args) -> None:
    import networkx as nx

    d = Path(tempfile.mkdtemp(prefix="oncorisk-pw-bench-"))
    rng = np.random.default_rng(3)
    genes = [f"G{i:05d}" for i in range(args.genes)]
    g = nx.barabasi_albert_graph(args.genes, 25, seed=3)
    with open(d / "net.tsv", "w") as fh:
        fh.write("gene_a\tgene_b\tweight\n")
        for a, b in g.edges():
            fh.write(f"{genes[a]}\t{genes[b]}\t{rng.uniform(0.4, 1):.3f}\n")
    impact = rng.exponential(0.2, size=(args.genes, args.samples)) * (rng.random((args.genes, args.samples)) < 0.02)
    pd.DataFrame(impact, index=pd.Index(genes, name="gene"),
                 columns=[f"S{i:04d}" for i in range(args.samples)]).reset_index().to_parquet(d / "impact.parquet")
    with open(d / "sets.gmt", "w") as fh:
        for k in range(args.sets):
            members = rng.choice(args.genes, size=int(rng.integers(10, 301)), replace=False)
            fh.write(f"SET{k}\tsynthetic\t" + "\t".join(genes[i] for i in members) + "\n")
    lab = rng.choice(args.genes, size=2500, replace=False)
    pd.DataFrame({"gene": [genes[i] for i in lab], "label": (np.arange(2500) < 500).astype(int)}).to_csv(
        d / "labels.tsv", sep="\t", index=False)
    cmd = ["oncorisk", "-q", "pathways", "--impact", str(d / "impact.parquet"), "--network", str(d / "net.tsv"),
           "--gene-sets", str(d / "sets.gmt"), "--labels", str(d / "labels.tsv"), "--permutations", "1000",
           "--device", "cpu", "--out", str(d / "out")]
    wall, rss = timed(cmd)
    print(f"scale: {args.genes:,} genes, {g.number_of_edges():,} edges, {args.samples} samples, {args.sets:,} gene "
          f"sets, 2,500 labelled genes; GNN 5-fold CV + 1,000 evidence permutations (+ the baseline's 1,000 random "
          f"sets): wall {wall:.0f} s, peak RSS {rss:.0f} MB")
    print(f"command: {' '.join(cmd)}")
    shutil.rmtree(d)


def real(args) -> None:
    from oncorisk.pathways.gpml import gpml_edges

    maf = DATA / "tcga_laml" / "tcga_laml.maf.gz"
    if not maf.exists():
        print(f"{maf} absent: real-data run skipped")
        return
    d = Path(tempfile.mkdtemp(prefix="oncorisk-pw-laml-"))
    subprocess.run(["oncorisk", "-q", "impact", "--maf", str(maf), "--hotspots",
                    str(DATA / "cancer_genes" / "cancerhotspots_v2_GRCh37.tsv"), "--callable-mb", "35",
                    "--out", str(d / "impact")], check=True)
    edges = set()
    for f in sorted((DATA / "pathway_diagrams").glob("*.gpml")):
        edges |= {tuple(sorted(e)) for e in gpml_edges(f)}
    n_gpml = len(edges)
    gmt = DATA / "genesets" / "ReactomePathways.gmt"
    for line in gmt.read_text().splitlines():
        members = sorted(set(line.split("\t")[2:]))
        if 5 <= len(members) <= 30:
            edges |= set(itertools.combinations(members, 2))
    with open(d / "net.tsv", "w") as fh:
        fh.write("gene_a\tgene_b\tweight\n")
        for a, b in sorted(edges):
            fh.write(f"{a}\t{b}\t1\n")
    sv = pd.read_csv(DATA / "cancer_genes" / "sanchez_vega_2018_oncogenic_pathways.tsv", sep="\t")
    known = set(sv["Gene"])
    net_genes = {x for e in edges for x in e}
    pd.DataFrame({"gene": sorted(net_genes), "label": [int(x in known) for x in sorted(net_genes)]}).to_csv(
        d / "labels.tsv", sep="\t", index=False)
    cmd = ["oncorisk", "-q", "pathways", "--impact", str(d / "impact" / "impact_matrix.parquet"), "--network",
           str(d / "net.tsv"), "--gene-sets", str(gmt), "--labels", str(d / "labels.tsv"), "--device", "cpu",
           "--out", str(d / "pw")]
    wall, rss = timed(cmd)
    info = json.loads((d / "pw" / "run_info.json").read_text())
    rank = pd.read_csv(d / "pw" / "pathway_ranking.tsv", sep="\t")
    print(f"\nTCGA LAML real data: network {len(net_genes):,} genes / {len(edges):,} edges ({n_gpml:,} from 9 WikiPathways "
          f"GPML diagrams, the rest from co-membership in Reactome sets of 5-30 genes); Reactome "
          f"{info['gene_sets']:,} sets ({info['tested']:,} tested); labels: {len(known & net_genes)} Sanchez-Vega "
          f"genes vs the rest; wall {wall:.0f} s, peak {rss:.0f} MB")
    print(f"command: {' '.join(cmd)}")
    m = info["metrics"]["pooled"]
    print("held-out AUPRC (AUROC): " + ", ".join(f"{k} {v['auprc']:.3f} ({v['auroc']:.3f})" for k, v in m.items()))
    low = info["metrics"]["low_own_evidence"]
    print(f"held-out known genes with below-median own evidence ({low['genes']} genes, {low['positives']} known): AUPRC "
          + ", ".join(f"{k} {v['auprc']:.3f}" for k, v in low["pooled"].items()))
    print("| rank | pathway | size | in network | genes hit | GNN score | excess | p | q | leading genes | "
          "baseline rank | baseline q |\n|---|---|---|---|---|---|---|---|---|---|---|---|")
    base_rank = {p: i for i, p in enumerate(rank.sort_values(["baseline_p", "baseline_score"], ascending=[True, False],
                                                             kind="stable")["pathway"], start=1)}
    for i, r in enumerate(rank.head(10).itertuples(), start=1):
        print(f"| {i} | {r.pathway} | {r.size} | {r.in_network} | {r.genes_hit} | {r.score:.3f} | {r.excess:.3f} | {r.p:.4f} | "
              f"{r.q:.3f} | {r.leading_genes} | {base_rank[r.pathway]} | {r.baseline_q:.3f} |")
    print("baseline (evidence z, random sets) top 10: " + "; ".join(
        rank.sort_values(["baseline_p", "baseline_score"], ascending=[True, False], kind="stable")["pathway"].head(10)))
    shutil.rmtree(d)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--genes", type=int, default=20_000)
    ap.add_argument("--samples", type=int, default=500)
    ap.add_argument("--sets", type=int, default=2000)
    ap.add_argument("--skip-scale", action="store_true")
    ap.add_argument("--skip-real", action="store_true")
    args = ap.parse_args()
    print(f"# oncorisk {__version__} pathways benchmark, {datetime.date.today()}, {platform.machine()}, "
          f"python {platform.python_version()}")
    if not args.skip_real:
        real(args)
    if not args.skip_scale:
        scale(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
