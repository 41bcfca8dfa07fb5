"""The JSON schemas of the config and the sample sheet (workflow/schemas/), read with PyYAML alone, so a stage that
only needs the schema's defaults and bounds (oncorisk.options) loads neither jsonschema nor oncorisk.config."""

from __future__ import annotations

import copy
from functools import lru_cache
from pathlib import Path

import yaml


def schema_dir() -> Path:
    """Folder holding config.schema.yaml and samples.schema.yaml (installed package or checkout)."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "schemas", here.parents[1] / "workflow" / "schemas"):
        if (candidate / "config.schema.yaml").is_file():
            return candidate
    raise FileNotFoundError(f"oncorisk's schemas were not found next to {here}; reinstall oncorisk")


@lru_cache(maxsize=None)
def _parsed(name: str) -> dict:
    with open(schema_dir() / f"{name}.schema.yaml") as fh:
        return yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # libyaml when built with it


def load_schema(name: str) -> dict:
    """One schema (``config`` or ``samples``), parsed once per process (a parser's flags ask for it dozens of
    times); each caller gets its own copy."""
    return copy.deepcopy(_parsed(name))
