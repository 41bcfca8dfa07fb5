"""The JSON schemas of the config and the sample sheet (workflow/schemas/), read with PyYAML alone, so a stage that
only needs the schema's defaults and bounds (oncorisk.options) loads neither jsonschema nor oncorisk.config."""

from __future__ import annotations

from pathlib import Path

import yaml


def schema_dir() -> Path:
    """Folder holding config.schema.yaml and samples.schema.yaml (installed package or checkout)."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "schemas", here.parents[1] / "workflow" / "schemas"):
        if (candidate / "config.schema.yaml").is_file():
            return candidate
    raise FileNotFoundError(f"oncorisk's schemas were not found next to {here}; reinstall oncorisk")


def load_schema(name: str) -> dict:
    """Load one schema (``config`` or ``samples``)."""
    with open(schema_dir() / f"{name}.schema.yaml") as fh:
        return yaml.safe_load(fh)
