"""Pathway significance with the network and the gene sets held fixed: the evidence moves, not the genes.

A network-smoothed gene score cannot be tested against random gene sets: neighbours share smoothed signal and
pathways are densely connected, so any connected set beats unconnected random ones. The null here keeps the
set and every edge where they are and permutes the *evidence* over the genes (HotNet2's heat permutation):
each gene's evidence vector (``gnn.EVIDENCE``: the length-adjusted impact and recurrence z and the largest
single impact) moves, as a whole, to another gene of the same degree x length bin
(``scoring.degree_length_bins``); what belongs to the gene (``gnn.NODE``: degree, length) stays with it, the
propagated evidence is recomputed, and the same gene-score function re-scores the permuted evidence. A set is
significant when its members score higher under the observed placement of the evidence than under random
placements: connectivity without evidence cannot do it (the same connectivity is in every permutation).

Gene-score functions (``__call__(evidence (B, N, k)) -> (N, B)``, ``block(n)``: vectors per pass):
- ``GnnScorer``: the trained GNN ensemble of ``gnn.cross_validate`` re-inferred on the permuted evidence
  (``graph_model.batched_logits``: a block of permutations in one pass); a labelled gene is scored by the fold
  that held it out, every other gene by the mean of the folds, the same rule as its reported ``gnn_score``;
- ``PropagationScorer`` (no labels): the random walk with restart of min(max(z, 0), cap).

Only length-free evidence may move. With the raw per-gene features (fraction of samples hit, mean impact,
impact per kb) among the moved ones, the GNN learnt that long genes are cancer genes (in the demo the known
cancer genes are 1.6x longer) and, since a tercile bin still spans lengths, permuted evidence looked shorter
than the observed: MAPK or PI3K-Akt reached q < 0.05 in 2 of 6 null cohorts. Retraining the models on every
permutation (a SIGN-style GNN, retrainable in batch; tried with those raw features) stayed calibrated but lost
the signal (PI3K-Akt q 0.31-0.90 in cohorts with drivers) and took 130 s on the 270-gene demo: each retrained
model learns the labelled genes again from what stays with them. docs/pathways.md has the numbers.

Statistic: the mean gene score of a set's network members; p = (1 + #permutations >= observed) /
(1 + permutations), one permutation serving every set at once; BH q over the sets tested.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from oncorisk.pathways.scoring import EVIDENCE_CAP, RESTART, bh, propagate

BLOCK_BYTES = 128 * 2 ** 20  # permutations per pass: as many as keep one hidden layer's activations under this


def within_bin_permutations(bins: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` permutations (count, N): gene i receives the evidence of gene perm[i], of the same bin."""
    n = len(bins)
    base = np.argsort(bins, kind="stable")  # genes grouped by bin
    order = np.argsort(bins[None, :] + rng.random((count, n)), axis=1, kind="stable")  # grouped, shuffled in bins
    perm = np.empty((count, n), dtype=np.int64)
    perm[:, base] = order
    return perm


