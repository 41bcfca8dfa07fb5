"""Training helpers shared by the models of every stage: seeding every random source, choosing the device (auto |
cpu | cuda), and early stopping that keeps the best state."""

from __future__ import annotations

import logging
import random

import numpy as np

from oncorisk.errors import UserError

log = logging.getLogger(__name__)
_SAID: set[str] = set()  # devices already named in the log by this process


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch, and ask torch for deterministic algorithms."""
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


def pick_device(name: str):
    """``auto`` is CUDA when present, else CPU (said in the log); ``cpu`` as given; ``cuda`` only when a CUDA
    device is visible: asking for a GPU that is not there stops, rather than falling back silently."""
    import torch

    if name == "cuda" and not torch.cuda.is_available():
        why = "this torch build has no CUDA" if torch.version.cuda is None else "no CUDA device is visible"
        raise UserError(f"--device cuda: {why} (torch {torch.__version__}): use --device auto (GPU when present, "
                        f"else CPU) or cpu, or run on a GPU node")
    device = torch.device("cuda" if name == "cuda" or (name == "auto" and torch.cuda.is_available()) else "cpu")
    if name == "auto" and device.type not in _SAID:
        _SAID.add(device.type)
        log.info("device auto: %s", torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu (no CUDA)")
    return device


class EarlyStopping:
    """Early stopping on a validation score, keeping the model's best state (the caller, the fusion MLP and bag
    models, the GNN).

    ``step`` records one epoch's score: a gain of more than ``min_delta`` over the best so far (lower for ``mode``
    "min", a loss; higher for "max", an F1 or AUPRC) keeps a CPU copy of the model's state and sets ``improved``;
    ``step`` returns True once ``patience`` epochs in a row have brought no gain. ``restore`` loads the best state
    back (nothing when no epoch was recorded).
    """

    def __init__(self, patience: int, mode: str = "min", min_delta: float = 1e-6):
        if mode not in ("min", "max"):
            raise ValueError("mode must be min or max")
        self.patience, self.mode, self.min_delta = patience, mode, min_delta
        self.best = float("inf") if mode == "min" else float("-inf")
        self.state: dict | None = None
        self.waited = 0

    @property
    def improved(self) -> bool:
        """Whether the last recorded epoch was a gain (the state kept is its)."""
        return self.state is not None and self.waited == 0

    def step(self, score: float, model) -> bool:
        gain = score < self.best - self.min_delta if self.mode == "min" else score > self.best + self.min_delta
        if gain:
            self.best, self.waited = score, 0
            self.state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
        else:
            self.waited += 1
        return self.waited >= self.patience

    def restore(self, model) -> None:
        if self.state is not None:
            model.load_state_dict(self.state)
