"""Stage options declared once: the config schema's stage sections generate the CLI flags and the workflow's.

Each stage option that the workflow exposes is one property of its section in
``workflow/schemas/config.schema.yaml`` (type, default, bounds, enum, description). From it:

- ``add_stage_options(parser, stage)`` adds the stage's CLI flags (default, choices and help from the schema);
- ``check_stage_options(args, stage)`` checks the parsed values against the schema's bounds (one line each);
- ``workflow_flags(stage, section)`` turns a resolved config section into the same flags for the rules, so
  ``workflow/rules/common.smk`` copies nothing by hand.

``FLAGS`` is the one table of which config key is which flag. ``tests/test_options.py`` holds the schema, the
CLI and the stages' options dataclasses equal (every key maps to one flag and one field, same default).
"""

from __future__ import annotations

import argparse
import shlex
from typing import Any

from oncorisk.errors import UserError

# stage -> config key -> CLI flag (the flag is the key with '-' for '_' unless named here)
FLAGS: dict[str, dict[str, str]] = {
    "tensors": {"shards": "--shard-count", "partition_size": "--partition-size", "min_mapq": "--min-mapq",
                "min_base_quality": "--min-base-quality", "max_depth": "--max-depth",
                "keep_duplicates": "--keep-duplicates", "snv_min_alt": "--snv-min-alt", "snv_min_af": "--snv-min-af",
                "indel_min_alt": "--indel-min-alt", "indel_min_af": "--indel-min-af"},
    "impact": {"transcript_choice": "--transcript-choice", "use_existing_annotation": "--use-existing-annotation",
               "chrom_alias": "--chrom-alias", "ref_mismatch": "--ref-mismatch", "include_filtered": "--include-filtered",
               "vaf_scaling": "--vaf-scaling", "confidence_scaling": "--confidence-scaling",
               "consequence_weights": "--consequence-weights", "hotspots": "--hotspots",
               "hotspot_weight": "--hotspot-weight", "regions": "--regions", "gene_weights": "--gene-weights",
               "callable": "--callable", "callable_mb": "--callable-mb", "barcode_match": "--barcode-match"},
    "pathways": {"labels": "--labels", "model": "--model", "layers": "--layers", "hidden": "--hidden",
                 "dropout": "--dropout", "folds": "--folds", "bagging": "--bagging",
                 "permutations": "--permutations", "evidence_cap": "--evidence-cap"},
    "call": {"model": "--model", "min_qual": "--min-qual", "pon": "--pon"},
    "fusion": {"strategy": "--strategy", "hidden": "--hidden", "folds": "--folds", "bootstrap": "--bootstrap",
               "shap_samples": "--shap-samples", "max_genes": "--max-genes", "threshold": "--threshold",
               "encoder": "--encoder", "max_patches": "--max-patches", "bag_batch": "--bag-batch",
               "patch_components": "--patch-components",
               "survival_loss": "--survival-loss", "time_bins": "--time-bins"},
}
# the order the workflow writes each stage's flags in (the schema's; kept stable, as the caller's VCF header and
# tensors' provenance record command lines)


def _schema() -> dict:
    from oncorisk.schema import load_schema

    return load_schema("config")


def stage_properties(stage: str) -> dict[str, dict]:
    """The schema properties of a stage's config section."""
    return _schema()["properties"][stage]["properties"]


def _type(prop: dict) -> str:
    t = prop["type"]
    return next(x for x in t if x != "null") if isinstance(t, list) else t


def _help(prop: dict, key: str, stage: str) -> str:
    default = prop.get("default")
    shown = "none" if default is None else str(default).lower() if isinstance(default, bool) else default
    return f"{prop.get('description', '')} (config {stage}.{key}; default {shown})".replace("%", "%%")


def add_stage_options(parser: argparse.ArgumentParser | Any, stage: str, keys: list[str] | None = None,
                      aliases: dict[str, list[str]] | None = None) -> None:
    """Add the CLI flags of ``stage``'s config keys (all of them, or ``keys``) to ``parser`` (or a group)."""
    props = stage_properties(stage)
    for key in keys or list(FLAGS[stage]):
        prop, flag = props[key], FLAGS[stage][key]
        names = [flag, *(aliases or {}).get(key, [])]
        kind = _type(prop)
        if kind == "boolean":
            parser.add_argument(*names, dest=key, action="store_true", default=bool(prop.get("default")),
                                help=_help(prop, key, stage))
            continue
        kwargs: dict[str, Any] = dict(dest=key, default=prop.get("default"), help=_help(prop, key, stage))
        kwargs["type"] = {"integer": int, "number": float, "string": str}[kind]
        if "enum" in prop:
            kwargs["choices"] = [v for v in prop["enum"] if v is not None]
        parser.add_argument(*names, **kwargs)


def check_value(stage: str, key: str, value: Any) -> None:
    """Refuse a value outside the schema's bounds, naming the flag and the config key."""
    prop = stage_properties(stage)[key]
    if value is None or isinstance(value, bool):
        return
    lo, hi, xlo = prop.get("minimum"), prop.get("maximum"), prop.get("exclusiveMinimum")
    where = f"{FLAGS[stage][key]} (config {stage}.{key})"
    if xlo is not None and not value > xlo:
        raise UserError(f"{where}: bad value {value}: must be {'positive' if xlo == 0 else f'> {xlo}'}")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        bound = f"in [{lo}, {hi}]" if lo is not None and hi is not None else f">= {lo}" if lo is not None else f"<= {hi}"
        raise UserError(f"{where}: bad value {value}: must be {bound}")


def check_stage_options(args: argparse.Namespace, stage: str, keys: list[str] | None = None) -> None:
    """Check every parsed stage option against the schema's bounds."""
    for key in keys or list(FLAGS[stage]):
        if hasattr(args, key):
            check_value(stage, key, getattr(args, key))


def workflow_flags(stage: str, section: dict, overrides: dict[str, Any] | None = None,
                   keys: list[str] | None = None) -> str:
    """The CLI flags for a resolved config ``section`` of ``stage`` (``overrides`` replace values, e.g. paths the
    demo supplies), shell-quoted, in FLAGS order; unset (None) values and false switches are left out."""
    values = {**section, **(overrides or {})}
    return " ".join(w for key in keys or list(FLAGS[stage]) for w in flag_words(FLAGS[stage][key], values.get(key)))


def flag_words(flag: str, value: Any, skip_empty: bool = False) -> list[str]:
    """A flag and its shell-quoted value: nothing for None or False (or ``''`` with ``skip_empty``), the bare flag
    for True, ``flag KEY=VALUE`` once per item of a dict."""
    if value is None or value is False or (skip_empty and value == ""):
        return []
    if value is True:
        return [flag]
    if isinstance(value, dict):
        return [f"{flag} {shlex.quote(f'{k}={v}')}" for k, v in value.items()]
    return [f"{flag} {shlex.quote(str(value))}"]


def add_force_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--force", action="store_true",
                   help="write into a non-empty --out folder that is not a previous output of this command: our "
                        "files are replaced one by one, files oncorisk did not write are kept")


def add_device_option(p: argparse.ArgumentParser) -> None:
    """``--device``, with the choices, default and help of the config's top-level ``device`` key."""
    prop = _schema()["properties"]["device"]
    p.add_argument("--device", choices=prop["enum"], default=prop["default"], help=prop["description"])
