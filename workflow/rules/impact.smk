# Stage impact: consequences, MutationImpact = sum f(x) * w per gene and sample, TMB.


rule impact:
    input:
        sheet=impact_sheet(),
        gtf=annotation_input(),
        ref=reference_input(),
    output:
        variants=f"{RESULTS}/impact/variants.tsv",
        matrix=f"{RESULTS}/impact/impact_matrix.parquet",
        matrix_tsv=f"{RESULTS}/impact/impact_matrix.tsv",
        tmb=f"{RESULTS}/impact/tmb.tsv",
        tmb_png=report(
            f"{RESULTS}/impact/tmb.png",
            caption="../report/tmb.rst",
            category="Impact",
        ),
        info=f"{RESULTS}/impact/run_info.json",
    log:
        f"{LOGS}/impact.log",
    benchmark:
        f"{BENCH}/impact.tsv"
    conda:
        "../../envs/impact.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        out=lambda wildcards, output: os.path.dirname(output.info),
        extra=stage_flags("impact", config),
    shell:
        "oncorisk impact --samples {input.sheet:q} --out {params.out:q} {params.extra} > {log:q} 2>&1"