@dataclass
class PropagationScorer:
    """Gene score = random walk with restart of min(max(z, 0), cap) over the network (no labels needed)."""

    operator: sparse.csr_matrix  # scoring.walk_operator of the network
    z_column: int  # where the evidence z sits in the evidence vector
    cap: float = EVIDENCE_CAP

    def block(self, n: int) -> int:
        return int(max(1, BLOCK_BYTES // (n * 8 * 4)))

    def __call__(self, evidence: np.ndarray) -> np.ndarray:
        heat = np.clip(evidence[:, :, self.z_column], 0.0, self.cap).T
        return propagate(None, heat, RESTART, operator=self.operator)


@dataclass
class GnnScorer:
    """The GNN ensemble of ``gnn.cross_validate`` as a function of the evidence (re-inferred, not retrained)."""

    models: list  # per fold, its bagged models (eval mode)
    fold_of: np.ndarray  # per labelled gene, the fold that held it out
    labelled: np.ndarray  # the labelled genes' indices
    centre: np.ndarray
    scale: np.ndarray
    adj_t: object  # the models' graph operator (graph_model.graph_operator)
    operator: sparse.csr_matrix  # scoring.walk_operator, for the propagated evidence
    node: np.ndarray  # (N, len(gnn.NODE)) what stays with the gene: degree, length
    z_column: int
    hidden: int

    def __post_init__(self):
        from oncorisk.pathways.graph_model import aggregation_operator

        # one aggregation operator for every model and every block of permutations (they share the graph)
        self.aggregate = aggregation_operator(self.models[0][0].model, self.adj_t)

    def features(self, evidence: np.ndarray) -> np.ndarray:
        """(B, N, len(gnn.FEATURES)): the evidence, the node's own properties, the propagated evidence."""
        b, n, _ = evidence.shape
        propagated = propagate(None, np.clip(evidence[:, :, self.z_column], 0.0, None).T, RESTART,
                               operator=self.operator).T
        node = np.broadcast_to(self.node.astype(float), (b, n, self.node.shape[1]))
        return np.concatenate([evidence, node, propagated[:, :, None]], axis=2)

    def block(self, n: int) -> int:
        return int(max(1, BLOCK_BYTES // (n * self.hidden * 4 * 4)))

    def __call__(self, evidence: np.ndarray) -> np.ndarray:
        import torch

        from oncorisk.pathways.gnn import model_inputs
        from oncorisk.pathways.graph_model import batched_logits

        device = self.adj_t.device
        x = torch.as_tensor(model_inputs(self.features(evidence), self.centre, self.scale), device=device)
        with torch.no_grad():
            per_fold = np.stack([np.mean([torch.sigmoid(batched_logits(m, x, self.adj_t, self.aggregate)).cpu().numpy()
                                          for m in bag], axis=0) for bag in self.models])  # (folds, B, N)
        score = per_fold.mean(axis=0)
        score[:, self.labelled] = per_fold[self.fold_of, :, self.labelled].T
        return score.T


def membership(sets: dict[str, tuple[str, list[str]]], index: dict[str, int], min_size: int):
    """Per set its members' network indices, and a sparse (sets x genes) operator averaging over the members of
    the sets tested (>= min_size members in the network; the others' rows are empty)."""
    members = {name: np.array([index[g] for g in genes if g in index], dtype=np.int64)
               for name, (_d, genes) in sets.items()}
    rows, cols, vals = [], [], []
    for r, idx in enumerate(members.values()):
        if len(idx) >= min_size:
            rows += [r] * len(idx)
            cols += list(idx)
            vals += [1.0 / len(idx)] * len(idx)
    return members, sparse.csr_matrix((vals, (rows, cols)), shape=(len(members), len(index)))


def network_null_ranking(scorer, evidence: np.ndarray, bins: np.ndarray, sets: dict[str, tuple[str, list[str]]],
                         genes: list[str], hit: np.ndarray, rng: np.random.Generator, permutations: int = 1000,
                         min_size: int = 3, leading: int = 5) -> pd.DataFrame:
    """Rank gene sets by their members' mean gene score, p from ``permutations`` within-bin evidence permutations.

    ``evidence`` (N, k) is each gene's evidence vector in network order; returns the ranking (pathway, size,
    in_network, genes_hit, score, excess (score minus its mean over the permutations), p, q, leading_genes)."""
    n = len(genes)
    members, average = membership(sets, {g: i for i, g in enumerate(genes)}, min_size)
    tested = np.asarray(average.getnnz(axis=1) > 0)
    observed = scorer(evidence[None])[:, 0]
    stat = average @ observed
    exceed = np.zeros(len(members), dtype=np.int64)
    gene_null_sum = np.zeros(n)
    block = max(1, min(permutations, scorer.block(n)))
    done = 0
    while done < permutations:
        perm = within_bin_permutations(bins, min(block, permutations - done), rng)
        scores = scorer(evidence[perm])  # (genes, b)
        gene_null_sum += scores.sum(axis=1, dtype=np.float64)
        null = average @ scores  # (sets, b)
        exceed += (null >= stat[:, None] - 1e-12).sum(axis=1)
        done += perm.shape[0]
    gene_excess = observed - gene_null_sum / permutations  # what each gene's score owes to the evidence's placement
    excess = average @ gene_excess  # a set's score minus its permutation mean (the mean is linear)
    rows = []
    for r, (name, idx) in enumerate(members.items()):
        row = dict(pathway=name, size=len(sets[name][1]), in_network=len(idx),
                   genes_hit=int(hit[idx].sum()) if len(idx) else 0, score=np.nan, excess=np.nan, p=np.nan,
                   leading_genes="")
        if tested[r]:
            top = idx[np.argsort(-gene_excess[idx], kind="stable")][:leading]
            row |= dict(score=float(stat[r]), excess=float(excess[r]),
                        p=(1 + int(exceed[r])) / (permutations + 1),
                        leading_genes=",".join(genes[i] for i in top if gene_excess[i] > 0))
        rows.append(row)
    df = pd.DataFrame(rows)
    df["q"] = np.nan
    df.loc[tested, "q"] = bh(df.loc[tested, "p"].to_numpy())
    # ties in p (the floor 1 / (permutations + 1) above all) go to the larger excess: what the evidence, placed
    # where it is, adds to the members' score, not what the network and the labels give them at any evidence
    df = df.sort_values(["p", "excess", "pathway"], ascending=[True, False, True], na_position="last", kind="stable")
    return df[["pathway", "size", "in_network", "genes_hit", "score", "excess", "p", "q",
               "leading_genes"]].reset_index(drop=True)
