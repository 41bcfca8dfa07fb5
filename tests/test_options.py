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
WORKFLOW_ONLY = {("tensors", "shards"): "the workflow's scatter width; a standalone run is one shard (--shard-count 1)",
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
    """The flags a rule passes (oncorisk.rules.stage_flags on the resolved config), parsed by the stage's own CLI,
    give that config's values: the section's keys and the top-level keys the command reads."""
    from oncorisk.config import default_config
    from oncorisk.rules import TOP_LEVEL, stage_flags

    config = default_config()
    section = config[stage]
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
    config[stage] = {**section, **changed}
    top = {"device": "cpu", "seed": 7, "regions": "my regions.bed", "annotation": "a.gtf", "reference": "r.fa"}
    config.update({k: v for k, v in top.items() if k in TOP_LEVEL.get(stage, {})})
    argv = REQUIRED[stage] + shlex.split(stage_flags(stage, config))
    args = build_parser().parse_args(argv)
    for key in FLAGS[stage]:
        dest = "shard_count" if (stage, key) == ("tensors", "shards") else key
        assert getattr(args, dest) == config[stage][key], (stage, key)
    dests = {"regions": "callable" if stage == "pathways" else "regions", "annotation": "gtf", "reference": "ref"}
    for key in TOP_LEVEL.get(stage, {}):
        got = getattr(args, dests.get(key, key))
        assert got == ([config[key]] if stage == "tensors" and key == "regions" else config[key]), (stage, key)


def test_renamed_config_keys_are_read_with_a_warning(tmp_path, caplog):
    """tensors.chunks / chunk_size (before shard / partition) still validate, under their new names."""
    from oncorisk.config import validate_config

    resolved = validate_config({"tensors": {"chunks": 3, "chunk_size": 2000}})
    assert resolved["tensors"]["shards"] == 3 and resolved["tensors"]["partition_size"] == 2000
    assert "chunks" not in resolved["tensors"] and "tensors.chunks is deprecated" in caplog.text
    with pytest.raises(UserError, match=r"tensors.chunk_size: bad value 2000: renamed tensors.partition_size"):
        validate_config({"tensors": {"chunk_size": 2000, "partition_size": 3000}})


def test_renamed_flags_still_parse(caplog):
    args = build_parser().parse_args(REQUIRED["tensors"] + ["--chunk-count", "3", "--chunk-index", "2",
                                                            "--chunk-size", "5000"])
    assert (args.shard_count, args.shard_index, args.partition_size) == (3, 2, 5000)
    assert "--chunk-size is deprecated: use --partition-size" in caplog.text


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

    impact, weights, reads = ImpactOptions(out=""), Weights(), ReadFilter()
    pathways, gnn = PathwayOptions(impact="", gene_sets="", out=""), GnnConfig()
    fusion, train = FusionOptions(samples="", pathway_scores="", out=""), TrainConfig()
    fields = {  # config key -> the options field that carries it
        ("tensors", "partition_size"): TensorOptions(bam="", ref="").partition_size,
        ("tensors", "min_mapq"): reads.min_mapq,
        ("tensors", "min_base_quality"): reads.min_base_quality,
        ("tensors", "max_depth"): reads.max_depth,
        ("impact", "transcript_choice"): impact.transcript_choice,
        ("impact", "use_existing_annotation"): impact.use_existing,
        ("impact", "chrom_alias"): impact.chrom_alias,
        ("impact", "ref_mismatch"): impact.ref_mismatch,
        ("impact", "include_filtered"): impact.include_filtered,
        ("impact", "callable"): impact.callable_bed,
        ("impact", "callable_mb"): impact.callable_mb,
        ("impact", "barcode_match"): impact.barcode_match,
        ("impact", "hotspot_weight"): weights.hotspot_weight,
        ("impact", "vaf_scaling"): weights.vaf_scaling,
        ("impact", "confidence_scaling"): weights.confidence_scaling,
        ("pathways", "labels"): pathways.labels,
        ("pathways", "permutations"): pathways.permutations,
        ("pathways", "evidence_cap"): pathways.evidence_cap,
        ("pathways", "model"): gnn.model,
        ("pathways", "layers"): gnn.layers,
        ("pathways", "hidden"): gnn.hidden,
        ("pathways", "dropout"): gnn.dropout,
        ("pathways", "folds"): gnn.folds,
        ("pathways", "bagging"): gnn.bagging,
        ("fusion", "strategy"): train.strategy,
        ("fusion", "hidden"): train.hidden,
        ("fusion", "folds"): train.folds,
        ("fusion", "bootstrap"): fusion.bootstrap_rounds,
        ("fusion", "shap_samples"): fusion.shap_samples,
        ("fusion", "max_genes"): fusion.max_genes,
        ("fusion", "threshold"): fusion.threshold,
        ("fusion", "encoder"): fusion.encoder,
        ("fusion", "max_patches"): train.max_patches,
        ("fusion", "bag_batch"): train.bag_batch,
        ("fusion", "patch_components"): train.patch_components,
        ("fusion", "survival_loss"): train.survival_loss,
        ("fusion", "time_bins"): train.time_bins,
    }
    for (stage, key), value in fields.items():
        assert value == stage_properties(stage)[key].get("default"), (stage, key, value)


def test_run_info_names_the_caller_model_only_when_a_caller_ran():
    from oncorisk.config import validate_config
    from oncorisk.rules import resolve_paths, run_info_flags

    config = resolve_paths(validate_config({}), ".")
    assert shlex.split(run_info_flags(config, caller_ran=True))[-2:] == ["--model", "somatic-illumina"]
    without = shlex.split(run_info_flags(config, caller_ran=False))
    assert "--model" not in without and without[0] == "--inputs" and "simulator_manifest=" in without[-1]
