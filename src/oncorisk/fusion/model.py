"""Fusion models (torch): a genomic and an imaging MLP branch, fused by concatenation, a learned weighted sum,
or gated attention as in PathomicFusion; unimodal baselines use one branch.

Missing imaging: the imaging branch's output is multiplied by a per-sample mask (0 when the embedding is
missing). During training, modality dropout zeroes the mask of a random ``modality_dropout`` share of samples,
so the model learns to score patients from genomics alone.
"""

from __future__ import annotations

import torch
from torch import nn

STRATEGIES = ("concat", "weighted", "gated")


def mlp(i: int, o: int, dropout: float) -> nn.Module:
    return nn.Sequential(nn.Linear(i, o), nn.ReLU(), nn.Dropout(dropout), nn.Linear(o, o), nn.ReLU())


class Fuse(nn.Module):
    """Join a genomic and an imaging representation (each ``hidden`` wide) by ``strategy``: concat (side by side),
    weighted (f = w1*f_gen + w2*f_img, w softmax-learned) or gated (per-modality sigmoid gates from both, as in
    PathomicFusion). With one modality (``both`` False) it passes that one through. ``width``: the output size."""

    def __init__(self, hidden: int, strategy: str, both: bool):
        super().__init__()
        if strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {STRATEGIES}")
        self.strategy, self.both = strategy, both
        if both and strategy == "weighted":
            self.mix = nn.Parameter(torch.zeros(2))
        if both and strategy == "gated":
            self.gate_gen = nn.Linear(2 * hidden, hidden)
            self.gate_img = nn.Linear(2 * hidden, hidden)
        self.width = 2 * hidden if both and strategy in ("concat", "gated") else hidden

    def forward(self, g: torch.Tensor | None, i: torch.Tensor | None) -> torch.Tensor:
        if g is None:
            return i
        if i is None:
            return g
        if self.strategy == "concat":
            return torch.cat([g, i], dim=1)
        if self.strategy == "weighted":
            w = torch.softmax(self.mix, dim=0)
            return w[0] * g + w[1] * i
        both = torch.cat([g, i], dim=1)
        return torch.cat([torch.sigmoid(self.gate_gen(both)) * g, torch.sigmoid(self.gate_img(both)) * i], dim=1)


class FusionNet(nn.Module):
    """Explicit constructor: genomic_dim, imaging_dim -> hidden per branch -> one output (logit or log-risk).

    Args:
        genomic_dim, imaging_dim: input sizes (0 to drop a branch: the unimodal baselines).
        hidden: units per branch.
        strategy: concat | weighted | gated (``Fuse``).
    """

    def __init__(self, genomic_dim: int, imaging_dim: int, hidden: int = 32, strategy: str = "gated",
                 dropout: float = 0.2, outputs: int = 1):
        super().__init__()
        if strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {STRATEGIES}")
        self.strategy = strategy
        self.gen = mlp(genomic_dim, hidden, dropout) if genomic_dim else None
        self.img = mlp(imaging_dim, hidden, dropout) if imaging_dim else None
        self.fuse = Fuse(hidden, strategy, self.gen is not None and self.img is not None)
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(self.fuse.width, outputs))
        self.outputs = outputs

    def forward(self, xg: torch.Tensor, xi: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        g = self.gen(xg) if self.gen is not None else None
        i = self.img(xi) * mask[:, None] if self.img is not None else None
        out = self.head(self.fuse(g, i))
        return out.squeeze(-1) if self.outputs == 1 else out


def cox_loss(log_risk: torch.Tensor, time: torch.Tensor, event: torch.Tensor) -> torch.Tensor:
    """Negative Cox partial log-likelihood (Breslow ties), averaged over events."""
    order = torch.argsort(time, descending=True)
    lr, ev = log_risk[order], event[order]
    log_cum = torch.logcumsumexp(lr, dim=0)
    return -((lr - log_cum) * ev).sum() / ev.sum().clamp(min=1)
