"""The caller network: 1-D convolutions over the tensor window, then a bidirectional LSTM, then heads.

Input (batch, WIDTH, channels) as written by the tensors stage. Convolutions see local patterns
(homopolymer context, neighbouring mismatches, indel and clip pile-ups); the BiLSTM reads the 33
columns in both directions (as Clair3's pileup model) and its outputs at the anchor column and averaged
over the window feed:

- ``genotype``: hom-ref / het / hom-alt of the candidate allele (in somatic mode, in the normal);
- ``somatic`` (somatic mode only): not a variant / germline / somatic.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn

from oncorisk.tensors.layout import GENOTYPE_CLASSES, SOMATIC_CLASSES, WINDOW


@dataclass(frozen=True)
class CallerConfig:
    channels: int
    somatic: bool
    conv: int = 64
    lstm: int = 48
    dropout: float = 0.2

    def to_dict(self) -> dict:
        return asdict(self)


class CallerNet(nn.Module):
    def __init__(self, cfg: CallerConfig):
        super().__init__()
        self.cfg = cfg
        self.conv = nn.Sequential(
            nn.Conv1d(cfg.channels, cfg.conv, kernel_size=3, padding=1), nn.ReLU(),
            nn.Conv1d(cfg.conv, cfg.conv, kernel_size=5, padding=2), nn.ReLU(),
            nn.Conv1d(cfg.conv, cfg.conv, kernel_size=3, padding=1), nn.ReLU(),
        )
        self.lstm = nn.LSTM(cfg.conv, cfg.lstm, batch_first=True, bidirectional=True)
        feat = 4 * cfg.lstm + cfg.channels
        self.trunk = nn.Sequential(nn.Dropout(cfg.dropout), nn.Linear(feat, 64), nn.ReLU())
        self.genotype = nn.Linear(64, len(GENOTYPE_CLASSES))
        self.somatic = nn.Linear(64, len(SOMATIC_CLASSES)) if cfg.somatic else None

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """x: (batch, WIDTH, channels) -> logits per head."""
        h = self.conv(x.transpose(1, 2)).transpose(1, 2)
        h, _ = self.lstm(h)
        # the anchor column's own raw features go straight to the trunk as well (counts, support)
        z = torch.cat([h[:, WINDOW], h.mean(dim=1), x[:, WINDOW]], dim=1)
        z = self.trunk(z)
        out = {"genotype": self.genotype(z)}
        if self.somatic is not None:
            out["somatic"] = self.somatic(z)
        return out


class Ensemble(nn.Module):
    """Members trained from different seeds; outputs the log of their averaged class probabilities (so a
    softmax of the output is the averaged probability)."""

    def __init__(self, members: list[CallerNet]):
        super().__init__()
        self.members = nn.ModuleList(members)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        outs = [m(x) for m in self.members]
        return {k: torch.log(torch.stack([torch.softmax(o[k], dim=1) for o in outs]).mean(0) + 1e-12)
                for k in outs[0]}


def predict_probabilities(net: nn.Module, x: np.ndarray, device, batch: int = 1024) -> dict[str, np.ndarray]:
    """Class probabilities (softmax of each head's logits) of tensors ``x``, ``batch`` at a time, in eval mode."""
    net.eval()
    outs: dict[str, list] = {}
    with torch.no_grad():
        for i in range(0, len(x), batch):
            xb = torch.as_tensor(np.asarray(x[i:i + batch], dtype=np.float32), device=device)
            for k, v in net(xb).items():
                outs.setdefault(k, []).append(torch.softmax(v, dim=1).cpu().numpy())
    return {k: np.concatenate(v) for k, v in outs.items()}
