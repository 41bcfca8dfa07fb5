"""Graph neural network gene scores (torch-geometric): semi-supervised node classification against known
cancer genes, with k-fold cross-validation over the labelled genes (as EMOGI and MTGCN do).

Model: ``layers`` graph convolutions (GCN, GAT or GraphSAGE) with ReLU and dropout, then a linear head giving
one logit per gene. Inputs: the per-gene features below, asinh-transformed (impact, evidence and degree are
heavy-tailed) and standardised. Loss: class-weighted binary cross-entropy on the training genes of the fold;
Adam; early stopping on the AUPRC of an inner validation split of the training genes. With a few dozen known
cancer genes that early stopping is noisy, so each outer fold trains ``bagging`` models, one per inner
validation split, and averages them. Everything is seeded, and the device is chosen as auto | cpu | cuda.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from oncorisk.repro import EarlyStopping, pick_device, seed_everything

log = logging.getLogger(__name__)

EVIDENCE = ("evidence_z", "recurrence_z", "max_impact")  # from the mutations, length-adjusted: what the pathway null moves between genes
NODE = ("degree", "exon_kb")  # the gene's own: they stay with it
FEATURES = EVIDENCE + NODE + ("propagation_score",)  # + the evidence propagated over the network


@dataclass(frozen=True)
class GnnConfig:
    """Model and training settings."""

    model: str = "sage"  # sage | gcn | gat
    layers: int = 1
    hidden: int = 32
    dropout: float = 0.3
    lr: float = 0.01
    weight_decay: float = 5e-4
    epochs: int = 300
    patience: int = 40
    folds: int = 5
    bagging: int = 4  # models per outer fold, one per inner validation split, averaged
    seed: int = 1
    device: str = "auto"


def build_model(cfg: GnnConfig, in_channels: int):
    """Explicit constructor: in_channels -> hidden (x layers) -> 1 logit (pathways.graph_model.GeneGNN)."""
    from oncorisk.pathways.graph_model import GeneGNN

    return GeneGNN(cfg.model, in_channels, cfg.hidden, cfg.layers, cfg.dropout)


def input_scaling(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centre and scale of the asinh-transformed features (the observed cohort's; permuted evidence reuses them)."""
    f = np.arcsinh(np.asarray(features, dtype=float))
    sd = f.std(0)
    return f.mean(0), np.where(sd > 0, sd, 1.0)


def model_inputs(features: np.ndarray, centre: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """What the GNN sees: asinh(features) standardised with ``input_scaling``'s centre and scale (float32)."""
    return ((np.arcsinh(np.asarray(features, dtype=float)) - centre) / scale).astype(np.float32)


def _auprc(y: np.ndarray, s: np.ndarray) -> float:
    from sklearn.metrics import average_precision_score

    return float(average_precision_score(y, s)) if len(np.unique(y)) == 2 else float("nan")


def train_fold(cfg: GnnConfig, x, adj_t, train_idx: np.ndarray, y_train: np.ndarray,
               val_idx: np.ndarray, y_val: np.ndarray, device):
    """Train one model; returns the model at its best inner-validation AUPRC (and that AUPRC)."""
    import torch

    model = build_model(cfg, x.shape[1]).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    pos = max(float(y_train.sum()), 1.0)
    neg = max(float(len(y_train) - y_train.sum()), 1.0)
    loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(neg / pos, device=device))
    ti = torch.as_tensor(train_idx, device=device)
    yt = torch.as_tensor(y_train, dtype=torch.float32, device=device)
    stop = EarlyStopping(cfg.patience, "max", min_delta=1e-9)
    for _epoch in range(cfg.epochs):
        model.train()
        opt.zero_grad()
        out = model(x, adj_t)
        loss = loss_fn(out[ti], yt)
        loss.backward()
        opt.step()
        score = evaluate(model, x, adj_t)[val_idx]
        if stop.step(_auprc(y_val, score), model):
            break
    stop.restore(model)
    return model, stop.best


