"""What the workflow's rules pass to each ``oncorisk`` command: decided here, so no policy lives in .smk files.

The workflow (``workflow/rules/common.smk``) validates the config, then asks:

- ``resolve_paths(config, basedir)``: the config the rules read. Bundled resources are found against the workflow's
  folder, the demo simulator's files (``simulate.layout``) stand in for the user's paths when ``simulate.enabled``,
  and the defaults that follow from other keys are filled in (``impact.callable`` from ``regions``, ``call.model``
  from ``mode``, the demo's hotspots and known cancer genes). ``run_info.json`` records this resolved config.
- ``stage_flags(stage, config)``: a command's flags from the resolved config: the stage section's keys
  (``options.FLAGS``, declared once in the schema) and the top-level keys the command reads (``TOP_LEVEL``).
- ``reads_flags`` / ``evaluate_flags`` / ``train_set_flags``: the per-sample files of the read-level rules.

Rules pass these as one ``extra`` string; ``tests/test_options.py`` parses every stage's flags back with the
stage's own CLI and gets the config's values.
"""

from __future__ import annotations

import json
import os
import shlex
from typing import Any

from oncorisk.caller.defaults import default_model
from oncorisk.options import FLAGS, flag_words, workflow_flags
from oncorisk.simulate import layout as sim_layout

# command -> top-level config key -> flag (dict values repeat the flag as KEY=VALUE)
TOP_LEVEL: dict[str, dict[str, str]] = {
    "validate": {"mode": "--mode", "sample_columns": "--column", "calls": "--cohort-calls"},
    "tensors": {"regions": "--regions"},
    "call": {"device": "--device"},
    "impact": {"annotation": "--gtf", "reference": "--ref"},
    "pathways": {"regions": "--callable", "annotation": "--gtf", "seed": "--seed", "device": "--device"},
    "fusion": {"seed": "--seed", "device": "--device"},
    "simulate": {"seed": "--seed"},
}
RESOURCE_KEYS = ("network", "gene_sets")  # bundled defaults, relative to the workflow's folder


def sim_dir(config: dict) -> str:
    """The demo simulator's output folder of this cohort."""
    return f"results/{config['cohort']}/simulated"


def sim_path(config: dict, relative: str) -> str:
    """A file of the demo simulator's output (its layout: ``oncorisk.simulate.layout``)."""
    return f"{sim_dir(config)}/{relative}"


def resolve_paths(config: dict, basedir: str) -> dict:
    """The validated ``config`` with every path and derived default the rules need filled in (a new dict)."""
    out = json.loads(json.dumps(config))
    for key in RESOURCE_KEYS:  # resolve against the workflow's folder when run from elsewhere
        path = out[key]
        if path and not os.path.exists(path) and os.path.exists(os.path.join(basedir, path)):
            out[key] = os.path.join(basedir, path)
    if out["simulate"]["enabled"]:
        for key, rel in (("samples", sim_layout.SHEET), ("reference", sim_layout.REFERENCE),
                         ("annotation", sim_layout.ANNOTATION), ("regions", sim_layout.PANEL)):
            out[key] = sim_path(out, rel)
        out["impact"]["hotspots"] = out["impact"]["hotspots"] or sim_path(out, sim_layout.HOTSPOTS)
        out["pathways"]["labels"] = out["pathways"]["labels"] or sim_path(out, sim_layout.LABELS)
    out["impact"]["callable"] = out["impact"]["callable"] or out["regions"]
    out["call"]["model"] = out["call"]["model"] or default_model(out["mode"])
    return out


def _flag(flag: str, value: Any) -> list[str]:
    """``options.flag_words`` for the rules: an empty string counts as unset, as a config's ``''`` path does."""
    return flag_words(flag, value, skip_empty=True)


