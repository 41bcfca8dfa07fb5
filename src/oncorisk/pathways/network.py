"""Gene-interaction networks: edge-list TSV, STRING protein.links (+ protein.info), or HotNet2 index/edge files.

Self-loops are dropped, duplicate edges merged (highest weight kept), and what was dropped is reported.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx
import numpy as np

from oncorisk.errors import UserError, input_error
from oncorisk.io.text import open_text

log = logging.getLogger(__name__)


def _open(path: Path, what: str = "a gene-network file"):
    return open_text(path, what)


@dataclass
class Network:
    """An undirected, weighted gene network with a fixed node order."""

    graph: nx.Graph
    genes: list[str]
    index: dict[str, int]
    report: dict = field(default_factory=dict)

    def adjacency(self):
        """Sparse symmetric adjacency (CSR) in node order."""
        return nx.to_scipy_sparse_array(self.graph, nodelist=self.genes, weight="weight", format="csr")

    def degree(self) -> np.ndarray:
        return np.array([self.graph.degree(g) for g in self.genes], dtype=np.int64)

    def edge_index(self):
        """torch-geometric edge_index (2 × 2E, both directions) and edge weights."""
        import torch

        a = np.array([[self.index[u], self.index[v]] for u, v in self.graph.edges()], dtype=np.int64).reshape(-1, 2)
        w = np.array([d.get("weight", 1.0) for _, _, d in self.graph.edges(data=True)], dtype=np.float32)
        ei = np.concatenate([a, a[:, ::-1]]).T
        return torch.from_numpy(np.ascontiguousarray(ei)), torch.from_numpy(np.concatenate([w, w]))


def _finish(edges: list[tuple[str, str, float]], source: str) -> Network:
    g = nx.Graph()
    self_loops = duplicates = 0
    for a, b, w in edges:
        if a == b:
            self_loops += 1
            continue
        if g.has_edge(a, b):
            duplicates += 1
            if w > g[a][b]["weight"]:
                g[a][b]["weight"] = w
            continue
        g.add_edge(a, b, weight=w)
    if g.number_of_edges() == 0:
        raise UserError(f"{source}: no edges between two different genes: give an edge list gene_a<TAB>gene_b[<TAB>weight]")
    genes = sorted(g.nodes)
    report = dict(source=source, nodes=len(genes), edges=g.number_of_edges(), self_loops_dropped=self_loops,
                  duplicate_edges_merged=duplicates)
    log.info("network %s: %d genes, %d edges (%d self-loops dropped, %d duplicates merged)", source, len(genes),
             g.number_of_edges(), self_loops, duplicates)
    return Network(g, genes, {x: i for i, x in enumerate(genes)}, report)


def _weight(text: str, path, line: int) -> float:
    """An edge weight: a positive finite number, else one line naming the file, line and value."""
    try:
        w = float(text)
    except ValueError:
        raise input_error(path, f"line {line}, column 3 (weight)", text, "a number") from None
    if not np.isfinite(w) or w <= 0:
        raise input_error(path, f"line {line}, column 3 (weight)", text, "a positive finite number")
    return w


def load_edge_list(path: str | Path) -> Network:
    """TSV with gene_a, gene_b and an optional weight (header optional, '#' comments allowed)."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: network not found: give an edge list TSV gene_a<TAB>gene_b[<TAB>weight]")
    edges = []
    with _open(path) as fh:
        for n, line in enumerate(fh, start=1):
            if not line.strip() or line.startswith("#"):
                continue
            f = line.rstrip("\n").split("\t")
            if len(f) < 2:
                raise input_error(path, f"line {n}", line.strip(), "two tab-separated gene names, then an optional weight")
            if f[0].lower() in ("gene_a", "gene1", "node1", "source", "protein1"):
                continue
            w = _weight(f[2], path, n) if len(f) > 2 and f[2] != "" else 1.0
            edges.append((f[0].strip(), f[1].strip(), w))
    return _finish(edges, str(path))


def load_string(links: str | Path, info: str | Path, min_score: int = 700) -> Network:
    """STRING protein.links (protein1 protein2 combined_score, space-separated) mapped to symbols by protein.info."""
    links, info = Path(links), Path(info)
    for p in (links, info):
        if not p.is_file():
            raise UserError(f"{p}: STRING file not found: give protein.links and protein.info files")
    names = {}
    with _open(info) as fh:
        for line in fh:
            if line.startswith(("#", "string_protein_id", "protein_external_id")):
                continue
            f = line.rstrip("\n").split("\t")
            if len(f) >= 2:
                names[f[0]] = f[1]
    edges, unmapped = [], set()
    with _open(links) as fh:
        for n, line in enumerate(fh, start=1):
            f = line.split()
            if n == 1 and not f[-1].isdigit():
                continue
            if len(f) < 3:
                raise input_error(links, f"line {n}", line.strip(), "protein1 protein2 combined_score")
            try:
                score = int(f[-1])
            except ValueError:
                raise input_error(links, f"line {n}, column combined_score", f[-1], "an integer 0-1000") from None
            if score < min_score:
                continue
            a, b = names.get(f[0]), names.get(f[1])
            if a is None or b is None:
                unmapped.update(x for x, y in ((f[0], a), (f[1], b)) if y is None)
                continue
            edges.append((a, b, score / 1000))
    net = _finish(edges, str(links))
    net.report.update(min_score=min_score, unmapped_proteins=len(unmapped))
    return net


def load_hotnet2(index_file: str | Path, edge_file: str | Path) -> Network:
    """HotNet2 format: an index file (index gene) and an edge file (index index [weight])."""
    if not index_file or not edge_file:
        raise UserError("--hotnet2-index and --hotnet2-edges: give both HotNet2 files (index gene; index index [weight])")
    index_file, edge_file = Path(index_file), Path(edge_file)
    names = {}
    with _open(index_file) as fh:
        for line in fh:
            f = line.split()
            if len(f) >= 2:
                names[f[0]] = f[1]
    edges = []
    with _open(edge_file) as fh:
        for n, line in enumerate(fh, start=1):
            f = line.split()
            if len(f) < 2:
                continue
            if f[0] not in names or f[1] not in names:
                raise input_error(edge_file, f"line {n}", line.strip(), f"indices present in {index_file}")
            w = _weight(f[2], edge_file, n) if len(f) > 2 else 1.0
            edges.append((names[f[0]], names[f[1]], w))
    return _finish(edges, str(edge_file))


def co_membership_edges(sets: dict[str, tuple[str, list[str]]], max_set_size: int = 50,
                        extra: list[tuple[str, str]] = ()) -> list[tuple[str, str, float]]:
    """A gene network from gene sets: two genes are linked when they share a set of at most ``max_set_size``
    members (large sets say little about a pair); the weight is the number of such sets shared, plus one for each
    curated interaction in ``extra`` (e.g. WikiPathways GPML edges). Sorted, so the file is deterministic."""
    from itertools import combinations

    weight: dict[tuple[str, str], float] = {}
    for _name, (_desc, members) in sorted(sets.items()):
        genes = sorted(set(members))
        if len(genes) > max_set_size:
            continue
        for a, b in combinations(genes, 2):
            weight[(a, b)] = weight.get((a, b), 0.0) + 1.0
    for a, b in extra:
        if a != b:
            key = (min(a, b), max(a, b))
            weight[key] = weight.get(key, 0.0) + 1.0
    return [(a, b, w) for (a, b), w in sorted(weight.items())]
