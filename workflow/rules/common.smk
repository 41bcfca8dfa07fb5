# Validation of config and sample sheet (before any rule is built), paths, and input functions.
import json
import os
import shlex
import sys

from oncorisk.config import (
    ensure_fasta_index,
    load_samples,
    patient_split,
    required_inputs,
    validate_config,
)
from oncorisk.errors import UserError
from oncorisk.fusion.inputs import outcome_kind
from oncorisk.rules import (
    evaluate_flags,
    reads_flags,
    resolve_paths,
    run_info_flags,
    sample_truth,
    sim_path as _sim_path,
    simulate_flags,
    stage_flags,
    train_set_flags,
)
from oncorisk.simulate import layout as sim_layout

CONFIG_FILES = [str(f) for f in workflow.configfiles]
CONFIG_FILE = CONFIG_FILES[-1] if CONFIG_FILES else "config.yaml"


def _fail(exc):
    # one line, no traceback: the file, the field, the value and the fix
    print(f"oncorisk: error: {exc}", file=sys.stderr)
    sys.exit(2)


try:
    # validated, then every path and derived default the rules pass filled in (oncorisk.rules)
    config.update(
        resolve_paths(
            validate_config(dict(config), CONFIG_FILE, CONFIG_FILES), workflow.basedir
        )
    )
except UserError as exc:
    _fail(exc)

COHORT = config["cohort"]
RESULTS = f"results/{COHORT}"
LOGS = f"logs/{COHORT}"
BENCH = f"logs/{COHORT}/benchmarks"  # snakemake benchmark: files; benchmarks/ holds our scripts
SIMULATE = config["simulate"]["enabled"]


def sim_path(relative):
    """A file of the demo simulator's output (its layout: oncorisk.simulate.layout)."""
    return _sim_path(config, relative)


for _folder in ("results", RESULTS, "logs", LOGS):
    if os.path.exists(_folder) and not os.path.isdir(_folder):
        _fail(
            f"{_folder}: is a file, where the workflow writes a folder: move or rename it, "
            f"or set another cohort in {CONFIG_FILE}"
        )

SAMPLE_SHEET = config["samples"]
REFERENCE = config["reference"]
ANNOTATION = config["annotation"]
REGIONS = config["regions"]
if SIMULATE:
    # simulated patient ids are known from the config alone, so no rule waits on the sheet to be parsed
    BAM_SAMPLES, VCF_SAMPLES = patient_split(
        config["simulate"]["patients"], config["simulate"]["bam_patients"]
    )
else:
    try:
        _samples = load_samples(
            SAMPLE_SHEET,
            config["mode"],
            columns=config["sample_columns"],
            calls=config["calls"],
        )
        # reference and annotation only where the inputs need them (a cohort MAF needs neither)
        required_inputs(config, _samples, CONFIG_FILE)
        if REFERENCE:
            ensure_fasta_index(REFERENCE)
    except UserError as exc:
        _fail(exc)
    BAM_SAMPLES = [s.sample for s in _samples if s.has_bam]
    VCF_SAMPLES = [s.sample for s in _samples if not s.has_bam]

SAMPLES = BAM_SAMPLES + VCF_SAMPLES


def final_outputs():
    """Final targets of the workflow: every stage's final outputs that exist in this version of oncorisk."""
    outputs = [
        f"{RESULTS}/samples.validated.tsv",
        f"{RESULTS}/impact/impact_matrix.parquet",
        f"{RESULTS}/impact/tmb.png",
        f"{RESULTS}/pathways/pathway_ranking.tsv",
        f"{RESULTS}/pathways/pathway_scores.parquet",
        f"{RESULTS}/fusion/risk.tsv",
    ]
    outputs.append(f"{RESULTS}/run_info.json")
    outputs.append(f"{RESULTS}/report/summary.rst")
    outputs += [f"{RESULTS}/calls/{s}.vcf.gz" for s in BAM_SAMPLES]
    outputs += [
        f"{RESULTS}/calls/{s}.metrics.json" for s in BAM_SAMPLES if call_truth(s)
    ]
    if SIMULATE:
        outputs.append(sim_path(sim_layout.MANIFEST))
    return outputs


