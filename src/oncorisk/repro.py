"""Reproducibility helpers: seeding every random source, and choosing the device (auto | cpu | cuda)."""

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