def stage_flags(stage: str, config: dict, keys: list[str] | None = None) -> str:
    """The flags of ``oncorisk <stage>`` from the resolved config: its section's keys (all, or ``keys``), then the
    top-level keys it reads."""
    out = [workflow_flags(stage, config[stage], keys=keys)] if stage in FLAGS else []
    for key, flag in TOP_LEVEL.get(stage, {}).items():
        out += _flag(flag, config.get(key))
    return " ".join(x for x in out if x)


def simulate_flags(config: dict) -> str:
    """``oncorisk simulate``'s flags: the seed and every simulate.* key as ``--set KEY=VALUE`` (JSON values)."""
    compact = (",", ":")
    sets = ["--set " + shlex.quote(f"{k}={json.dumps(v, separators=compact)}")
            for k, v in config["simulate"].items() if k != "enabled"]
    return " ".join([stage_flags("simulate", config), *sets])


def sample_truth(config: dict, sample: str) -> tuple[str, str | None, bool] | None:
    """(truth VCF, confident BED or None, somatic?) to label or evaluate a sample's calls, or None: the demo knows
    its truth; otherwise the config's call.truth_vcf / call.confident_bed when set."""
    somatic = config["mode"] == "somatic"
    if config["simulate"]["enabled"]:
        kind = "somatic" if somatic else "germline"
        return sim_path(config, sim_layout.truth_vcf(sample, kind)), sim_path(config, sim_layout.CONFIDENT), somatic
    if config["call"]["truth_vcf"]:
        return config["call"]["truth_vcf"], config["call"]["confident_bed"], somatic
    return None


def reads_flags(config: dict, sample: str, tumor: str, normal: str | None) -> str:
    """``--bam``/``--normal-bam`` of a BAM sample, and, in the demo, the truth that labels its candidates."""
    out = _flag("--bam", tumor) + _flag("--normal-bam", normal)
    if config["simulate"]["enabled"]:
        truth, bed, somatic = sample_truth(config, sample)
        out += _flag("--truth-vcf", truth)
        if somatic:
            out += _flag("--germline-truth-vcf", sim_path(config, sim_layout.truth_vcf(sample, "germline")))
        out += _flag("--confident-bed", bed)
    return " ".join(out)


def evaluate_flags(config: dict, sample: str) -> str:
    """``oncorisk evaluate``'s truth flags for a sample (``sample_truth`` must not be None)."""
    truth, bed, somatic = sample_truth(config, sample)
    return " ".join(_flag("--truth", truth) + _flag("--bed", bed) + _flag("--somatic", somatic))


TRAIN_SET_FLAGS = ("bam", "truth_vcf", "normal_bam", "germline_truth_vcf", "confident_bed", "unknown_af_above",
                   "regions")


def train_set_flags(train_set: dict) -> str:
    """``oncorisk tensors``'s flags for one of ``train_caller.sets``."""
    return " ".join(f for key in TRAIN_SET_FLAGS for f in _flag(f"--{key.replace('_', '-')}", train_set.get(key)))


def run_info_flags(config: dict, caller_ran: bool) -> str:
    """``oncorisk run-info``'s flags: the run's input files (``--inputs LABEL=PATH ...``) and, when BAM samples were
    called, the caller model (``--model``)."""
    out = f"--inputs {run_info_inputs(config)}"
    return out + (" " + " ".join(_flag("--model", config["call"]["model"])) if caller_ran else "")


def run_info_inputs(config: dict) -> str:
    """LABEL=PATH pairs of the run's input files, for the checksums of results/{cohort}/run_info.json."""
    pairs = {"reference": config["reference"], "annotation": config["annotation"], "regions": config["regions"],
             "network": config["network"], "gene_sets": config["gene_sets"], "sample_sheet": config["samples"],
             "panel_of_normals": config["call"]["pon"]}
    if config["simulate"]["enabled"]:
        pairs["simulator_manifest"] = sim_path(config, sim_layout.MANIFEST)
    return " ".join(shlex.quote(f"{k}={v}") for k, v in pairs.items() if v)
