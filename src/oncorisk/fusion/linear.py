"""Penalised linear baselines on the same folds as the deep models: L2 logistic regression (binary) or ridge Cox
(survival), the penalty chosen by inner cross-validation on each training fold only.

Inputs are standardised on the training fold; a patient without an image gets the training mean (0 after
standardising) for every imaging column. With patch-feature bags the imaging input is each slide's mean patch.
"""

from __future__ import annotations

import numpy as np

PENALTIES = (0.001, 0.01, 0.1, 1.0, 10.0, 100.0)  # 1/C of the logistic model; lambda of the ridge Cox


def _standardise(x: np.ndarray, tr: np.ndarray) -> np.ndarray:
    mu = np.nanmean(x[tr], axis=0)
    sd = np.nanstd(x[tr], axis=0)
    return np.nan_to_num((x - mu) / np.where(sd > 0, sd, 1.0))


def _ridge_cox(x: np.ndarray, time: np.ndarray, event: np.ndarray, lam: float) -> np.ndarray:
    """Coefficients of a Cox model with an L2 penalty lam * |b|^2 / 2 per event (L-BFGS, Breslow ties)."""
    from scipy.optimize import minimize

    order = np.argsort(-time, kind="stable")
    xs, e = x[order], event[order]
    n_events = max(e.sum(), 1)

    def f(b):
        eta = np.clip(xs @ b, -50, 50)
        w = np.exp(eta)
        s0 = np.cumsum(w)
        s1 = np.cumsum(w[:, None] * xs, axis=0)
        ll = float((e * (eta - np.log(s0))).sum())
        grad = (e[:, None] * (xs - s1 / s0[:, None])).sum(0)
        return -ll / n_events + lam * b @ b / 2, -grad / n_events + lam * b

    res = minimize(f, np.zeros(x.shape[1]), jac=True, method="L-BFGS-B", options=dict(maxiter=500))
    return res.x


def _fit_predict(x, tr, te, y, time, event, penalty):
    if y is not None:
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(C=1 / penalty, max_iter=5000)
        model.fit(x[tr], y[tr])
        return model.decision_function(x[te])
    return x[te] @ _ridge_cox(x[tr], time[tr], event[tr], penalty)


def _inner_score(x, rows, y, time, event, penalty, seed) -> float:
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    from oncorisk.fusion.metrics import c_index

    strat = y if y is not None else event
    scores = []
    for a, b in StratifiedKFold(3, shuffle=True, random_state=seed).split(rows, strat[rows]):
        tr, te = rows[a], rows[b]
        s = _fit_predict(x, tr, te, y, time, event, penalty)
        if y is not None:
            scores.append(roc_auc_score(y[te], s) if len(np.unique(y[te])) == 2 else 0.5)
        else:
            c = c_index(time[te], event[te], s)
            scores.append(0.5 if np.isnan(c) else c)
    return float(np.mean(scores))


def linear_oof(x: np.ndarray, fold: np.ndarray, y, time, event, seed: int) -> tuple[np.ndarray, list[float]]:
    """Out-of-fold linear scores of ``x`` (logit or log-risk) and the penalty chosen in each fold."""
    out = np.zeros(len(fold))
    chosen = []
    for k in np.unique(fold):
        tr, te = np.flatnonzero(fold != k), np.flatnonzero(fold == k)
        z = _standardise(x, tr)
        best = max(PENALTIES, key=lambda p: (_inner_score(z, tr, y, time, event, p, seed + int(k)), p))
        out[te] = _fit_predict(z, tr, te, y, time, event, best)
        chosen.append(best)
    return out, chosen


def linear_baselines(genomic: np.ndarray, imaging: np.ndarray, fold, y, time, event, seed: int):
    """``baseline_linear_genomic``, ``_imaging`` and ``_fused`` (both inputs side by side): (scores, penalties)."""
    scores, penalties = {}, {}
    inputs = {"baseline_linear_genomic": genomic}
    if imaging.shape[1]:
        inputs["baseline_linear_imaging"] = imaging
        inputs["baseline_linear_fused"] = np.concatenate([genomic, imaging], axis=1)
    for name, x in inputs.items():
        scores[name], penalties[name] = linear_oof(x, fold, y, time, event, seed)
    return scores, penalties
