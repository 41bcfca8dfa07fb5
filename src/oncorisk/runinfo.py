"""``results/{cohort}/run_info.json``: the workflow run's provenance, in the one shape of ``io.provenance``.

Its ``options`` are the resolved config; its ``inputs`` every file the config and the sample sheet name
(sample sheet and the files it names, reference, annotation, regions, network, gene sets); plus the caller
model with the checksum of its weights.
"""

from __future__ import annotations

from pathlib import Path

from oncorisk.io.atomic import atomic_path
from oncorisk.io.provenance import sha256, stage_info, write_info


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
    """``results/{cohort}/run_info.json``: the workflow's resolved config as options, every input's checksum."""
    extra = {}
    if model:
        from oncorisk.caller.checkpoint import resolve_model

        folder = resolve_model(model)
        extra["caller_model"] = dict(name=folder.name, model_pt_sha256=sha256(folder / "model.pt"))
    info = stage_info("workflow", config, input_checksums(inputs, sheet), seed=config.get("seed"),
                      device=config.get("device"), **extra)
    with atomic_path(out) as tmp:
        write_info(tmp, info)
    return info
