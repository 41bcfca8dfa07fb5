# Stage tensors: pileups of each BAM sample around candidate SNVs/indels, scattered over region chunks.


rule tensors:
    input:
        bams=sample_bam_inputs,
        ref=reference_input(),
    output:
        directory(f"{RESULTS}/tensors/{{sample}}/chunk{{chunk}}"),
    log:
        f"{LOGS}/tensors/{{sample}}.chunk{{chunk}}.log",
    benchmark:
        f"{BENCH}/tensors/{{sample}}.chunk{{chunk}}.tsv"
    conda:
        "../../envs/reads.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=60,
    params:
        options=tensor_options,
    shell:
        "oncorisk tensors --ref {input.ref:q} {params.options} --out {output:q} > {log:q} 2>&1"
