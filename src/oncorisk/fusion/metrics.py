"""Metrics with bootstrap 95% confidence intervals: accuracy, sensitivity, specificity, precision, F1, ROC AUC, and
Harrell's c-index for survival."""

from __future__ import annotations

import numpy as np


def youden_threshold(y: np.ndarray, score: np.ndarray) -> float:
    from sklearn.metrics import roc_curve

    fpr, tpr, thr = roc_curve(y, score)
    return float(thr[int(np.argmax(tpr - fpr))])


def binary_metrics(y: np.ndarray, score: np.ndarray, threshold: float) -> dict[str, float]:
    from sklearn.metrics import roc_auc_score

    pred = score >= threshold
    tp = int((pred & (y == 1)).sum())
    tn = int((~pred & (y == 0)).sum())
    fp = int((pred & (y == 0)).sum())
    fn = int((~pred & (y == 1)).sum())
    sens = tp / (tp + fn) if tp + fn else float("nan")
    prec = tp / (tp + fp) if tp + fp else float("nan")
    return dict(
        accuracy=(tp + tn) / len(y), sensitivity=sens, specificity=tn / (tn + fp) if tn + fp else float("nan"),
        precision=prec, f1=2 * prec * sens / (prec + sens) if prec + sens and not np.isnan(prec + sens) else float("nan"),
        roc_auc=float(roc_auc_score(y, score)) if len(np.unique(y)) == 2 else float("nan"),
    )


def c_index(time: np.ndarray, event: np.ndarray, risk: np.ndarray) -> float:
    """Harrell's concordance: among comparable pairs (the earlier time has an event), the share where the
    earlier one has the higher risk (ties in risk count half)."""
    order = np.argsort(time)
    t, e, r = time[order], event[order], risk[order]
    concordant = comparable = 0.0
    for i in range(len(t)):
        if not e[i]:
            continue
        later = t > t[i]
        n = int(later.sum())
        if n == 0:
            continue
        comparable += n
        concordant += float((r[i] > r[later]).sum()) + 0.5 * float((r[i] == r[later]).sum())
    return concordant / comparable if comparable else float("nan")


def bootstrap(fn, n: int, rng: np.random.Generator, rounds: int = 1000) -> tuple[float, float]:
    """95% percentile interval of ``fn(indices)`` over bootstrap resamples of n samples."""
    vals = []
    for _ in range(rounds):
        idx = rng.integers(0, n, size=n)
        v = fn(idx)
        if v is not None and np.isfinite(v):
            vals.append(v)
    if not vals:
        return float("nan"), float("nan")
    lo, hi = np.percentile(vals, [2.5, 97.5])
    return float(lo), float(hi)