def summary_inputs():
    """The result files the report's headline reads (calls and their metrics only where BAM samples exist)."""
    files = [
        f"{RESULTS}/fusion/metrics.json",
        f"{RESULTS}/pathways/pathway_ranking.tsv",
        f"{RESULTS}/impact/tmb.tsv",
    ]
    files += [f"{RESULTS}/calls/{s}.vcf.gz" for s in BAM_SAMPLES]
    files += [f"{RESULTS}/calls/{s}.metrics.json" for s in BAM_SAMPLES if call_truth(s)]
    return files


def tensor_shards():
    return range(config["tensors"]["shards"])


def tensor_outputs():
    """The tensors folders of every BAM sample (one per shard)."""
    return [
        f"{RESULTS}/tensors/{sample}/shard{shard}"
        for sample in BAM_SAMPLES
        for shard in tensor_shards()
    ]


def sample_bams(sample):
    """(tumour or germline BAM, normal BAM or None) of a BAM sample."""
    if SIMULATE:
        normal = (
            sim_path(sim_layout.bam(sample, "normal"))
            if config["mode"] == "somatic"
            else None
        )
        return sim_path(sim_layout.bam(sample, "tumor")), normal
    s = next(s for s in _samples if s.sample == sample)
    return s.tumor_bam, (s.normal_bam if config["mode"] == "somatic" else None)


def sample_bam_inputs(wildcards):
    """Input files of the tensors rule: the BAMs (the simulator's manifest stands for its BAMs)."""
    if SIMULATE:
        return [sim_path(sim_layout.MANIFEST)]
    return [b for b in sample_bams(wildcards.sample) if b]


def get_reads_flags(wildcards):
    """--bam/--normal-bam (and the demo's labelling truth) of one BAM sample."""
    return reads_flags(config, wildcards.sample, *sample_bams(wildcards.sample))


def pon_input():
    """The panel of normals, when configured (an input of call_shard, so a new panel reruns the calls)."""
    return [config["call"]["pon"]] if config["call"]["pon"] else []


def call_truth(sample):
    """(truth VCF, confident BED, somatic?) for evaluating a sample's calls, or None."""
    return sample_truth(config, sample)


def train_sets():
    """Training sets of `snakemake train_caller` by name (the cohort's own BAM samples by default)."""
    sets = {s["name"]: s for s in config["train_caller"]["sets"]}
    return sets


def get_train_set_flags(wildcards):
    return train_set_flags(train_sets()[wildcards.tset])


def train_caller_inputs():
    if train_sets():
        return [f"{RESULTS}/train_caller/tensors/{name}" for name in train_sets()]
    if SIMULATE:  # the demo's BAM samples come with truth: their tensors are labelled
        return tensor_outputs()
    return []


def impact_sheet():
    """The sheet impact reads: BAM samples carry the caller's VCFs."""
    if BAM_SAMPLES:
        return f"{RESULTS}/samples.called.tsv"
    return f"{RESULTS}/samples.validated.tsv"


def annotation_input():
    """The annotation, where the config names one (a cohort of MAFs runs without)."""
    return [ANNOTATION] if ANNOTATION else []


def reference_input():
    return [REFERENCE] if REFERENCE else []


def outcome_mode():
    """binary (a label column) or survival (time and event): which figures the fusion stage draws."""
    return outcome_kind("auto", SIMULATE or any(s.label is not None for s in _samples))


def fusion_figures():
    """The fusion stage's figures in the report: ROC, calibration and confusion (binary); Kaplan-Meier (survival)."""
    out = f"{RESULTS}/fusion"
    if outcome_mode() == "binary":
        figures = {
            "roc": ("roc.png", "roc.rst"),
            "calibration": ("calibration.png", "calibration.rst"),
            "confusion": ("confusion_matrix.png", "confusion.rst"),
        }
    else:
        figures = {"km": ("kaplan_meier.png", "kaplan_meier.rst")}
    figures["shap"] = ("shap_summary.png", "shap.rst")
    if SIMULATE or any(s.image_embedding for s in _samples):
        figures["attention"] = ("attention_heatmaps.png", "attention.rst")
    return {
        name: report(f"{out}/{png}", caption=f"../report/{rst}", category="Fusion")
        for name, (png, rst) in figures.items()
    }
