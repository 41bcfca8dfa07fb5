# The embedded demo cohort: used when simulate.enabled is true (the default config).


rule simulate_cohort:
    output:
        sheet=sim_path(sim_layout.SHEET),
        reference=sim_path(sim_layout.REFERENCE),
        fai=sim_path(f"{sim_layout.REFERENCE}.fai"),
        annotation=sim_path(sim_layout.ANNOTATION),
        panel=sim_path(sim_layout.PANEL),
        manifest=sim_path(sim_layout.MANIFEST),
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
        extra=simulate_flags(config),
    shell:
        "oncorisk simulate --out {params.out:q} {params.extra} "
        "--threads {threads} > {log:q} 2>&1"
