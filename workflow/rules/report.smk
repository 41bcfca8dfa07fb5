# The report's headline numbers: the front page (workflow/report/workflow.rst) and the captions include them.


rule report_summary:
    input:
        summary_inputs(),
    output:
        summary=f"{RESULTS}/report/summary.rst",
        roc=f"{RESULTS}/report/roc.rst",
        pathways=f"{RESULTS}/report/top_pathways.rst",
        tmb=f"{RESULTS}/report/tmb.rst",
    log:
        f"{LOGS}/report_summary.log",
    benchmark:
        f"{BENCH}/report_summary.tsv"
    conda:
        "../../envs/oncorisk.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=10,
    params:
        results=lambda wildcards, output: os.path.dirname(
            os.path.dirname(output.summary)
        ),
        out=lambda wildcards, output: os.path.dirname(output.summary),
    shell:
        "oncorisk report-summary --results {params.results:q} --out {params.out:q} > {log:q} 2>&1"