def evaluate(model, x, adj_t) -> np.ndarray:
    import torch

    model.eval()
    with torch.no_grad():
        return torch.sigmoid(model(x, adj_t)).cpu().numpy()


def cross_validate(cfg: GnnConfig, features: np.ndarray, edge_index, edge_weight, labelled: np.ndarray,
                   y: np.ndarray, baselines: dict[str, np.ndarray]) -> dict:
    """k-fold CV over the labelled genes. Returns held-out predictions, the score of every gene (a labelled gene's
    from the fold that held it out, the others' the mean of all folds), AUPRC/AUROC of the GNN and of each
    baseline on the same held-out genes (per fold and pooled), and what ``pathways.null.GnnScorer`` needs to
    score other evidence with the same models: the trained models per fold (eval mode, on the device), each
    labelled gene's fold, the input scaling and the graph operator."""
    import torch
    from sklearn.model_selection import StratifiedKFold

    from oncorisk.pathways.graph_model import graph_operator

    seed_everything(cfg.seed)
    device = pick_device(cfg.device)
    centre, scale = input_scaling(features)
    x = torch.as_tensor(model_inputs(features, centre, scale), device=device)
    adj_t = graph_operator(edge_index, edge_weight, features.shape[0], cfg.model).to(device)
    folds = min(cfg.folds, int(y.sum()) // 2, int(len(y) - y.sum()) // 2)
    if folds < 2:
        raise ValueError(f"{int(y.sum())} positive and {int(len(y) - y.sum())} negative labelled genes in the network: "
                         f"cross-validation needs at least 4 of each")
    skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=cfg.seed)
    held_out = np.full(len(labelled), np.nan)
    fold_of = np.full(len(labelled), -1, dtype=np.int64)
    fold_scores, models, per_fold = [], [], []
    for k, (tr, te) in enumerate(skf.split(labelled, y)):
        n_inner = max(2, min(4, int(y[tr].sum()), int(len(tr) - y[tr].sum())))
        inner = StratifiedKFold(n_splits=n_inner, shuffle=True, random_state=cfg.seed + k).split(tr, y[tr])
        bag = []
        for j, (fit, val) in enumerate(inner):
            if j >= max(1, cfg.bagging):
                break
            seed_everything(cfg.seed + 100 * k + j)
            model, _ = train_fold(cfg, x, adj_t, labelled[tr[fit]], y[tr[fit]], labelled[tr[val]], y[tr[val]],
                                  device)
            bag.append(model.eval())
        pred = np.mean([evaluate(m, x, adj_t) for m in bag], axis=0)
        held_out[te], fold_of[te] = pred[labelled[te]], k
        fold_scores.append(pred)
        models.append(bag)
        fold_metrics = {"gnn": _auprc(y[te], pred[labelled[te]])}
        for name, b in baselines.items():
            fold_metrics[name] = _auprc(y[te], b[labelled[te]])
        per_fold.append(fold_metrics)
    scores = np.mean(fold_scores, axis=0)
    scores[labelled] = held_out
    return dict(held_out=held_out, scores=scores, folds=per_fold, device=str(device),
                pooled=pooled_metrics(y, {"gnn": held_out} | {name: b[labelled] for name, b in baselines.items()}),
                mean_fold_auprc={m: float(np.nanmean([f[m] for f in per_fold])) for m in per_fold[0]},
                models=models, fold_of=fold_of, centre=centre, scale=scale, adj_t=adj_t)


def pooled_metrics(y: np.ndarray, scores: dict[str, np.ndarray]) -> dict:
    """AUPRC and AUROC of each score over the same genes (NaN where the genes hold one class only)."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    if len(np.unique(y)) < 2:
        return {name: dict(auprc=float("nan"), auroc=float("nan")) for name in scores}
    return {name: dict(auprc=float(average_precision_score(y, s)), auroc=float(roc_auc_score(y, s)))
            for name, s in scores.items()}
