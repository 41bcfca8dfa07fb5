# The embedded demo cohort: used when simulate.enabled is true (the default config).


rule simulate_cohort:
    output:
        sheet=f"{SIM_DIR}/samples.tsv",
        reference=f"{SIM_DIR}/reference.fa",
        fai=f"{SIM_DIR}/reference.fa.fai",
        annotation=f"{SIM_DIR}/genes.gtf",
        panel=f"{SIM_DIR}/panel.bed",
        manifest=f"{SIM_DIR}/manifest.json",
    log:
        f"{LOGS}/simulate_cohort.log",
    benchmark:
        f"{BENCH}/simulate_cohort.tsv"
    conda:
        "../../envs/reads.yaml"
    threads: 2
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        out=lambda wildcards, output: os.path.dirname(output.manifest),
        seed=config["seed"],
        settings=simulate_settings(),
    shell:
        "oncorisk simulate --out {params.out:q} --seed {params.seed} {params.settings} "
        "--threads {threads} > {log:q} 2>&1"
