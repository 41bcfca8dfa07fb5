"""The bundled model each calling mode uses when none is named (config call.model empty, no --model).

Kept apart from checkpoint.py so that the workflow can ask without importing torch.
"""

from __future__ import annotations

DEFAULT_MODELS = {"somatic": "somatic-illumina", "germline": "germline-illumina"}


def default_model(mode: str) -> str:
    """The bundled model name for ``mode`` (somatic or germline)."""
    return DEFAULT_MODELS[mode]
