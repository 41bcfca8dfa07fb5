# Stage call: the caller scores each tensors shard; shards are gathered into one sorted, indexed VCF per
# sample; BAM samples then enter impact with their calls. Also: evaluation and the train_caller target.


rule call_shard:
    input:
        tensors=f"{RESULTS}/tensors/{{sample}}/shard{{shard}}",
        ref=reference_input(),
        pon=pon_input(),
    output:
        vcf=temp(f"{RESULTS}/calls/shards/{{sample}}.shard{{shard}}.vcf.gz"),
        tbi=temp(f"{RESULTS}/calls/shards/{{sample}}.shard{{shard}}.vcf.gz.tbi"),
    log:
        f"{LOGS}/call/{{sample}}.shard{{shard}}.log",
    benchmark:
        f"{BENCH}/call/{{sample}}.shard{{shard}}.tsv"
    conda:
        "../../envs/reads.yaml"
    threads: 1
    resources:
        mem_mb=1500,
        runtime=60,
    params:
        extra=stage_flags("call", config),
    shell:
        "oncorisk call --tensors {input.tensors:q} --ref {input.ref:q} {params.extra} --sample-name {wildcards.sample} "
        "--out {output.vcf:q} > {log:q} 2>&1"


rule gather_calls:
    input:
        shards=lambda wc: [
            f"{RESULTS}/calls/shards/{wc.sample}.shard{k}.vcf.gz"
            for k in tensor_shards()
        ],
    output:
        vcf=f"{RESULTS}/calls/{{sample}}.vcf.gz",
        tbi=f"{RESULTS}/calls/{{sample}}.vcf.gz.tbi",
    log:
        f"{LOGS}/call/{{sample}}.gather.log",
    benchmark:
        f"{BENCH}/call/{{sample}}.gather.tsv"
    conda:
        "../../envs/reads.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=10,
    shell:
        "oncorisk gather-vcf --out {output.vcf:q} {input.shards:q} > {log:q} 2>&1"


rule called_samples:
    input:
        sheet=SAMPLE_SHEET,
        vcfs=expand(f"{RESULTS}/calls/{{sample}}.vcf.gz", sample=BAM_SAMPLES),
    output:
        f"{RESULTS}/samples.called.tsv",
    log:
        f"{LOGS}/called_samples.log",
    benchmark:
        f"{BENCH}/called_samples.tsv"
    conda:
        "../../envs/oncorisk.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    params:
        mode=config["mode"],
        calls=lambda wc, input: " ".join(
            shlex.quote(f"{s}={v}") for s, v in zip(BAM_SAMPLES, input.vcfs)
        ),
    shell:
        "oncorisk merge-calls --samples {input.sheet:q} --mode {params.mode} --calls {params.calls} "
        "--out {output:q} > {log:q} 2>&1"


rule evaluate_calls:
    input:
        query=f"{RESULTS}/calls/{{sample}}.vcf.gz",
        ref=reference_input(),
    output:
        f"{RESULTS}/calls/{{sample}}.metrics.json",
    log:
        f"{LOGS}/call/{{sample}}.evaluate.log",
    benchmark:
        f"{BENCH}/call/{{sample}}.evaluate.tsv"
    conda:
        "../../envs/reads.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=10,
    params:
        extra=lambda wc: evaluate_flags(config, wc.sample),
    shell:
        "oncorisk evaluate --query {input.query:q} --ref {input.ref:q} {params.extra} "
        "--out {output:q} > {log:q} 2>&1"


rule train_tensors:
    input:
        ref=reference_input(),
    output:
        directory(f"{RESULTS}/train_caller/tensors/{{tset}}"),
    log:
        f"{LOGS}/train_caller/{{tset}}.tensors.log",
    benchmark:
        f"{BENCH}/train_caller/{{tset}}.tensors.tsv"
    conda:
        "../../envs/reads.yaml"
    threads: 2
    resources:
        mem_mb=2000,
        runtime=120,
    params:
        extra=get_train_set_flags,
    shell:
        "oncorisk tensors --ref {input.ref:q} {params.extra} --threads {threads} "
        "--out {output:q} > {log:q} 2>&1"


rule train_caller:
    input:
        train_caller_inputs(),
    output:
        directory(
            f"models/{config['train_caller']['name']}-v{config['train_caller']['version']}"
        ),
    log:
        f"{LOGS}/train_caller.log",
    benchmark:
        f"{BENCH}/train_caller.tsv"
    conda:
        "../../envs/reads.yaml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=240,
        gpu=1,
    params:
        name=config["train_caller"]["name"],
        version=config["train_caller"]["version"],
        members=config["train_caller"]["members"],
        seed=config["seed"],
        device=config["device"],
    shell:
        "oncorisk train-caller --tensors {input:q} --name {params.name} --version {params.version} "
        "--members {params.members} --seed {params.seed} --device {params.device} --out models > {log:q} 2>&1"
