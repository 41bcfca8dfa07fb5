"""Provenance, one shape for every ``run_info.json``: what a run used, so that it can be reproduced and checked.

``stage_info`` is the shape: ``oncorisk_version``, ``python``, ``platform``, ``packages`` (dependencies'
versions), ``stage``, ``seed``, ``device``, ``options`` (the resolved options: a stage's options dataclass, or
the workflow's resolved config) and ``inputs`` (name -> SHA-256 of each input file), then what the stage adds
of its own. The impact, pathways and fusion stages write it as ``<out>/run_info.json``; the workflow writes
``results/{cohort}/run_info.json`` (stage ``workflow``, ``oncorisk.runinfo``). No timestamps: the same inputs,
options and environment give the same file.
"""

from __future__ import annotations

import hashlib
import json
import platform
import sys
from dataclasses import fields, is_dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Iterable

from oncorisk import __version__

PACKAGES = ("numpy", "pandas", "pyarrow", "pysam", "cyvcf2", "torch", "torch_geometric", "networkx", "shap",
            "scikit-learn", "snakemake", "jsonschema", "pyyaml", "h5py")


def package_versions() -> dict[str, str | None]:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def sha256(path: str | Path) -> str:
    """SHA-256 of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


PROVENANCE_KEYS = ("oncorisk_version", "python", "platform", "packages", "stage", "seed", "device", "options",
                   "inputs")
# a dataclass field holding data loaded from a file (hotspot sets, region arrays, weight tables): left out of
# ``options``, since the file it came from is in ``inputs``
LOADED = {"provenance": False}
_SKIP = object()


def _record(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        out = {f.name: _record(getattr(value, f.name)) for f in fields(value) if f.metadata.get("provenance", True)}
        return {k: v for k, v in out.items() if v is not _SKIP}
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", None) == 0:
        value = value.item()  # numpy scalars
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, (list, tuple)):
        items = [_record(v) for v in value]
        return _SKIP if any(v is _SKIP for v in items) else items
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        items = {k: _record(v) for k, v in value.items()}
        return _SKIP if any(v is _SKIP for v in items.values()) else items
    return _SKIP


def options_record(options: Any) -> dict:
    """The JSON record of resolved options: every field that is a value (number, string, flag, None, lists and
    name-keyed mappings of those, nested options); fields marked ``LOADED`` are left out."""
    out = _record(options)
    if not isinstance(out, dict):
        raise TypeError(f"options_record: {type(options).__name__} is not an options dataclass or a mapping")
    return out


def file_checksums(paths: Iterable[str | Path | None]) -> dict[str, str]:
    """SHA-256 of each input file, by the path it was given as (duplicates once, non-files skipped)."""
    return {str(p): sha256(p) for p in dict.fromkeys(str(p) for p in paths if p) if Path(p).is_file()}


def stage_info(stage: str, options: Any, inputs: dict[str, str], seed: int | None = None,
               device: str | None = None, **details: Any) -> dict:
    """The provenance record (the module docstring); ``inputs`` from ``file_checksums`` (or, for the workflow,
    ``oncorisk.runinfo.input_checksums``)."""
    clash = sorted(set(details) & set(PROVENANCE_KEYS))
    if clash:
        raise ValueError(f"stage_info: {clash} are provenance keys, not a stage's details")
    return dict(oncorisk_version=__version__, python=sys.version.split()[0], platform=platform.machine(),
                packages=package_versions(), stage=stage, seed=seed, device=device,
                options=options if isinstance(options, dict) else options_record(options),
                inputs=inputs, **details)


def write_info(path: str | Path, info: dict) -> None:
    """Write a provenance (or metrics) record as sorted, indented JSON (floats of numpy types as floats)."""
    Path(path).write_text(json.dumps(info, indent=1, sort_keys=True, default=float) + "\n")
