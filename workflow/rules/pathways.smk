# Stage pathways: network gene scores, a GNN against known cancer genes, and ranked pathways.


rule pathways:
    input:
        matrix=f"{RESULTS}/impact/impact_matrix.parquet",
        network=config["network"],
        gene_sets=config["gene_sets"],
        gtf=annotation_input(),
    output:
        ranking=f"{RESULTS}/pathways/pathway_ranking.tsv",
        scores=f"{RESULTS}/pathways/pathway_scores.parquet",
        genes=f"{RESULTS}/pathways/gene_scores.tsv",
        bar=report(
            f"{RESULTS}/pathways/top_pathways.png",
            caption="../report/top_pathways.rst",
            category="Pathways",
        ),
        net=report(
            f"{RESULTS}/pathways/top_pathway_network.png",
            caption="../report/top_pathway_network.rst",
            category="Pathways",
        ),
        info=f"{RESULTS}/pathways/run_info.json",
    log:
        f"{LOGS}/pathways.log",
    benchmark:
        f"{BENCH}/pathways.tsv"
    conda:
        "../../envs/pathways.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        out=lambda wildcards, output: os.path.dirname(output.info),
        extra=stage_flags("pathways", config),
    shell:
        "oncorisk pathways --impact {input.matrix:q} --network {input.network:q} "
        "--gene-sets {input.gene_sets:q} {params.extra} "
        "--out {params.out:q} > {log:q} 2>&1"
