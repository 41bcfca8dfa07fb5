#!/usr/bin/env python
"""What fine-tuning (``train-caller --init-from``) gains over training from scratch on a shifted domain.

Usage: python benchmarks/finetune.py [--sim DIR] [--epochs 30] [--members 1]

The shifted domain: the simulator's reads (150 bp, its own error and coverage model, 30x normals, seed 303), which
the shipped germline model never saw (it learnt from HG002 spike-ins). A lab with a few thousand labelled
candidates of its own platform is played by patient P0001's normal (germline truth and confident BED known):
labelled tensors of its first 0.5 Mb and of all 2 Mb, and (a few thousand candidates) the normals of P0001, P0003
and P0004, 2 Mb each. Patient P0002's normal is the held-out test.

Side by side, on the same tensors and epochs: the shipped model as it is, training from scratch, and fine-tuning
from the shipped model (learning rate 1e-4); germline SNV and indel F1 on P0002 (``oncorisk evaluate``).
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import sh  # noqa: E402

from oncorisk import __version__  # noqa: E402


def labelled(sim: Path, patient: str, out: Path, region: str | None) -> int:
    """Labelled germline tensors of a patient's normal; returns the number of labelled candidates."""
    regions = f"--regions {region}" if region else ""
    sh(f"oncorisk -q tensors --bam {sim}/bams/{patient}.normal.bam --ref {sim}/reference.fa {regions} "
       f"--truth-vcf {sim}/truth/{patient}.germline.vcf.gz --confident-bed {sim}/truth/confident.bed "
       f"--out {out} --threads 2")
    return sum(1 for line in (out / "sites.tsv").read_text().splitlines()[1:] if line.split("\t")[-1] != "-1")


def score(sim: Path, tensors: Path, model: str, tmp: Path, name: str) -> dict:
    vcf = tmp / f"{name}.vcf.gz"
    sh(f"oncorisk -q call --tensors {tensors} --ref {sim}/reference.fa --model {model} --out {vcf}")
    out = tmp / f"{name}.json"
    sh(f"oncorisk -q evaluate --truth {sim}/truth/P0002.germline.vcf.gz --query {vcf} --ref {sim}/reference.fa "
       f"--bed {sim}/truth/confident.bed --out {out}")
    return json.loads(out.read_text())


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sim", help="simulated cohort folder (made when absent)")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--members", type=int, default=1)
    args = ap.parse_args()
    print(f"# oncorisk {__version__} fine-tuning benchmark, {datetime.date.today()}, {platform.machine()}, CPU only")
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        sim = Path(args.sim) if args.sim else tmp / "sim"
        if not (sim / "manifest.json").exists():
            sh(f"oncorisk -q simulate --out {sim} --seed 303 --patients 4 --bam-patients 4 --genome-size 2000000 "
               f"--capture wgs --threads 2")
        contig = (sim / "reference.fa.fai").read_text().split("\t", 1)[0]
        manifest = json.loads((sim / "manifest.json").read_text())
        print(f"\nsimulated cohort {sim} (seed {manifest['config'].get('seed')}); train: P0001 normal, test: P0002 normal "
              f"(germline truth, confident BED)")
        test = tmp / "test"
        labelled(sim, "P0002", test, None)
        print("\n| model | labelled training candidates | training wall | SNV F1 | indel F1 | indel P | indel R |\n"
              "|---|---|---|---|---|---|---|")

        def show(name, n, wall, r):
            s, i = r["SNV"], r["INDEL"]
            print(f"| {name} | {n} | {wall} | {s['f1']} | {i['f1']} | {i['precision']} | {i['recall']} |")

        show("germline-illumina (shipped, no training)", 0, "-", score(sim, test, "germline-illumina", tmp, "shipped"))
        sets = [("P0001 0.5 Mb", [("P0001", f"{contig}:1-500000")]), ("P0001 2 Mb", [("P0001", None)])]
        if all((sim / "bams" / f"{p}.normal.bam").exists() for p in ("P0003", "P0004")):
            sets.append(("P0001, P0003, P0004 2 Mb each", [(p, None) for p in ("P0001", "P0003", "P0004")]))
        for k, (label, parts) in enumerate(sets):
            dirs = [tmp / f"train{k}_{p}" for p, _ in parts]
            n = sum(labelled(sim, p, d, region) for (p, region), d in zip(parts, dirs))
            for how, extra in (("from scratch", ""), ("fine-tuned (--init-from germline-illumina, lr 1e-4)",
                                                      "--init-from germline-illumina --lr 1e-4")):
                name = f"m{k}{'ft' if extra else 'sc'}"
                w = sh(f"oncorisk -q train-caller --tensors {' '.join(map(str, dirs))} --name {name} --version 0.0.1 "
                       f"--epochs {args.epochs} --members {args.members} {extra} --out {tmp}/models")
                show(f"{how}, {label}", n, f"{w:.0f} s", score(sim, test, f"{tmp}/models/{name}-v0.0.1", tmp, name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
