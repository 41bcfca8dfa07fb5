"""Gene features, network propagation, and pathway scores with degree-matched permutation significance.

Gene evidence: the length-adjusted excess of impact, z_g (see ``gene_features``), so that long genes do not win
by length alone and short genes do not win by noise.
Propagation: random walk with restart on the column-normalised network, s = (1 - r)·W·s + r·h (r = 0.5), as
in HotNet2's diffusion, of the positive part of the evidence: the network gene score.
Baseline pathway statistic (the GNN statistic and its network-fixed null are in pathways.null): the mean of
min(max(z, 0), cap) over the member genes' own evidence (drivers concentrate in a
few genes of a pathway, so the positive part keeps them from being averaged away; the cap, z = 4 by default,
one-sided p ~ 3e-5, counts a gene that far beyond its expectation as a sure hit, so no single extreme gene,
a member or one drawn into a random set, decides a set's fate: a set is significant when several of its
members are in excess). Propagated scores cannot be tested this way: neighbours share propagated signal and
pathways are densely connected, so a connected set would beat random sets by construction (hence the null of
pathways.null, which moves the evidence and keeps the sets).
Significance: the share of random gene sets of the same size, drawn gene by gene from the member's degree ×
length bin over all network genes (members included), whose statistic is at least as high;
p = (1 + #≥) / (1 + permutations); Benjamini-Hochberg q over the pathways tested (>= min_size members in the
network).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse

RESTART = 0.5
DEGREE_BINS = 3
EVIDENCE_CAP = 4.0


def gene_features(matrix: pd.DataFrame, genes: list[str], exon_kb: dict[str, float] | None) -> pd.DataFrame:
    """Per-gene cohort statistics over the network's genes (absent genes get zeros).

    ``evidence_z`` is the length-adjusted excess of impact: with total impact T and squared impact Q over all
    genes and exonic length L_g (kb), the expectation is T·L_g/ΣL and the variance Q·L_g/ΣL, so
    z_g = (impact_g − T·L_g/ΣL) / sqrt(Q·L_g/ΣL). ``recurrence_z`` is the same for the number of samples hit
    (H hits in all, Poisson): (hits_g − H·L_g/ΣL) / sqrt(H·L_g/ΣL). Without lengths every gene counts as 1 kb.
    """
    m = matrix.reindex(genes).fillna(0.0)
    n = max(m.shape[1], 1)
    values = m.to_numpy(dtype=float)
    frac = (values > 0).sum(axis=1) / n
    total = values.sum(axis=1)
    length = pd.Series([exon_kb.get(g, np.nan) if exon_kb else 1.0 for g in genes], index=genes, dtype=float)
    length = length.fillna(length.median() if length.notna().any() else 1.0).to_numpy()
    share = length / length.sum()
    expected = total.sum() * share
    variance = (values ** 2).sum() * share
    z = np.divide(total - expected, np.sqrt(variance), out=np.zeros_like(total), where=variance > 0)
    hits = (values > 0).sum(axis=1).astype(float)
    expected_hits = hits.sum() * share
    recurrence = np.divide(hits - expected_hits, np.sqrt(expected_hits), out=np.zeros_like(hits),
                           where=expected_hits > 0)
    return pd.DataFrame({"frac_samples_hit": frac, "mean_impact": total / n, "max_impact": values.max(axis=1),
                         "exon_kb": length, "burden_per_kb": total / n / length, "evidence_z": z,
                         "recurrence_z": recurrence},
                        index=pd.Index(genes, name="gene"))


def walk_operator(adjacency):
    """The column-normalised adjacency W of the random walk (isolated genes keep no heat from neighbours)."""
    a = sparse.csr_matrix(adjacency, dtype=float)
    deg = np.asarray(a.sum(axis=0)).ravel()
    return sparse.csr_matrix(a @ sparse.diags(np.divide(1.0, deg, out=np.zeros_like(deg), where=deg > 0)))


def propagate(adjacency, heat: np.ndarray, restart: float = RESTART, iterations: int = 100, tol: float = 1e-10,
              operator=None) -> np.ndarray:
    """Random walk with restart from ``heat`` (one vector, or genes x B columns) over a symmetric adjacency
    (column-normalised; pass ``operator``, from ``walk_operator``, to reuse it); stops when no entry changes by
    more than ``tol``."""
    w = walk_operator(adjacency) if operator is None else operator
    heat = np.asarray(heat, dtype=float)
    s = heat.copy()
    for _ in range(iterations):
        nxt = (1 - restart) * (w @ s) + restart * heat
        if np.abs(nxt - s).max(initial=0.0) < tol:
            return nxt
        s = nxt
    return s


def zscore(x: np.ndarray) -> np.ndarray:
    sd = x.std()
    return (x - x.mean()) / sd if sd > 0 else np.zeros_like(x, dtype=float)


def degree_bins(degree: np.ndarray, n_bins: int = DEGREE_BINS) -> np.ndarray:
    """Bin genes by degree quantiles (ties kept together)."""
    ranks = pd.Series(degree).rank(method="dense").to_numpy()
    edges = np.unique(np.quantile(ranks, np.linspace(0, 1, n_bins + 1)))
    return np.clip(np.searchsorted(edges, ranks, side="right") - 1, 0, len(edges) - 2)


def degree_length_bins(degree: np.ndarray, length: np.ndarray, n_bins: int = DEGREE_BINS) -> np.ndarray:
    """One bin per gene, 0..k-1: its degree quantile bin x its length quantile bin (``n_bins`` each, empty ones
    dropped). Both permutation tests match on it: a random set draws its genes from the members' bins, and the
    network null moves evidence only between genes of one bin."""
    return np.unique(degree_bins(degree, n_bins) * n_bins + degree_bins(length, n_bins), return_inverse=True)[1]


def bh(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg q values."""
    n = len(p)
    if n == 0:
        return p
    order = np.argsort(p)
    ranked = p[order] * n / np.arange(1, n + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(n)
    out[order] = np.minimum(q, 1.0)
    return out


def rank_pathways(scores: np.ndarray, genes: list[str], degree: np.ndarray, length: np.ndarray,
                  sets: dict[str, tuple[str, list[str]]], hit: np.ndarray, rng: np.random.Generator,
                  permutations: int = 1000, min_size: int = 3, leading: int = 5, n_bins: int = 3,
                  cap: float = EVIDENCE_CAP) -> pd.DataFrame:
    """Rank gene sets by the mean positive gene evidence of their network members (each gene's capped at ``cap``),
    with permutation p and BH q.

    Random sets are drawn gene by gene from the member's degree × length bin (``n_bins`` quantile bins each),
    over all network genes, members included (a competitive test that stays calibrated).
    """
    z = np.clip(np.asarray(scores, dtype=float), 0.0, cap)
    index = {g: i for i, g in enumerate(genes)}
    bins = degree_length_bins(degree, length, n_bins)
    members_of_bin = [np.flatnonzero(bins == b) for b in range(bins.max() + 1)]
    rows = []
    for name, (_desc, members) in sets.items():
        idx = np.array([index[g] for g in members if g in index], dtype=np.int64)
        row = dict(pathway=name, size=len(members), in_network=len(idx), genes_hit=int(hit[idx].sum()) if len(idx) else 0)
        if len(idx) < min_size:
            rows.append(row | dict(score=np.nan, p=np.nan, leading_genes=""))
            continue
        obs = z[idx].mean()
        null = np.zeros(permutations)
        for b in np.unique(bins[idx]):
            k = int((bins[idx] == b).sum())
            pool = members_of_bin[b]
            null += z[pool[rng.integers(0, len(pool), size=(permutations, k))]].sum(axis=1)
        null /= len(idx)
        p = (1 + int((null >= obs - 1e-12).sum())) / (permutations + 1)
        top = idx[np.argsort(-np.asarray(scores)[idx], kind="stable")][:leading]
        rows.append(row | dict(score=float(obs), p=p, leading_genes=",".join(genes[i] for i in top if z[i] > 0)))
    df = pd.DataFrame(rows)
    tested = df["p"].notna().to_numpy()
    df["q"] = np.nan
    df.loc[tested, "q"] = bh(df.loc[tested, "p"].to_numpy())
    df = df.sort_values(["p", "score", "pathway"], ascending=[True, False, True], na_position="last", kind="stable")
    return df[["pathway", "size", "in_network", "genes_hit", "score", "p", "q", "leading_genes"]].reset_index(drop=True)


def sample_pathway_scores(matrix: pd.DataFrame, sets: dict[str, tuple[str, list[str]]],
                          evidence: pd.Series | None = None) -> pd.DataFrame:
    """samples × pathways: each pathway's member-gene impacts in a sample, weighted by the genes' cohort evidence.

    score(s, P) = Σ_{g ∈ P} impact(g, s) · max(z_g, 0): a mutation counts in proportion to how much its gene is
    mutated beyond its length's expectation across the cohort (no outcome is used), so passengers in genes
    without excess add little. Without ``evidence`` every gene weighs 1 (the plain summed impact).
    """
    weights = (evidence.clip(lower=0) if evidence is not None else pd.Series(1.0, index=matrix.index))
    out = {}
    for name, (_d, members) in sets.items():
        present = [g for g in members if g in matrix.index]
        if present:
            out[name] = matrix.loc[present].mul(weights.reindex(present).fillna(0.0), axis=0).sum(axis=0)
        else:
            out[name] = pd.Series(0.0, index=matrix.columns)
    df = pd.DataFrame(out, index=matrix.columns)
    df.index.name = "sample"
    return df
