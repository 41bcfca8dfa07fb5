"""Survival beside Cox: the discrete-time negative log-likelihood (MCAT, SurvPath), its time bins, and the
metrics that need censoring weights: Uno's IPCW c-index and the integrated Brier score (Graf et al.).

Discrete time: the follow-up is cut into ``bins`` intervals at quantiles of the event times of the training
fold's uncensored patients only (the outer edges open); the model gives one hazard logit per interval,
h_k = sigmoid(logit_k), S_k = prod_{j<=k} (1 - h_j). A patient with an event in interval y contributes
-log S_{y-1} - log h_y, a censored one -log S_y. The risk reported is -sum_k S_k (a higher risk, a shorter
expected survival), as MCAT does.

Survival curves for the Brier score, for any model's risk score r: a one-coefficient Cox model of r is fitted on
the training fold (beta by Newton's method on the partial likelihood), then Breslow's baseline hazard, so
S(t | r) = exp(-H0(t) exp(beta r)).
"""

from __future__ import annotations

import numpy as np


def time_bins(time: np.ndarray, event: np.ndarray, bins: int) -> np.ndarray:
    """The inner cut points (bins - 1 of them) at quantiles of the event times (uncensored patients only)."""
    t = np.sort(time[event == 1])
    if len(t) == 0:
        return np.zeros(0)
    cuts = np.quantile(t, np.linspace(0, 1, bins + 1)[1:-1])
    return np.unique(cuts)


