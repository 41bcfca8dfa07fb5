"""``oncorisk call``: tensors (made on the fly from BAMs, or read from tensors folders), model, VCF.

Streaming: one partition (or tensors folder) at a time is encoded, scored in batches and written, so memory is
bounded by the partition size whatever the genome.
"""

from __future__ import annotations

import logging
import os
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import numpy as np
import pysam

from oncorisk.caller.defaults import model_min_qual
from oncorisk.caller.vcf import check_vcf_names, format_records, vcf_header, write_vcf
from oncorisk.errors import UserError
from oncorisk.genome.fasta import open_reference
from oncorisk.io.background import Background
from oncorisk.tensors.layout import layout_info
from oncorisk.tensors.run import TensorOptions, iter_partitions, load_tensors

log = logging.getLogger(__name__)


@dataclass
class CallOptions:
    out: str
    model: str
    ref: str
    tensor_opts: TensorOptions | None = None  # from BAMs
    tensors: list[str] = field(default_factory=list)  # or from tensors folders, in genome order
    sample: str | None = None
    normal_sample: str | None = None
    min_qual: float | None = None  # None: the model's own (caller.defaults.model_min_qual)
    device: str = "auto"
    batch: int = 1024
    command: str = ""
    pon: str | None = None  # panel of normals (oncorisk make-pon): PASS calls of its alleles get FILTER PON


def bam_sample_name(path: str) -> str:
    try:
        rgs = pysam.AlignmentFile(path).header.to_dict().get("RG", [])
    except (OSError, ValueError):
        rgs = []
    names = sorted({rg["SM"] for rg in rgs if "SM" in rg})
    return names[0] if len(names) == 1 else Path(path).name.split(".")[0]


def _bam_blocks(to: TensorOptions):
    for sites, tensors, _ in iter_partitions(to):
        yield sites, tensors


def uses_torch(device: str) -> bool:
    """Whether ``call`` runs the model with torch: on a GPU (``cuda``, or ``auto`` where an NVIDIA driver is
    present). On the CPU, caller/cpu.py's numpy forward pass runs the same weights without importing torch (about
    a second at start-up; same probabilities to float32 rounding)."""
    if device == "cpu":
        return False
    if device == "auto":
        return os.path.exists("/proc/driver/nvidia/version") or os.path.exists("/dev/nvidiactl")
    return True


def run_call(opts: CallOptions) -> dict:
    """Call variants. From BAMs with torch (a GPU), the tensors are built in a forked child (io.background), so that
    torch's import and the model's loading overlap the pileup; on the CPU nothing is slow to overlap, and one process
    does both (measured no slower: docs/caller.md "Start-up")."""
    torch_path = uses_torch(opts.device)
    if opts.tensor_opts is None:
        return _run_call(opts, None, torch_path)
    if not torch_path:
        return _run_call(opts, _bam_blocks(opts.tensor_opts), torch_path)
    with Background(_bam_blocks, opts.tensor_opts) as blocks:
        return _run_call(opts, blocks, torch_path)


def _run_call(opts: CallOptions, bam_blocks: Iterable | None, torch_path: bool) -> dict:
    from oncorisk.caller.checkpoint import check_layout, load_checkpoint, load_cpu_model, resolve_model

    model_dir = resolve_model(opts.model)
    if torch_path:
        # torch is imported here, after the tensors' child has been forked. Inference has no random step (dropout
        # is off in eval mode); torch's deterministic-algorithms switch is not needed and costs a second of imports
        from oncorisk.caller.model import predict_probabilities
        from oncorisk.repro import pick_device

        device = pick_device(opts.device)
        net, minfo = load_checkpoint(str(model_dir), device)  # the folder: resolved once

        def probabilities(x):
            return predict_probabilities(net, x, device, opts.batch)
    else:
        log.info("device %s: cpu (the model in numpy, caller/cpu.py; torch is used on a GPU)", opts.device)
        cpu_net, minfo = load_cpu_model(str(model_dir))

        def probabilities(x):
            return cpu_net.probabilities(x, opts.batch)
    somatic = minfo["layout"]["mode"] == "somatic"
    min_qual = opts.min_qual if opts.min_qual is not None else model_min_qual(minfo)
    if opts.tensor_opts is not None:
        to = opts.tensor_opts
        mode = to.mode
        check_layout(minfo, layout_info(mode), str(model_dir), f"the {mode} tensors of {to.bam}")
        sample = opts.sample if opts.sample is not None else bam_sample_name(to.bam)
        normal = opts.normal_sample if opts.normal_sample is not None else (
            bam_sample_name(to.normal_bam) if to.normal_bam else None)
        blocks = bam_blocks
    else:
        if not opts.tensors:
            raise UserError("call: give --bam (and --normal-bam) or --tensors folders")
        infos = []
        for folder in opts.tensors:
            _, _, info = load_tensors(folder)
            check_layout(minfo, info, str(model_dir), folder)
            infos.append(info)
        inputs = infos[0]["inputs"]
        sample = opts.sample if opts.sample is not None else bam_sample_name(inputs["bam"])
        normal = opts.normal_sample if opts.normal_sample is not None else (
            bam_sample_name(inputs["normal_bam"]) if inputs.get("normal_bam") else None)
        blocks = (load_tensors(f)[:2] for f in opts.tensors)
    fasta = open_reference(opts.ref)
    contigs = list(zip(fasta.references, fasta.lengths))
    if somatic and (normal is None or normal == sample):
        normal = f"{sample}.normal"  # the two columns need distinct names
    samples = [normal, sample] if somatic else [sample]
    check_vcf_names([(sample, "--sample-name" if opts.sample is not None else "the BAM's SM tag (or file name)"),
                     (normal, "--normal-sample-name" if opts.normal_sample is not None else "the normal BAM's SM tag (or file name)")]
                    if somatic else [(sample, "--sample-name" if opts.sample is not None else "the BAM's SM tag (or file name)")],
                    fasta.references, opts.ref)
    pon = None
    extra = []
    if opts.pon:
        from oncorisk.caller.pon import PON_FILTER, PON_INFO, PonFilter

        pon = PonFilter(opts.pon, fasta, opts.ref)
        extra = [PON_FILTER, PON_INFO, f"##oncorisk_pon=file://{os.path.abspath(opts.pon)}"]
        log.info("panel of normals %s: %d alleles", opts.pon, len(pon))
    header = vcf_header(contigs, samples, somatic, opts.ref, model_dir.name, opts.command, min_qual, extra)
    stats = dict(candidates=0, PASS=0, LowQual=0, RefCall=0, GERMLINE=0, PON=0)

    def lines():
        for sites, tensors in blocks:
            if len(sites) == 0:
                continue
            probs = probabilities(np.asarray(tensors))
            for line in format_records(sites, probs, somatic, min_qual):
                if pon is not None:
                    line = pon.apply(line)
                stats["candidates"] += 1
                stats[line.split("\t", 7)[6]] += 1
                yield line

    write_vcf(opts.out, header, lines())
    log.info("call: %s (PASS: QUAL >= %g)", ", ".join(f"{k} {v}" for k, v in stats.items()), min_qual)
    return dict(stats=stats, model=model_dir.name, samples=samples, min_qual=min_qual)


def command_line() -> str:
    return "oncorisk " + " ".join(shlex.quote(a) for a in sys.argv[1:])
