"""Cross-validated training of the fused and unimodal models; out-of-fold risks; deterministic.

One imaging vector per patient: the MLP models of ``fusion.model``. Patch-feature bags: the genomic MLP, the
attention-MIL imaging model, the mean-pooling imaging baseline and the co-attention fused model of
``fusion.mil``, all on the same folds and inner validation splits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from oncorisk.fusion.model import FusionNet, cox_loss
from oncorisk.repro import EarlyStopping, pick_device, seed_everything


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
    survival_loss: str = "cox"  # cox (partial likelihood) | nll (discrete-time, MCAT/SurvPath)
    time_bins: int = 4
    max_patches: int = 512  # patches per bag in a training step (all of them at inference)
    bag_batch: int = 16
    bag_epochs: int = 60
    bag_patience: int = 10
    bag_lr: float = 5e-4
    patch_components: int = 32  # principal components of the training patches the bag models see (0: all of D)


@dataclass
class Outcome:
    """The training target: binary ``y``, or ``time``/``event`` (with ``bins``: the discrete-time intervals)."""

    y: np.ndarray | None
    time: np.ndarray | None
    event: np.ndarray | None
    bins: np.ndarray | None = None

    def pos_weight(self, rows) -> float | None:
        """The positive class's weight in the binary loss (negatives per positive among ``rows``)."""
        if self.y is None:
            return None
        pos = max(float(self.y[rows].sum()), 1.0)
        return (len(rows) - pos) / pos

    def loss(self, out, rows, pos_weight: float | None):
        import torch

        dev = out.device
        if self.y is not None:
            y = torch.as_tensor(self.y[rows], dtype=torch.float32, device=dev)
            return torch.nn.functional.binary_cross_entropy_with_logits(
                out, y, pos_weight=torch.tensor(pos_weight, device=dev))
        e = torch.as_tensor(self.event[rows], dtype=torch.float32, device=dev)
        if self.bins is not None:
            from oncorisk.fusion.survival import discrete_nll

            return discrete_nll(out, torch.as_tensor(self.bins[rows], device=dev), e)
        return cox_loss(out, torch.as_tensor(self.time[rows], dtype=torch.float32, device=dev), e)


def _standardise(train: np.ndarray, *others: np.ndarray) -> list[np.ndarray]:
    mu = np.nanmean(train, axis=0) if len(train) else 0
    sd = np.nanstd(train, axis=0) if len(train) else 1
    sd = np.where(sd > 0, sd, 1.0)
    return [np.nan_to_num((x - mu) / sd) for x in (train, *others)]


def fit(cfg: TrainConfig, xg, xi, mask, y, time, event, tr: np.ndarray, va: np.ndarray, modality: str, seed: int,
        bins: np.ndarray | None = None, outputs: int = 1):
    """Train one MLP model on rows ``tr`` with early stopping on rows ``va``; returns (model, scalers)."""
    import torch

    seed_everything(seed)
    dev = pick_device(cfg.device)
    g_tr, g_va = _standardise(xg[tr], xg[va])
    i_tr, i_va = _standardise(xi[tr], xi[va]) if xi.shape[1] else (xi[tr], xi[va])
    gd = xg.shape[1] if modality in ("fused", "genomic") else 0
    idim = xi.shape[1] if modality in ("fused", "imaging") else 0
    model = FusionNet(gd, idim, cfg.hidden, cfg.strategy, cfg.dropout, outputs).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    t = lambda a: torch.as_tensor(np.asarray(a), dtype=torch.float32, device=dev)  # noqa: E731
    Gt, It, Mt, Gv, Iv, Mv = t(g_tr), t(i_tr), t(mask[tr]), t(g_va), t(i_va), t(mask[va])
    outcome = Outcome(None if time is not None and y is None else y, time, event, bins)
    pos_weight = outcome.pos_weight(tr)
    gen = torch.Generator(device="cpu").manual_seed(seed)
    stop = EarlyStopping(cfg.patience)
    for _ in range(cfg.epochs):
        model.train()
        drop = (torch.rand(len(tr), generator=gen) < cfg.modality_dropout).to(dev)
        loss = outcome.loss(model(Gt, It, Mt * (~drop)), tr, pos_weight)
        opt.zero_grad()
        loss.backward()
        opt.step()
        model.eval()
        with torch.no_grad():
            vl = float(outcome.loss(model(Gv, Iv, Mv), va, pos_weight))
        if stop.step(vl, model):
            break
    stop.restore(model)
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


def token_columns(names: list[str]) -> list[int]:
    """The genomic columns that become the co-attention's tokens: the pathway scores (all columns without any)."""
    cols = [j for j, n in enumerate(names) if n.startswith("pathway:")]
    return cols or list(range(len(names)))


@dataclass
class BagAttention:
    """Out-of-fold attention of one patient: fused (co-attention) and imaging (ABMIL) patch weights, the pathway
    tokens' pooling weights and their co-attention over the patches."""

    fused: np.ndarray
    imaging: np.ndarray
    tokens: np.ndarray
    coattention: np.ndarray


