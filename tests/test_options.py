"""Stage options are declared once (the config schema's stage sections, oncorisk.options): the CLI flags, the
workflow's flags and the stages' options dataclasses must agree with them key by key."""

from __future__ import annotations

import shlex

import pytest

from oncorisk.cli import build_parser
from oncorisk.errors import UserError
from oncorisk.options import FLAGS, check_stage_options, stage_properties, workflow_flags

# the minimal arguments each stage command needs to parse
REQUIRED = {
    "tensors": ["tensors", "--bam", "b.bam", "--ref", "r.fa", "--out", "o"],
    "call": ["call", "--ref", "r.fa", "--out", "o.vcf.gz"],
    "impact": ["impact", "--out", "o"],
    "pathways": ["pathways", "--impact", "m.parquet", "--gene-sets", "s.gmt", "--out", "o"],
    "fusion": ["fusion", "--samples", "s.tsv", "--pathway-scores", "p.parquet", "--out", "o"],
}
# config keys that exist for the workflow only (evaluation inputs, the scatter width), with the reason
WORKFLOW_ONLY = {("tensors", "chunks"): "the workflow's scatter width; a standalone run is one share (--chunk-count 1)",
                 ("call", "truth_vcf"): "the workflow's evaluate_calls input (oncorisk evaluate --truth)",
                 ("call", "confident_bed"): "the workflow's evaluate_calls input (oncorisk evaluate --bed)"}


def _defaults(stage: str):
    return build_parser().parse_args(REQUIRED[stage])


@pytest.mark.parametrize("stage", sorted(FLAGS))
def test_every_schema_key_is_one_flag_with_the_schema_default(stage):
    props = {k: v for k, v in stage_properties(stage).items() if (stage, k) not in WORKFLOW_ONLY or k in FLAGS[stage]}
    assert set(props) == set(FLAGS[stage]), (stage, set(props) ^ set(FLAGS[stage]))
    args = _defaults(stage)
    flags = [f for f in FLAGS[stage].values()]
    assert len(set(flags)) == len(flags)  # one flag per key
    for key, prop in props.items():
        if (stage, key) in WORKFLOW_ONLY:
            continue
        assert getattr(args, key) == prop.get("default", None), (stage, key)


@pytest.mark.parametrize("stage", sorted(FLAGS))
def test_enum_keys_offer_exactly_the_schema_choices(stage):
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices[stage]
    by_dest = {a.dest: a for a in sub._actions}
    for key, prop in stage_properties(stage).items():
        if "enum" in prop:
            assert list(by_dest[key].choices) == [v for v in prop["enum"] if v is not None], key


@pytest.mark.parametrize("stage", sorted(FLAGS))
def test_workflow_flags_parse_back_to_the_config_values(stage):
    """The flags the workflow builds from a config section, parsed by the stage's own CLI, give that section."""
    from oncorisk.config import default_config

    section = default_config()[stage]
    changed = {}
    for key, prop in stage_properties(stage).items():  # move every key off its default
        if key not in FLAGS[stage]:
            continue
        kind = prop["type"] if isinstance(prop["type"], str) else next(t for t in prop["type"] if t != "null")
        if "enum" in prop:
            changed[key] = [v for v in prop["enum"] if v is not None][-1]
        elif kind == "boolean":
            changed[key] = True
        elif kind == "integer":
            changed[key] = int(prop.get("minimum", 0)) + 1
        elif kind == "number":
            changed[key] = 0.5
        else:
            changed[key] = "some/file with space.tsv"
    section = {**section, **changed}
    argv = REQUIRED[stage] + shlex.split(workflow_flags(stage, section))
    args = build_parser().parse_args(argv)
    for key in FLAGS[stage]:
        dest = "chunk_count" if (stage, key) == ("tensors", "chunks") else key
        assert getattr(args, dest) == section[key], (stage, key)


def test_bounds_are_checked_once_from_the_schema():
    args = build_parser().parse_args(REQUIRED["pathways"] + ["--permutations", "10", "--evidence-cap", "0"])
    with pytest.raises(UserError, match=r"--permutations \(config pathways.permutations\): bad value 10: must be in \[100, 100000\]"):
        check_stage_options(args, "pathways")
    args = build_parser().parse_args(REQUIRED["tensors"] + ["--snv-min-af", "1.5"])
    with pytest.raises(UserError, match=r"--snv-min-af .*must be in \[0, 1\]"):
        check_stage_options(args, "tensors")


def test_stage_dataclasses_default_to_the_schema():
    """The options objects the stages run with (built in Python, without the CLI) have the schema's defaults."""
    from oncorisk.fusion.run import FusionOptions
    from oncorisk.fusion.train import TrainConfig
    from oncorisk.impact.run import ImpactOptions
    from oncorisk.impact.scores import Weights
    from oncorisk.pathways.gnn import GnnConfig
    from oncorisk.pathways.run import PathwayOptions
    from oncorisk.tensors.pileup import ReadFilter
    from oncorisk.tensors.run import TensorOptions

    fields = {  # config key -> the options field that carries it
        ("tensors", "chunk_size"): TensorOptions(bam="", ref="").chunk_size,
        ("tensors", "min_mapq"): ReadFilter().min_mapq,
        ("tensors", "min_base_quality"): ReadFilter().min_base_quality,
        ("tensors", "max_depth"): ReadFilter().max_depth,
        ("impact", "transcript_choice"): ImpactOptions(out="").transcript_choice,
        ("impact", "use_existing_annotation"): ImpactOptions(out="").use_existing,
        ("impact", "chrom_alias"): ImpactOptions(out="").chrom_alias,
        ("impact", "ref_mismatch"): ImpactOptions(out="").ref_mismatch,
        ("impact", "include_filtered"): ImpactOptions(out="").include_filtered,
        ("impact", "callable"): ImpactOptions(out="").callable_bed,
        ("impact", "callable_mb"): ImpactOptions(out="").callable_mb,
        ("impact", "barcode_match"): ImpactOptions(out="").barcode_match,
        ("impact", "hotspot_weight"): Weights().hotspot_weight,
        ("impact", "vaf_scaling"): Weights().vaf_scaling,
        ("impact", "confidence_scaling"): Weights().confidence_scaling,
        ("pathways", "labels"): PathwayOptions(impact="", gene_sets="", out="").labels,
        ("pathways", "permutations"): PathwayOptions(impact="", gene_sets="", out="").permutations,
        ("pathways", "evidence_cap"): PathwayOptions(impact="", gene_sets="", out="").evidence_cap,
        ("pathways", "model"): GnnConfig().model,
        ("pathways", "layers"): GnnConfig().layers,
        ("pathways", "hidden"): GnnConfig().hidden,
        ("pathways", "dropout"): GnnConfig().dropout,
        ("pathways", "folds"): GnnConfig().folds,
        ("pathways", "bagging"): GnnConfig().bagging,
        ("fusion", "strategy"): TrainConfig().strategy,
        ("fusion", "hidden"): TrainConfig().hidden,
        ("fusion", "folds"): TrainConfig().folds,
        ("fusion", "bootstrap"): FusionOptions(samples="", pathway_scores="", out="").bootstrap_rounds,
        ("fusion", "shap_samples"): FusionOptions(samples="", pathway_scores="", out="").shap_samples,
        ("fusion", "max_genes"): FusionOptions(samples="", pathway_scores="", out="").max_genes,
        ("fusion", "threshold"): FusionOptions(samples="", pathway_scores="", out="").threshold,
    }
    for (stage, key), value in fields.items():
        assert value == stage_properties(stage)[key].get("default"), (stage, key, value)
