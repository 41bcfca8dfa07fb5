"""``results/{cohort}/run_info.json``: what a workflow run used, so that it can be reproduced and checked.

Records the resolved config, the seed, oncorisk's and its dependencies' versions, the caller model with the
checksum of its weights, and SHA-256 checksums of every input file (sample sheet and the files it names,
reference, annotation, regions, network, gene sets). No timestamps: the same inputs, config and environment
give the same file.
"""

from __future__ import annotations

import json
import platform
import sys
from importlib import metadata
from pathlib import Path

from oncorisk import __version__
from oncorisk.io.atomic import atomic_path
from oncorisk.io.intervals import sha256

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


def input_checksums(paths: dict[str, str | None], sheet: str | None) -> dict[str, str]:
    """SHA-256 of named inputs and of every file the sample sheet names (paths relative to the sheet)."""
    out: dict[str, str] = {}
    for label, p in sorted(paths.items()):
        if p and Path(p).is_file():
            out[label] = sha256(p)
    if sheet and Path(sheet).is_file():
        from oncorisk.config import PATH_COLUMNS, load_samples

        for s in load_samples(sheet, mode="germline", check_files=False):
            for col in PATH_COLUMNS:
                v = getattr(s, col)
                if v and Path(v).is_file():
                    out[f"{s.sample}.{col}"] = sha256(v)
    return out


def write_run_info(out: str, config: dict, inputs: dict[str, str | None], sheet: str | None,
                   model: str | None) -> dict:
    info = dict(oncorisk_version=__version__, python=sys.version.split()[0], platform=platform.machine(),
                packages=package_versions(), seed=config.get("seed"), config=config,
                inputs=input_checksums(inputs, sheet))
    if model:
        from oncorisk.caller.checkpoint import resolve_model

        folder = resolve_model(model)
        info["caller_model"] = dict(name=folder.name, model_pt_sha256=sha256(folder / "model.pt"))
    with atomic_path(out) as tmp:
        Path(tmp).write_text(json.dumps(info, indent=2, sort_keys=True) + "\n")
    return info