def _as_risk(out: np.ndarray, discrete: bool) -> np.ndarray:
    if not discrete:
        return out
    from oncorisk.fusion.survival import discrete_risk

    return discrete_risk(out)


def cv_splits(cfg: TrainConfig, strat: np.ndarray):
    """The folds every model is scored on: stratified k-fold (``cfg.folds``, seeded by ``cfg.seed``) on ``strat``,
    and in each fold the inner split of the training rows into fit and validation (early stopping) rows, 80 / 20.
    Yields (k, training rows, held-out rows, fit rows, validation rows)."""
    from sklearn.model_selection import StratifiedKFold, train_test_split

    folds = StratifiedKFold(n_splits=cfg.folds, shuffle=True, random_state=cfg.seed)
    for k, (tr, te) in enumerate(folds.split(np.zeros(len(strat)), strat)):
        fit_idx, val_idx = train_test_split(tr, test_size=0.2, random_state=cfg.seed + k, stratify=strat[tr])
        yield k, tr, te, fit_idx, val_idx


def cross_validate(cfg: TrainConfig, xg, xi, mask, y, time, event, bags=None, genomic_names=None) -> dict:
    """Stratified k-fold CV of the fused, genomic-only and imaging-only models (with bags, also the mean-pooling
    imaging baseline). Returns out-of-fold outputs (risks), the folds, each fold's training-row risks (for the
    survival curves) and, with bags, the out-of-fold attention."""
    strat = y if y is not None else event
    n = len(strat)
    fold_of = np.zeros(n, dtype=int)
    names = ("fused", "genomic", "imaging") + (("imaging_meanpool",) if bags is not None else ())
    oof = {m: np.zeros(n) for m in names}
    train_risk: dict[str, list] = {m: [] for m in names}
    attention: dict[int, BagAttention] = {}
    discrete = y is None and cfg.survival_loss == "nll"
    for k, tr, te, fit_idx, val_idx in cv_splits(cfg, strat):
        fold_of[te] = k
        bins, outputs = None, 1
        if discrete:
            from oncorisk.fusion.survival import assign_bins, time_bins

            cuts = time_bins(time[fit_idx], event[fit_idx], cfg.time_bins)  # the training fold's events only
            bins, outputs = assign_bins(time, cuts), len(cuts) + 1
        scaler = None
        if bags is not None:  # the fold's patch scaler and components, shared by its three bag models
            from oncorisk.fusion.mil import BagScaler

            scaler = BagScaler.fit(bags, fit_idx, cfg.patch_components)
        for m in names:
            if m != "genomic" and xi.shape[1] == 0:
                continue
            seed = cfg.seed + 100 * k
            if bags is None or m == "genomic":
                model, sc = fit(cfg, xg, xi, mask, y, time, event, fit_idx, val_idx, m, seed, bins, outputs)
                oof[m][te] = _as_risk(predict(model, sc, xg[te], xi[te], mask[te], cfg), discrete)
                train_risk[m].append((tr, _as_risk(predict(model, sc, xg[tr], xi[tr], mask[tr], cfg), discrete)))
                continue
            oof[m][te], tr_risk, att = bag_model(cfg, m, xg, bags, scaler, mask, Outcome(y, time, event, bins),
                                                 fit_idx, val_idx, tr, te, seed, genomic_names, outputs, discrete)
            train_risk[m].append((tr, tr_risk))
            for i, a in att.items():
                attention.setdefault(i, BagAttention(None, None, None, None))
                if m == "fused":
                    attention[i].fused, attention[i].tokens, attention[i].coattention = a
                elif m == "imaging":
                    attention[i].imaging = a[0]
    return dict(oof=oof, fold=fold_of, train_risk=train_risk, attention=attention)


def bag_model(cfg, m, xg, bags, scaler, mask, outcome, fit_idx, val_idx, tr, te, seed, genomic_names, outputs,
              discrete):
    """One bag model of one fold (``scaler``: the fold's fusion.mil.BagScaler): (held-out risks, training-row risks,
    {row: attention of a held-out patient})."""
    from dataclasses import replace

    from oncorisk.fusion.mil import fit_mil, predict_mil

    g = _standardise(xg[fit_idx], xg)[1]
    pool = {"fused": "coattention", "imaging": "attention", "imaging_meanpool": "mean"}[m]
    tokens = token_columns(genomic_names or [])
    bag_cfg = replace(cfg, lr=cfg.bag_lr)
    model = fit_mil(bag_cfg, g, bags, mask, outcome, fit_idx, val_idx, pool, m == "fused", seed, scaler, tokens,
                    outputs)
    out, attn, beta, co = predict_mil(model, bag_cfg, g, bags, mask, te, scaler, explain=True)
    tr_out = predict_mil(model, bag_cfg, g, bags, mask, tr, scaler)[0]
    att = {int(i): (attn[j], beta[j], co[j]) for j, i in enumerate(te) if mask[i]}
    return _as_risk(out, discrete), _as_risk(tr_out, discrete), att
