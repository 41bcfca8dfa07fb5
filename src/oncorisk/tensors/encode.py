"""Pileups and candidates to tensors of the layout in :mod:`oncorisk.tensors.layout` (pure numpy)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from oncorisk.tensors.layout import CANDIDATE_FIELDS, MAX_INDEL_LEN_SCALE, SAMPLE_FIELDS, SHARED_FIELDS, WIDTH, WINDOW
from oncorisk.tensors.pileup import BASE_CODE, NF, Pileup

N_POSITION_FEATURES = len(SAMPLE_FIELDS) - CANDIDATE_FIELDS  # all sample fields but the candidate's support


def position_features(pile: Pileup, max_depth: int, at: np.ndarray | None = None) -> np.ndarray:
    """(len(at), N_POSITION_FEATURES) per-position features of one sample at pileup offsets ``at`` (default:
    every position): counts / depth, quality means, depth."""
    at = np.arange(len(pile.depth)) if at is None else at
    depth = pile.depth[at].astype(np.float32)
    denom = np.maximum(depth, 1.0)[:, None]
    counts = pile.counts[at].reshape(len(at), 2 * NF).astype(np.float32) / denom
    n = np.maximum(pile.n_qual[at], 1).astype(np.float32)
    bq = (pile.bq_sum[at].astype(np.float64) / n / 40.0).astype(np.float32)
    mq = (pile.mq_sum[at].astype(np.float64) / n / 60.0).astype(np.float32)
    d = np.minimum(depth / float(max_depth), 1.0)[:, None]
    return np.concatenate([counts, bq, mq, d], axis=1)


def _window_features(pile: Pileup, offset: np.ndarray, max_depth: int) -> np.ndarray:
    """(n, WIDTH, N_POSITION_FEATURES) features around each offset, computed only where needed (zeros
    beyond the pileup's ends)."""
    idx = offset[:, None] + np.arange(WIDTH)[None, :] - WINDOW
    ok = (idx >= 0) & (idx < len(pile.depth))
    out = np.zeros(idx.shape + (N_POSITION_FEATURES,), dtype=np.float32)
    out[ok] = position_features(pile, max_depth, idx[ok])
    return out


def _windows(feat: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """(n, WIDTH, F) windows of per-position features centred on ``offset`` (zeros beyond the ends)."""
    padded = np.zeros((feat.shape[0] + 2 * WINDOW, feat.shape[1]), dtype=np.float32)
    padded[WINDOW:WINDOW + feat.shape[0]] = feat
    idx = offset[:, None] + np.arange(WIDTH)[None, :]
    return padded[idx]


def encode_sites(sites: pd.DataFrame, piles: list[Pileup], supports: list[np.ndarray], haps: list[np.ndarray],
                 max_depth: int) -> np.ndarray:
    """Tensors (n, WIDTH, channels) for candidate rows; ``piles`` are tumour then normal (or the one sample).

    ``supports[k]`` is the (n, 5) array of :func:`oncorisk.tensors.candidates.allele_counts` for pileup k,
    ``haps[k]`` the (n, 2) haplotype-supporting reads [alt, ref]. All pileups cover the same positions.
    """
    n = len(sites)
    base = piles[0]
    channels = len(SHARED_FIELDS) + len(piles) * len(SAMPLE_FIELDS)
    out = np.zeros((n, WIDTH, channels), dtype=np.float32)
    if n == 0:
        return out.astype(np.float16)
    offset = sites["pos"].to_numpy(np.int64) - base.start
    ref_code = BASE_CODE[base.ref].astype(np.int64)
    onehot = np.zeros((len(ref_code), 4), dtype=np.float32)
    ok = ref_code < 4
    onehot[np.flatnonzero(ok), ref_code[ok]] = 1.0
    out[:, :, 0:4] = _windows(onehot, offset)
    kind = sites["kind"].to_numpy()
    ilen = np.abs(sites["ref"].str.len().to_numpy() - sites["alt"].str.len().to_numpy())
    cols = np.arange(WIDTH)[None, :]
    span_end = np.where(kind == "DEL", WINDOW + ilen, WINDOW)
    out[:, :, 4] = (cols >= WINDOW) & (cols <= span_end[:, None])
    out[:, :, 5] = (kind == "SNV")[:, None]
    out[:, :, 6] = (kind == "INS")[:, None]
    out[:, :, 7] = (kind == "DEL")[:, None]
    out[:, :, 8] = (np.minimum(ilen, MAX_INDEL_LEN_SCALE) / MAX_INDEL_LEN_SCALE)[:, None]
    c = len(SHARED_FIELDS)
    for pile, sup, hap in zip(piles, supports, haps):
        out[:, :, c:c + N_POSITION_FEATURES] = _window_features(pile, offset, max_depth)
        d = np.maximum(sup[:, 0], 1).astype(np.float32)
        out[:, WINDOW, c + N_POSITION_FEATURES] = sup[:, 3] / d
        out[:, WINDOW, c + N_POSITION_FEATURES + 1] = sup[:, 4] / d
        out[:, WINDOW, c + N_POSITION_FEATURES + 2] = np.minimum(hap[:, 0] / d, 1.0)
        out[:, WINDOW, c + N_POSITION_FEATURES + 3] = np.minimum(hap[:, 1] / d, 1.0)
        c += len(SAMPLE_FIELDS)
    return out.astype(np.float16)
