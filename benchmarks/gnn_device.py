#!/usr/bin/env python
"""GNN cross-validation time on CPU and on a GPU (when present), on a synthetic 20,000-gene, ~500,000-edge
network: what a GPU node changes for the pathways stage.

Usage: PYTHONPATH=src python benchmarks/gnn_device.py [--genes N] [--m M]
"""

from __future__ import annotations

import argparse
import sys
import time

import networkx as nx
import numpy as np
import torch

from oncorisk.pathways.gnn import GnnConfig, cross_validate


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--genes", type=int, default=20_000)
    ap.add_argument("--m", type=int, default=25)
    args = ap.parse_args()
    rng = np.random.default_rng(3)
    g = nx.barabasi_albert_graph(args.genes, args.m, seed=3)
    edges = np.array(g.edges(), dtype=np.int64)
    ei = torch.from_numpy(np.concatenate([edges, edges[:, ::-1]]).T.copy())
    ew = torch.ones(ei.shape[1])
    labelled = rng.choice(args.genes, size=2500, replace=False)
    y = (np.arange(2500) < 500).astype(int)
    x = rng.normal(size=(args.genes, 6))
    x[labelled[y == 1], 4] += 1.5  # planted signal in one feature of the positives
    print(f"torch {torch.__version__}, cuda available: {torch.cuda.is_available()}"
          + (f" ({torch.cuda.get_device_name(0)})" if torch.cuda.is_available() else ""))
    print(f"graph: {args.genes:,} genes, {len(edges):,} edges; 2,500 labelled (500 positive); 5-fold CV, GraphSAGE 2x32")
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for device in devices:
        t = time.perf_counter()
        cv = cross_validate(GnnConfig(device=device), x, ei, ew, labelled, y, {"feature": x[:, 4]})
        if device == "cuda":
            torch.cuda.synchronize()
        dt = time.perf_counter() - t
        print(f"{device}: {dt:.1f} s for 5-fold CV (threads {torch.get_num_threads()}); held-out AUPRC GNN "
              f"{cv['pooled']['gnn']['auprc']:.3f} vs planted feature {cv['pooled']['feature']['auprc']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