def assign_bins(time: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    """Each time's interval index (0 .. len(cuts))."""
    return np.searchsorted(cuts, time, side="right").astype(np.int64)


def discrete_nll(logits, bins, event):
    """Mean negative log-likelihood of the discrete-time hazard model (torch tensors)."""
    import torch

    h = torch.sigmoid(logits).clamp(1e-7, 1 - 1e-7)
    log_s = torch.cumsum(torch.log1p(-h), dim=1)  # log S_k
    b = bins.long().unsqueeze(1)
    log_s_prev = torch.where(b > 0, torch.gather(log_s, 1, (b - 1).clamp(min=0)), torch.zeros_like(b, dtype=h.dtype))
    log_h = torch.log(torch.gather(h, 1, b))
    log_s_here = torch.gather(log_s, 1, b)
    e = event.float().unsqueeze(1)
    return -(e * (log_s_prev + log_h) + (1 - e) * log_s_here).mean()


def discrete_risk(logits: np.ndarray) -> np.ndarray:
    """-sum_k S_k of each row of hazard logits (n x bins)."""
    h = 1 / (1 + np.exp(-logits))
    return -np.cumprod(1 - h, axis=1).sum(axis=1)


def km_curve(time: np.ndarray, event: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan-Meier estimate: the step times and the survival just after each."""
    order = np.argsort(time, kind="stable")
    t, e = time[order], event[order]
    steps, surv, s = [0.0], [1.0], 1.0
    at_risk = len(t)
    for u in np.unique(t):
        here = t == u
        d = int(e[here].sum())
        if d:
            s *= 1 - d / at_risk
            steps.append(float(u))
            surv.append(s)
        at_risk -= int(here.sum())
    steps.append(float(t.max()) if len(t) else 0.0)
    surv.append(s)
    return np.array(steps), np.array(surv)


def censoring_km(time: np.ndarray, event: np.ndarray):
    """G(t): the Kaplan-Meier estimate of the censoring distribution (censoring as the event), as a step function
    (G(t) = P(C > t); ``left``: G(t-))."""
    steps, values = km_curve(time, 1 - event)

    def G(x, left: bool = False):
        idx = np.searchsorted(steps, x, side="left" if left else "right") - 1
        return np.where(idx >= 0, values[np.clip(idx, 0, None)], 1.0)

    return G


def uno_c_index(time: np.ndarray, event: np.ndarray, risk: np.ndarray, tau: float | None = None) -> float:
    """Uno's IPCW concordance up to ``tau`` (default: the last event time): pairs with t_i < t_j, an event at t_i,
    weighted by 1 / G(t_i-)^2; ties in risk count half."""
    if tau is None:
        tau = float(time[event == 1].max()) if (event == 1).any() else 0.0
    G = censoring_km(time, event)
    num = den = 0.0
    for i in np.flatnonzero((event == 1) & (time < tau)):
        g = float(G(np.array([time[i]]), left=True)[0])
        if g <= 0:
            continue
        later = time > time[i]
        w = 1 / g ** 2
        den += w * later.sum()
        num += w * (float((risk[i] > risk[later]).sum()) + 0.5 * float((risk[i] == risk[later]).sum()))
    return float(num / den) if den else float("nan")


def cox_beta(risk: np.ndarray, time: np.ndarray, event: np.ndarray, steps: int = 25) -> float:
    """The one coefficient of a Cox model of ``risk`` (Breslow ties), by Newton's method."""
    sd = risk.std() or 1.0
    x = (risk - risk.mean()) / sd
    order = np.argsort(-time, kind="stable")
    x, e = x[order], event[order]
    b = 0.0
    for _ in range(steps):
        w = np.exp(np.clip(b * x, -50, 50))
        s0, s1, s2 = np.cumsum(w), np.cumsum(w * x), np.cumsum(w * x * x)
        grad = float((e * (x - s1 / s0)).sum())
        hess = float((e * (s2 / s0 - (s1 / s0) ** 2)).sum())
        if hess <= 1e-12:
            break
        step = grad / hess
        b += float(np.clip(step, -2, 2))
        if abs(step) < 1e-8:
            break
    return b / sd


def breslow_curves(risk_tr, time_tr, event_tr, risk_te, grid: np.ndarray) -> np.ndarray:
    """S(t | r) on ``grid`` for the held-out risks (rows) from a Cox model of the training risks."""
    beta = cox_beta(risk_tr, time_tr, event_tr)
    c = risk_tr.mean()
    w = np.exp(np.clip(beta * (risk_tr - c), -50, 50))
    times = np.unique(time_tr[event_tr == 1])
    h = np.array([event_tr[time_tr == u].sum() / w[time_tr >= u].sum() for u in times])
    H = np.concatenate([[0.0], np.cumsum(h)])[np.searchsorted(times, grid, side="right")]
    return np.exp(-np.outer(np.exp(np.clip(beta * (risk_te - c), -50, 50)), H))


def integrated_brier(time: np.ndarray, event: np.ndarray, curves: np.ndarray, grid: np.ndarray) -> float:
    """Graf's IPCW integrated Brier score of survival curves (rows: patients, columns: ``grid`` times)."""
    G = censoring_km(time, event)
    g_t = G(time, left=True)
    scores = []
    for k, t in enumerate(grid):
        s = curves[:, k]
        died = (time <= t) & (event == 1)
        alive = time > t
        gt = float(G(np.array([t]))[0])
        w_died = np.where(died & (g_t > 0), 1 / np.where(g_t > 0, g_t, 1), 0.0)
        w_alive = alive / gt if gt > 0 else np.zeros(len(time))
        scores.append(float(np.mean(s ** 2 * w_died + (1 - s) ** 2 * w_alive)))
    if len(grid) < 2:
        return scores[0] if scores else float("nan")
    return float(np.trapezoid(scores, grid) / (grid[-1] - grid[0]))


def brier_grid(time: np.ndarray, event: np.ndarray, points: int = 50) -> np.ndarray:
    """Times the Brier score is integrated over: from the 10th to the 90th percentile of the event times."""
    t = time[event == 1]
    if len(t) < 2:
        return np.zeros(0)
    lo, hi = np.percentile(t, [10, 90])
    return np.linspace(lo, hi, points) if hi > lo else np.array([lo])
