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
        extra=stage_flags("validate", config),
    shell:
        "oncorisk validate --samples {input.sheet:q} {params.extra} --out {output:q} > {log:q} 2>&1"


rule run_info:
    input:
        sheet=f"{RESULTS}/samples.validated.tsv",
        ref=reference_input(),
    output:
        f"{RESULTS}/run_info.json",
    log:
        f"{LOGS}/run_info.log",
    benchmark:
        f"{BENCH}/run_info.tsv"
    conda:
        "../../envs/oncorisk.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=30,
    params:
        config=json.dumps(dict(config), sort_keys=True),
        extra=run_info_flags(config, caller_ran=bool(BAM_SAMPLES)),
    shell:
        "oncorisk run-info --config-json {params.config:q} --samples {input.sheet:q} "
        "{params.extra} --out {output:q} > {log:q} 2>&1"
