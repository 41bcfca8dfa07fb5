# The cohort's sample sheet, validated, with every path resolved: the table later stages read.


rule validate_samples:
    input:
        sheet=SAMPLE_SHEET,
    output:
        f"{RESULTS}/samples.validated.tsv",
    log:
        f"{LOGS}/validate_samples.log",
    benchmark:
        f"{BENCH}/validate_samples.tsv"
    conda:
        "../../envs/oncorisk.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    params:
        mode=config["mode"],
    shell:
        "oncorisk validate --samples {input.sheet} --mode {params.mode} --out {output} > {log} 2>&1"
