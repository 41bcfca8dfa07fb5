"""Reproducibility helpers: seeding every random source, and choosing the device (auto | cpu | cuda)."""

from __future__ import annotations

import random

import numpy as np


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch, and ask torch for deterministic algorithms."""
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


def pick_device(name: str):
    """``auto`` is CUDA when present, else CPU; ``cpu`` and ``cuda`` are taken as given."""
    import torch

    return torch.device("cuda" if name == "cuda" or (name == "auto" and torch.cuda.is_available()) else "cpu")
