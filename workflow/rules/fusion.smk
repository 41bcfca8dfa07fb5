# Stage fusion: genomic features + imaging embeddings -> risk, metrics with CIs, SHAP (the final rule).


rule risk_fusion:
    input:
        sheet=f"{RESULTS}/samples.validated.tsv",
        pathways=f"{RESULTS}/pathways/pathway_scores.parquet",
        genes=f"{RESULTS}/pathways/gene_scores.tsv",
        matrix=f"{RESULTS}/impact/impact_matrix.parquet",
        tmb=f"{RESULTS}/impact/tmb.tsv",
        variants=f"{RESULTS}/impact/variants.tsv",
        gene_sets=config["gene_sets"],
    output:
        **fusion_figures(),
        risk=f"{RESULTS}/fusion/risk.tsv",
        metrics=f"{RESULTS}/fusion/metrics.json",
    log:
        f"{LOGS}/risk_fusion.log",
    benchmark:
        f"{BENCH}/risk_fusion.tsv"
    conda:
        "../../envs/fusion.yaml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        out=lambda wildcards, output: os.path.dirname(output.metrics),
        extra=stage_flags("fusion", config),
    shell:
        "oncorisk fusion --samples {input.sheet:q} --pathway-scores {input.pathways:q} --gene-scores {input.genes:q} "
        "--impact {input.matrix:q} --tmb {input.tmb:q} --variants {input.variants:q} --gene-sets {input.gene_sets:q} "
        "{params.extra} --threads {threads} --out {params.out:q} > {log:q} 2>&1"
