"""The bundled model each calling mode uses when none is named (config call.model empty, no --model).

Kept apart from checkpoint.py so that the workflow can ask without importing torch.
"""

from __future__ import annotations

DEFAULT_MODELS = {"somatic": "somatic-illumina", "germline": "germline-illumina"}
DEFAULT_MIN_QUAL = 10.0  # PASS threshold of a model that records none (model_info.json min_qual)


def default_model(mode: str) -> str:
    """The bundled model name for ``mode`` (somatic or germline)."""
    return DEFAULT_MODELS[mode]


def model_min_qual(model_info: dict) -> float:
    """The QUAL threshold for PASS that a model records (chosen when it was trained, e.g. by cross-validation on
    held-out truth: workflow/scripts/choose_min_qual.py), else DEFAULT_MIN_QUAL."""
    q = model_info.get("min_qual")
    return DEFAULT_MIN_QUAL if q is None else float(q)
