# oncorisk workflow: reads -> variants -> gene impact -> pathways -> risk.
# This file only wires things together; every rule lives in workflow/rules/, every piece of logic in the
# oncorisk package. Run the demo with:  snakemake --cores 2


from snakemake.utils import min_version

min_version("9.0")


configfile: "config.yaml"


report: "workflow/report/workflow.rst"


wildcard_constraints:
    sample="[A-Za-z0-9][A-Za-z0-9._-]*",
    shard="[0-9]+",
    tset="[A-Za-z0-9_.-]+",


include: "workflow/rules/common.smk"
include: "workflow/rules/simulate.smk"
include: "workflow/rules/cohort.smk"
include: "workflow/rules/tensors.smk"
include: "workflow/rules/call.smk"
include: "workflow/rules/impact.smk"
include: "workflow/rules/pathways.smk"
include: "workflow/rules/fusion.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        final_outputs(),
