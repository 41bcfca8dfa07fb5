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

from oncorisk.repro import pick_device, seed_everything

log = logging.getLogger(__name__)

FEATURES = ("frac_samples_hit", "mean_impact", "max_impact", "burden_per_kb", "evidence_z", "degree",
            "propagation_score")


@dataclass(frozen=True)
class GnnConfig:
    """Model and training settings."""

    model: str = "sage"  # sage | gcn | gat
    layers: int = 2
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
    """Explicit constructor: in_channels -> hidden (× layers) -> 1 logit."""
    import torch
    from torch_geometric.nn import GATConv, GCNConv, SAGEConv

    conv = {"gcn": lambda i, o: GCNConv(i, o, add_self_loops=True, normalize=True),
            "gat": lambda i, o: GATConv(i, o, heads=1),
            "sage": lambda i, o: SAGEConv(i, o)}[cfg.model]

    class GeneGNN(torch.nn.Module):
        def __init__(self):
            super().__init__()
            dims = [in_channels] + [cfg.hidden] * cfg.layers
            self.convs = torch.nn.ModuleList(conv(a, b) for a, b in zip(dims[:-1], dims[1:]))
            # the head sees the gene's own features next to the convolved ones (a skip connection), so a gene's
            # own evidence is not averaged away by its neighbours
            self.head = torch.nn.Linear(cfg.hidden + in_channels, 1)

        def forward(self, x, edge_index, edge_weight=None):
            h = x
            for c in self.convs:
                h = c(h, edge_index, edge_weight) if cfg.model == "gcn" else c(h, edge_index)
                h = torch.nn.functional.relu(h)
                h = torch.nn.functional.dropout(h, p=cfg.dropout, training=self.training)
            return self.head(torch.cat([h, x], dim=-1)).squeeze(-1)

    return GeneGNN()


def _auprc(y: np.ndarray, s: np.ndarray) -> float:
    from sklearn.metrics import average_precision_score

    return float(average_precision_score(y, s)) if len(np.unique(y)) == 2 else float("nan")


def train_fold(cfg: GnnConfig, x, edge_index, edge_weight, train_idx: np.ndarray, y_train: np.ndarray,
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
    best, best_state, wait = -1.0, None, 0
    for _epoch in range(cfg.epochs):
        model.train()
        opt.zero_grad()
        out = model(x, edge_index, edge_weight)
        loss = loss_fn(out[ti], yt)
        loss.backward()
        opt.step()
        score = evaluate(model, x, edge_index, edge_weight)[val_idx]
        ap = _auprc(y_val, score)
        if ap > best + 1e-9:
            best, wait = ap, 0
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        else:
            wait += 1
            if wait >= cfg.patience:
                break
    if best_state is not None:
        model.load_state_dict(best_state)
    return model, best


def evaluate(model, x, edge_index, edge_weight) -> np.ndarray:
    import torch

    model.eval()
    with torch.no_grad():
        return torch.sigmoid(model(x, edge_index, edge_weight)).cpu().numpy()


def cross_validate(cfg: GnnConfig, features: np.ndarray, edge_index, edge_weight, labelled: np.ndarray,
                   y: np.ndarray, baselines: dict[str, np.ndarray]) -> dict:
    """k-fold CV over the labelled genes. Returns held-out predictions, the averaged score of all genes, and
    AUPRC/AUROC of the GNN and of each baseline on the same held-out genes (per fold and pooled)."""
    import torch
    from sklearn.metrics import average_precision_score, roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    seed_everything(cfg.seed)
    device = pick_device(cfg.device)
    f = np.arcsinh(np.asarray(features, dtype=float))
    x = torch.as_tensor((f - f.mean(0)) / np.where(f.std(0) > 0, f.std(0), 1), dtype=torch.float32, device=device)
    ei, ew = edge_index.to(device), edge_weight.to(device)
    folds = min(cfg.folds, int(y.sum()) // 2, int(len(y) - y.sum()) // 2)
    if folds < 2:
        raise ValueError(f"{int(y.sum())} positive and {int(len(y) - y.sum())} negative labelled genes in the network: "
                         f"cross-validation needs at least 4 of each")
    skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=cfg.seed)
    held_out = np.full(len(labelled), np.nan)
    all_scores = np.zeros(features.shape[0])
    per_fold = []
    for k, (tr, te) in enumerate(skf.split(labelled, y)):
        n_inner = max(2, min(4, int(y[tr].sum()), int(len(tr) - y[tr].sum())))
        inner = StratifiedKFold(n_splits=n_inner, shuffle=True, random_state=cfg.seed + k).split(tr, y[tr])
        preds = []
        for j, (fit, val) in enumerate(inner):
            if j >= max(1, cfg.bagging):
                break
            seed_everything(cfg.seed + 100 * k + j)
            model, _ = train_fold(cfg, x, ei, ew, labelled[tr[fit]], y[tr[fit]], labelled[tr[val]], y[tr[val]],
                                  device)
            preds.append(evaluate(model, x, ei, ew))
        pred = np.mean(preds, axis=0)
        held_out[te] = pred[labelled[te]]
        all_scores += pred / folds
        fold_metrics = {"gnn": _auprc(y[te], pred[labelled[te]])}
        for name, b in baselines.items():
            fold_metrics[name] = _auprc(y[te], b[labelled[te]])
        per_fold.append(fold_metrics)
    pooled = {"gnn": dict(auprc=float(average_precision_score(y, held_out)), auroc=float(roc_auc_score(y, held_out)))}
    for name, b in baselines.items():
        pooled[name] = dict(auprc=float(average_precision_score(y, b[labelled])), auroc=float(roc_auc_score(y, b[labelled])))
    return dict(held_out=held_out, scores=all_scores, folds=per_fold, pooled=pooled, device=str(device),
                mean_fold_auprc={m: float(np.nanmean([f[m] for f in per_fold])) for m in per_fold[0]})
