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
from oncorisk.caller.defaults import default_model
from oncorisk.options import workflow_flags
from oncorisk.simulate import layout as sim_layout

CONFIG_FILES = [str(f) for f in workflow.configfiles]
CONFIG_FILE = CONFIG_FILES[-1] if CONFIG_FILES else "config.yaml"


def _fail(exc):
    # one line, no traceback: the file, the field, the value and the fix
    print(f"oncorisk: error: {exc}", file=sys.stderr)
    sys.exit(2)


try:
    config.update(validate_config(dict(config), CONFIG_FILE, CONFIG_FILES))
except UserError as exc:
    _fail(exc)

# bundled resources (network, gene sets) resolve against the workflow's folder when run from elsewhere
for _key in ("network", "gene_sets"):
    _path = config[_key]
    if not os.path.exists(_path) and os.path.exists(
        os.path.join(workflow.basedir, _path)
    ):
        config[_key] = os.path.join(workflow.basedir, _path)

COHORT = config["cohort"]
RESULTS = f"results/{COHORT}"
LOGS = f"logs/{COHORT}"
BENCH = f"logs/{COHORT}/benchmarks"  # snakemake benchmark: files; benchmarks/ holds our scripts
SIMULATE = config["simulate"]["enabled"]
SIM_DIR = f"{RESULTS}/simulated"


def sim_path(relative):
    """A file of the demo simulator's output (its layout: oncorisk.simulate.layout)."""
    return f"{SIM_DIR}/{relative}"


for _folder in ("results", RESULTS, "logs", LOGS):
    if os.path.exists(_folder) and not os.path.isdir(_folder):
        _fail(
            f"{_folder}: is a file, where the workflow writes a folder: move or rename it, "
            f"or set another cohort in {CONFIG_FILE}"
        )

if SIMULATE:
    SAMPLE_SHEET = sim_path(sim_layout.SHEET)
    REFERENCE = sim_path(sim_layout.REFERENCE)
    ANNOTATION = sim_path(sim_layout.ANNOTATION)
    REGIONS = sim_path(sim_layout.PANEL)
    # simulated patient ids are known from the config alone, so no rule waits on the sheet to be parsed
    BAM_SAMPLES, VCF_SAMPLES = patient_split(
        config["simulate"]["patients"], config["simulate"]["bam_patients"]
    )
else:
    SAMPLE_SHEET = config["samples"]
    REFERENCE = config["reference"]
    ANNOTATION = config["annotation"]
    REGIONS = config["regions"]
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


def tensor_chunks():
    return range(config["tensors"]["chunks"])


