# Stage tensors: pileups of each BAM sample around candidate SNVs/indels, scattered over region shards.


rule tensors:
    input:
        bams=sample_bam_inputs,
        ref=reference_input(),
    output:
        directory(f"{RESULTS}/tensors/{{sample}}/shard{{shard}}"),
    log:
        f"{LOGS}/tensors/{{sample}}.shard{{shard}}.log",
    benchmark:
        f"{BENCH}/tensors/{{sample}}.shard{{shard}}.tsv"
    conda:
        "../../envs/reads.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=60,
    params:
        reads=get_reads_flags,
        extra=stage_flags("tensors", config),
    shell:
        "oncorisk tensors --ref {input.ref:q} {params.reads} --shard-index {wildcards.shard} {params.extra} "
        "--out {output:q} > {log:q} 2>&1"
