"""Cross-validated training of the fused and unimodal models; out-of-fold risks; deterministic."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from oncorisk.fusion.model import FusionNet, cox_loss
from oncorisk.repro import pick_device, seed_everything


@dataclass(frozen=True)
class TrainConfig:
    strategy: str = "gated"
    hidden: int = 32
    dropout: float = 0.2
    modality_dropout: float = 0.2
    lr: float = 1e-3
    weight_decay: float = 1e-4
    epochs: int = 300
    patience: int = 25
    folds: int = 5
    seed: int = 1
    device: str = "auto"


def _standardise(train: np.ndarray, *others: np.ndarray) -> list[np.ndarray]:
    mu = np.nanmean(train, axis=0) if len(train) else 0
    sd = np.nanstd(train, axis=0) if len(train) else 1
    sd = np.where(sd > 0, sd, 1.0)
    return [np.nan_to_num((x - mu) / sd) for x in (train, *others)]


def fit(cfg: TrainConfig, xg, xi, mask, y, time, event, tr: np.ndarray, va: np.ndarray, modality: str, seed: int):
    """Train one model on rows ``tr`` with early stopping on rows ``va``; returns (model, scalers)."""
    import torch

    seed_everything(seed)
    dev = pick_device(cfg.device)
    g_tr, g_va = _standardise(xg[tr], xg[va])
    i_tr, i_va = _standardise(xi[tr], xi[va]) if xi.shape[1] else (xi[tr], xi[va])
    gd = xg.shape[1] if modality in ("fused", "genomic") else 0
    idim = xi.shape[1] if modality in ("fused", "imaging") else 0
    model = FusionNet(gd, idim, cfg.hidden, cfg.strategy, cfg.dropout).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    t = lambda a: torch.as_tensor(np.asarray(a), dtype=torch.float32, device=dev)  # noqa: E731
    Gt, It, Mt, Gv, Iv, Mv = t(g_tr), t(i_tr), t(mask[tr]), t(g_va), t(i_va), t(mask[va])
    survival = time is not None and y is None
    if survival:
        Tt, Et, Tv, Ev = t(time[tr]), t(event[tr]), t(time[va]), t(event[va])
        loss_fn = lambda out, T, E: cox_loss(out, T, E)  # noqa: E731
    else:
        Yt, Yv = t(y[tr]), t(y[va])
        pos = max(float(y[tr].sum()), 1.0)
        bce = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor((len(tr) - pos) / pos, device=dev))
        loss_fn = lambda out, Y, _E: bce(out, Y)  # noqa: E731
    gen = torch.Generator(device="cpu").manual_seed(seed)
    best, best_state, wait = float("inf"), None, 0
    for _ in range(cfg.epochs):
        model.train()
        drop = (torch.rand(len(tr), generator=gen) < cfg.modality_dropout).to(dev)
        out = model(Gt, It, Mt * (~drop))
        loss = loss_fn(out, Tt, Et) if survival else loss_fn(out, Yt, None)
        opt.zero_grad()
        loss.backward()
        opt.step()
        model.eval()
        with torch.no_grad():
            vo = model(Gv, Iv, Mv)
            vl = float(loss_fn(vo, Tv, Ev) if survival else loss_fn(vo, Yv, None))
        if vl < best - 1e-6:
            best, wait = vl, 0
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        else:
            wait += 1
            if wait >= cfg.patience:
                break
    if best_state:
        model.load_state_dict(best_state)
    model.eval()
    return model, (xg[tr], xi[tr])


def predict(model, scalers, xg, xi, mask, cfg: TrainConfig) -> np.ndarray:
    import torch

    dev = pick_device(cfg.device)
    g = _standardise(scalers[0], xg)[1]
    i = _standardise(scalers[1], xi)[1] if xi.shape[1] else xi
    with torch.no_grad():
        out = model(torch.as_tensor(g, dtype=torch.float32, device=dev),
                    torch.as_tensor(i, dtype=torch.float32, device=dev),
                    torch.as_tensor(mask, dtype=torch.float32, device=dev))
    return out.cpu().numpy()


def cross_validate(cfg: TrainConfig, xg, xi, mask, y, time, event) -> dict:
    """Stratified k-fold CV of the fused, genomic-only and imaging-only models. Returns out-of-fold outputs."""
    from sklearn.model_selection import StratifiedKFold, train_test_split

    strat = y if y is not None else event
    n = len(strat)
    folds = StratifiedKFold(n_splits=cfg.folds, shuffle=True, random_state=cfg.seed)
    fold_of = np.zeros(n, dtype=int)
    oof = {m: np.zeros(n) for m in ("fused", "genomic", "imaging")}
    for k, (tr, te) in enumerate(folds.split(np.zeros(n), strat)):
        fold_of[te] = k
        fit_idx, val_idx = train_test_split(tr, test_size=0.2, random_state=cfg.seed + k, stratify=strat[tr])
        for m in oof:
            if m != "genomic" and xi.shape[1] == 0:
                continue
            model, sc = fit(cfg, xg, xi, mask, y, time, event, fit_idx, val_idx, m, cfg.seed + 100 * k)
            oof[m][te] = predict(model, sc, xg[te], xi[te], mask[te], cfg)
    return dict(oof=oof, fold=fold_of)