def tensor_outputs():
    """The tensors folders of every BAM sample (one per chunk)."""
    return [
        f"{RESULTS}/tensors/{sample}/chunk{chunk}"
        for sample in BAM_SAMPLES
        for chunk in tensor_chunks()
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


def tensor_options(wildcards):
    """Command-line options of `oncorisk tensors` for one sample and chunk."""
    tumor, normal = sample_bams(wildcards.sample)
    opts = [
        f"--bam {shlex.quote(tumor)}",
        f"--chunk-index {wildcards.chunk}",
        workflow_flags("tensors", config["tensors"]),
    ]
    if normal:
        opts.append(f"--normal-bam {shlex.quote(normal)}")
    if REGIONS:
        opts.append(f"--regions {shlex.quote(REGIONS)}")
    if (
        SIMULATE
    ):  # the demo knows its truth: label the candidates (training and evaluation)
        somatic, germline = (
            sim_path(sim_layout.truth_vcf(wildcards.sample, kind))
            for kind in ("somatic", "germline")
        )
        if config["mode"] == "somatic":
            opts.append(f"--truth-vcf {somatic} --germline-truth-vcf {germline}")
        else:
            opts.append(f"--truth-vcf {germline}")
        opts.append(f"--confident-bed {sim_path(sim_layout.CONFIDENT)}")
    return " ".join(opts)


def caller_model():
    return config["call"]["model"] or default_model(config["mode"])


def call_options(wildcards):
    """Command-line options of `oncorisk call` for one tensors chunk."""
    model = workflow_flags(
        "call", config["call"], {"model": caller_model()}, ["model", "min_qual"]
    )
    pon = workflow_flags("call", config["call"], keys=["pon"])
    return f"{model} --sample-name {wildcards.sample} --device {config['device']}" + (
        f" {pon}" if pon else ""
    )


def pon_input():
    """The panel of normals, when configured (an input of call_chunk, so a new panel reruns the calls)."""
    return [config["call"]["pon"]] if config["call"]["pon"] else []


def call_truth(sample):
    """(truth VCF, confident BED, somatic?) for evaluating a sample's calls, or None."""
    if SIMULATE:
        kind = "somatic" if config["mode"] == "somatic" else "germline"
        return (
            sim_path(sim_layout.truth_vcf(sample, kind)),
            sim_path(sim_layout.CONFIDENT),
            kind == "somatic",
        )
    if config["call"]["truth_vcf"]:
        return (
            config["call"]["truth_vcf"],
            config["call"]["confident_bed"],
            config["mode"] == "somatic",
        )
    return None


def evaluate_options(wildcards):
    truth, bed, somatic = call_truth(wildcards.sample)
    opts = [f"--truth {shlex.quote(truth)}"]
    if bed:
        opts.append(f"--bed {shlex.quote(bed)}")
    if somatic:
        opts.append("--somatic")
    return " ".join(opts)


def train_sets():
    """Training sets of `snakemake train_caller` by name (the cohort's own BAM samples by default)."""
    sets = {s["name"]: s for s in config["train_caller"]["sets"]}
    return sets


def train_set_options(wildcards):
    s = train_sets()[wildcards.tset]
    opts = [
        f"--bam {shlex.quote(s['bam'])}",
        f"--truth-vcf {shlex.quote(s['truth_vcf'])}",
    ]
    for key in (
        "normal_bam",
        "germline_truth_vcf",
        "confident_bed",
        "unknown_af_above",
    ):
        if s.get(key) is not None:
            opts.append(f"--{key.replace('_', '-')} {shlex.quote(str(s[key]))}")
    if s.get("regions"):
        opts.append(f"--regions {shlex.quote(s['regions'])}")
    return " ".join(opts)


def train_caller_inputs():
    if train_sets():
        return [f"{RESULTS}/train_caller/tensors/{name}" for name in train_sets()]
    if SIMULATE:  # the demo's BAM samples come with truth: their tensors are labelled
        return tensor_outputs()
    return []


def run_info_inputs():
    """LABEL=PATH pairs of the run's input files, for run_info.json's checksums."""
    pairs = {
        "reference": REFERENCE,
        "annotation": ANNOTATION,
        "regions": REGIONS,
        "network": config["network"],
        "gene_sets": config["gene_sets"],
        "sample_sheet": SAMPLE_SHEET,
        "panel_of_normals": config["call"]["pon"],
    }
    if SIMULATE:
        pairs["simulator_manifest"] = sim_path(sim_layout.MANIFEST)
    return " ".join(shlex.quote(f"{k}={v}") for k, v in pairs.items() if v)


def impact_sheet():
    """The sheet impact reads: BAM samples carry the caller's VCFs."""
    if BAM_SAMPLES:
        return f"{RESULTS}/samples.called.tsv"
    return f"{RESULTS}/samples.validated.tsv"


def simulate_settings():
    """simulate.* keys of the config as --set KEY=VALUE arguments (enabled is the workflow's switch)."""
    return " ".join(
        "--set {}".format(
            shlex.quote("{}={}".format(key, json.dumps(value, separators=(",", ":"))))
        )
        for key, value in config["simulate"].items()
        if key != "enabled"
    )


def impact_options():
    """Command-line options of `oncorisk impact`: the impact section of the config (oncorisk.options)."""
    imp = config["impact"]
    demo_hotspots = sim_path(sim_layout.HOTSPOTS) if SIMULATE else None
    flags = workflow_flags(
        "impact",
        imp,
        {
            "hotspots": imp["hotspots"] or demo_hotspots,
            "callable": imp["callable"] or REGIONS,
        },
    )
    for flag, path in (("--gtf", ANNOTATION), ("--ref", REFERENCE)):
        if path:
            flags += f" {flag} {shlex.quote(path)}"
    return flags


def annotation_input():
    """The annotation, where the config names one (a cohort of MAFs runs without)."""
    return [ANNOTATION] if ANNOTATION else []


def reference_input():
    return [REFERENCE] if REFERENCE else []


def validate_options():
    """Command-line options of `oncorisk validate`: the sheet's column names and the cohort call file."""
    opts = [f"--mode {config['mode']}"]
    opts += [
        f"--column {shlex.quote(f'{ours}={theirs}')}"
        for ours, theirs in config["sample_columns"].items()
    ]
    if config["calls"]:
        opts.append(f"--cohort-calls {shlex.quote(config['calls'])}")
    return " ".join(opts)


def pathway_options():
    """Command-line options of `oncorisk pathways`: the pathways section of the config (oncorisk.options)."""
    pw = config["pathways"]
    demo_labels = sim_path(sim_layout.LABELS) if SIMULATE else None
    opts = [
        workflow_flags("pathways", pw, {"labels": pw["labels"] or demo_labels}),
        f"--device {config['device']}",
    ]
    if REGIONS:
        opts.append(f"--callable {shlex.quote(REGIONS)}")
    if ANNOTATION:
        opts.append(f"--gtf {shlex.quote(ANNOTATION)}")
    return " ".join(opts)


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


def fusion_options():
    """Command-line options of `oncorisk fusion`: the fusion section of the config (oncorisk.options)."""
    return (
        f"{workflow_flags('fusion', config['fusion'])} "
        f"--seed {config['seed']} --device {config['device']}"
    )
