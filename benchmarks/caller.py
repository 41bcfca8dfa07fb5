#!/usr/bin/env python
"""Benchmark the caller beside bcftools and FreeBayes, side by side in one run.

Usage: python benchmarks/caller.py [--sim DIR] [--threads N]

1. Real germline: NA12878 (GIAB HG001) chr20:10,050,001-10,100,000, ../shared/data/giab_hg001_chr20, GIAB truth.
   oncorisk call (germline-illumina) vs `bcftools mpileup -f REF | bcftools call -mv` and `freebayes` (QUAL >= 20).
   All three are scored by `oncorisk evaluate` (same normalisation, same BED), SNVs and indels apart.
2. HG002 20:10.0-10.1 Mb (no truth): concordance of oncorisk's PASS calls with bcftools'.
3. Simulated tumour/normal (60x / 30x, purity 0.6-1.0, 2 Mb WGS, 1000 passenger mutations, seed 202):
   somatic SNV and indel F1 for VAF >= 0.1 and per VAF bin, beside a bcftools baseline (call the tumour,
   drop sites the normal also shows, `bcftools isec -C`).
Wall times: tensors + inference + VCF (one command) against bcftools mpileup | call on the same BAM and region.
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import sh  # noqa: E402

from oncorisk import __version__  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
GIAB = DATA / "giab_hg001_chr20"
HG2 = DATA / "giab_hg002_chr20"
STRELKA = DATA / "strelka_demo"


def evaluate(truth, query, ref, bed=None, extra="") -> dict:
    out = Path(tempfile.mktemp(suffix=".json"))
    sh(f"oncorisk -q evaluate --truth {truth} --query {query} --ref {ref} {'--bed ' + str(bed) if bed else ''} "
       f"{extra} --out {out}")
    return json.loads(out.read_text())


def row(name: str, r: dict, wall: float | None) -> str:
    s, i = r["SNV"], r["INDEL"]
    f = lambda x: "n/a" if x is None else f"{x:.4f}"  # noqa: E731
    return (f"| {name} | {f(s['precision'])} | {f(s['recall'])} | **{f(s['f1'])}** | {f(i['precision'])} | "
            f"{f(i['recall'])} | **{f(i['f1'])}** | {s['tp']}/{s['fp']}/{s['fn']} | {i['tp']}/{i['fp']}/{i['fn']} | "
            f"{'' if wall is None else f'{wall:.1f} s'} |")


def hap_row(name: str, r: dict) -> str:
    """Haplotype comparison (evaluate's ``haplotype`` block) and genotype concordance of allele matches."""
    s, i = r["haplotype"]["SNV"], r["haplotype"]["INDEL"]
    f = lambda x: "n/a" if x is None else f"{x:.4f}"  # noqa: E731
    return (f"| {name} | {f(s['precision'])} | {f(s['recall'])} | **{f(s['f1'])}** | {f(i['precision'])} | "
            f"{f(i['recall'])} | **{f(i['f1'])}** | {f(r['SNV']['genotype_concordance'])} | "
            f"{f(r['INDEL']['genotype_concordance'])} |")


HAP_HEAD = ("| caller | SNV P | SNV R | SNV F1 | indel P | indel R | indel F1 | SNV GT conc. | indel GT conc. |\n"
            "|---|---|---|---|---|---|---|---|---|")
HEAD = ("| caller | SNV P | SNV R | SNV F1 | indel P | indel R | indel F1 | SNV TP/FP/FN | indel TP/FP/FN | wall |\n"
        "|---|---|---|---|---|---|---|---|---|---|")


def bcftools_somatic(ref, tumour, normal, prefix: Path) -> float:
    """The classical baseline: bcftools calls in the tumour minus sites bcftools calls in the normal
    (-> PREFIX.som.vcf.gz). Returns the wall time."""
    t, n, som = f"{prefix}.t.vcf.gz", f"{prefix}.n.vcf.gz", f"{prefix}.som.vcf.gz"
    return sh(f"bcftools mpileup -a AD -f {ref} {tumour} 2>/dev/null | bcftools call -mv -Oz -o {t} 2>/dev/null && "
              f"tabix -f {t} && bcftools mpileup -f {ref} {normal} 2>/dev/null | bcftools call -mv -Oz -o {n} "
              f"2>/dev/null && tabix -f {n} && bcftools isec -C -w1 {t} {n} -Oz -o {som} && tabix -f {som}")


def cross_validated(tmp: Path, cv: Path, bam: Path, ref: Path) -> str:
    """The germline model's block-wise cross-validation on NA12878's truth half: each fold's blocks called by the
    model trained without them (``cv/germline-cvX-v*`` with ``cv/germline-cvX.bed``, from
    workflow/scripts/train_shipped_models.sh), at the PASS threshold chosen on the other fold
    (``cv/germline-cvX.min_qual``, when present); the folds' VCFs joined. Returns the joined VCF."""
    parts = []
    for bed in sorted(cv.glob("germline-cv*.bed")):
        model = next(cv.glob(f"{bed.stem}-v*"))
        out = tmp / f"{bed.stem}.vcf.gz"
        q = cv / f"{bed.stem}.min_qual"  # the PASS threshold chosen on the other fold (train_shipped_models.sh)
        min_qual = f"--min-qual {q.read_text().strip()}" if q.exists() else ""
        sh(f"oncorisk -q call --bam {bam} --ref {ref} --regions {bed} --model {model} {min_qual} --out {out}")
        parts.append(str(out))
    joined = tmp / "cv.vcf.gz"
    sh(f"bcftools concat -a {' '.join(parts)} 2>/dev/null | bcftools sort -Oz -o {joined} 2>/dev/null && tabix -f {joined}")
    return str(joined)


def germline(tmp: Path, cv: Path | None = None) -> None:
    bam, ref_gz = GIAB / "NA12878_S1.chr20.10_10p1mb.bam", GIAB / "ucsc.hg19.chr20.unittest.fasta.gz"
    truth, bed = GIAB / "truth.chr20_10050001-10100000.vcf.gz", GIAB / "truth_region.bed"
    ref = tmp / "hg19chr20.fa"  # freebayes wants plain FASTA
    sh(f"zcat {ref_gz} > {ref} && samtools faidx {ref}")
    region = "chr20:10050001-10100000"
    print(f"\n### NA12878 {region} (GIAB truth: 80 SNVs, 12 indels)\n\nAllele matching after normalisation:\n\n{HEAD}")
    w = sh(f"oncorisk -q call --bam {bam} --ref {ref} --regions {bed} --model germline-illumina --out {tmp}/ours.vcf.gz")
    results = {"oncorisk call (germline-illumina)": (evaluate(truth, f"{tmp}/ours.vcf.gz", ref, bed), w)}
    if cv is not None:
        name = "oncorisk, block CV (each 10-kb block called by the fold model that never saw it)"
        results[name] = (evaluate(truth, cross_validated(tmp, cv, bam, ref), ref, bed), None)
    wb = sh(f"bcftools mpileup -f {ref} -r {region} {bam} 2>/dev/null | bcftools call -mv -Oz -o {tmp}/bcf.vcf.gz "
            f"2>/dev/null && tabix -f {tmp}/bcf.vcf.gz")
    results["bcftools mpileup \\| call -mv"] = (evaluate(truth, f"{tmp}/bcf.vcf.gz", ref, bed, "--all-records"), wb)
    if shutil.which("freebayes"):
        wf = sh(f"freebayes -f {ref} -r chr20:10050000-10100000 {bam} 2>/dev/null | bcftools view -i 'QUAL>=20' "
                f"-Oz -o {tmp}/fb.vcf.gz 2>/dev/null && tabix -f {tmp}/fb.vcf.gz")
        results["freebayes (QUAL >= 20)"] = (evaluate(truth, f"{tmp}/fb.vcf.gz", ref, bed, "--all-records"), wf)
    for name, (r, wall) in results.items():
        print(row(name, r, wall))
    if not shutil.which("freebayes"):
        print("| freebayes | not installed (apt-get install freebayes) |")
    print(f"\nHaplotype comparison (vcfeval-style windows, genotype-aware; oncorisk evaluate's `haplotype`):\n\n{HAP_HEAD}")
    for name, (r, _) in results.items():
        print(hap_row(name, r))
    # speed over the whole 100-kb slice
    whole = "chr20:10000001-10100000"
    w1 = sh(f"oncorisk -q call --bam {bam} --ref {ref} --regions {whole} --model germline-illumina --out {tmp}/w.vcf.gz")
    w2 = sh(f"bcftools mpileup -f {ref} -r {whole} {bam} 2>/dev/null | bcftools call -mv -Oz -o {tmp}/wb.vcf.gz 2>/dev/null")
    print(f"\nspeed, {whole} (~50x): oncorisk call {w1:.2f} s, bcftools mpileup | call {w2:.2f} s, ratio {w1 / w2:.2f}")


def hg002(tmp: Path) -> None:
    bam, ref_gz = HG2 / "HG002_NIST_150bp_downsampled_30x.chr20.10_10p1mb.bam", HG2 / "hs37d5.chr20.fa.gz"
    ref = tmp / "hs37d5chr20.fa"
    sh(f"zcat {ref_gz} > {ref} && samtools faidx {ref}")
    region = "20:10000001-10099000"
    sh(f"oncorisk -q call --bam {bam} --ref {ref} --regions {region} --model germline-illumina --out {tmp}/h.vcf.gz")
    sh(f"bcftools mpileup -f {ref} -r {region} {bam} 2>/dev/null | bcftools call -mv -Oz -o {tmp}/hb.vcf.gz 2>/dev/null "
       f"&& tabix -f {tmp}/hb.vcf.gz")
    r = evaluate(f"{tmp}/hb.vcf.gz", f"{tmp}/h.vcf.gz", ref)
    print(f"\n### HG002 {region} (no truth): concordance with bcftools\n")
    for k in ("SNV", "INDEL"):
        x = r[k]
        print(f"- {k}: {x['tp']} shared; {x['fp']} only oncorisk, {x['fn']} only bcftools "
              f"(oncorisk calls also in bcftools: {x['precision']}, bcftools calls also in oncorisk: {x['recall']}); "
              f"genotype concordance {x['genotype_concordance']}")


def somatic(tmp: Path, sim: Path, threads: int) -> None:
    if not (sim / "manifest.json").exists():
        sh(f"oncorisk -q simulate --out {sim} --seed 202 --patients 2 --bam-patients 1 --genome-size 2000000 "
           f"--capture wgs --set passenger_rate=1000 --threads {threads}")
    ref, t, n = sim / "reference.fa", sim / "bams" / "P0001.tumor.bam", sim / "bams" / "P0001.normal.bam"
    truth, bed = sim / "truth" / "P0001.somatic.vcf.gz", sim / "truth" / "confident.bed"
    print(f"\n### Simulated tumour 60x / normal 30x ({sim.name}: 2 Mb WGS, seed 202, purity "
          f"{json.loads((sim / 'manifest.json').read_text())['config']['purity']})\n")
    w = sh(f"oncorisk -q call --bam {t} --normal-bam {n} --ref {ref} --model somatic-illumina --out {tmp}/s.vcf.gz")
    w2 = sh(f"oncorisk -q call --bam {t} --normal-bam {n} --ref {ref} --model somatic-illumina --out {tmp}/s2.vcf.gz "
            f"--threads 2")
    # bcftools baseline: tumour calls minus sites the normal shows
    wb = bcftools_somatic(ref, t, n, tmp / "b")
    print(HEAD.replace("| caller |", "| somatic, VAF >= 0.1 |"))
    ours = evaluate(truth, f"{tmp}/s.vcf.gz", ref, bed, "--somatic --min-vaf 0.1")
    base = evaluate(truth, f"{tmp}/b.som.vcf.gz", ref, bed, "--all-records --min-vaf 0.1")
    print(row("oncorisk call (somatic-illumina)", ours, w))
    print(row("bcftools tumour minus normal", base, wb))
    allv = evaluate(truth, f"{tmp}/s.vcf.gz", ref, bed, "--somatic")
    base_all = evaluate(truth, f"{tmp}/b.som.vcf.gz", ref, bed, "--all-records --somatic")
    print("\n| VAF bin | truth | oncorisk recall | oncorisk precision | oncorisk F1 | bcftools recall |\n|---|---|---|---|---|---|")
    for b, bb in zip(allv["by_vaf"], base_all["by_vaf"]):
        print(f"| {b['vaf']} | {b['truth']} | {b['recall']} | {b['precision']} | {b['f1']} | {bb['recall']} |")
    print(f"\nspeed, 2 Mb at 60x + 30x: oncorisk call {w:.1f} s (1 thread), {w2:.1f} s (--threads 2); "
          f"bcftools tumour + normal {wb:.1f} s; ratio (1 thread) {w / wb:.2f}")


def strelka_demo(tmp: Path) -> None:
    """Strelka2's own demo pair (NA12891 as tumour, NA12892 as normal, ~16x, 5 kb): concordance with the
    calls Strelka2's repository expects (a regression reference of a peer, not truth), beside bcftools."""
    d = STRELKA
    ref, t, n = d / "demo20.fa", d / "NA12891_demo20.bam", d / "NA12892_demo20.bam"
    sh(f"bcftools concat {d}/somatic.snvs.vcf.gz {d}/somatic.indels.vcf.gz | bcftools view -f PASS | "
       f"bcftools sort -Oz -o {tmp}/strelka.vcf.gz 2>/dev/null && tabix -f {tmp}/strelka.vcf.gz")
    w = sh(f"oncorisk -q call --bam {t} --normal-bam {n} --ref {ref} --model somatic-illumina --out {tmp}/sd.vcf.gz")
    wb = bcftools_somatic(ref, t, n, tmp / "sd")
    print("\n### Strelka2 demo pair (NA12891 tumour / NA12892 normal, ~16x, 5 kb): agreement with Strelka2's "
          "expected PASS calls (a peer's output, not truth)\n")
    print(HEAD.replace("| caller |", "| vs Strelka2 PASS |"))
    print(row("oncorisk call (somatic-illumina)", evaluate(f"{tmp}/strelka.vcf.gz", f"{tmp}/sd.vcf.gz", ref), w))
    print(row("bcftools tumour minus normal",
              evaluate(f"{tmp}/strelka.vcf.gz", f"{tmp}/sd.som.vcf.gz", ref, extra="--all-records"), wb))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sim", default=None, help="simulated pair folder (made when absent)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--cv", help="the cross-validation models of train_shipped_models.sh (WORKDIR/cv): adds the "
                    "block-wise cross-validated germline figure on NA12878's truth half")
    ap.add_argument("--only", nargs="+", choices=["germline", "hg002", "somatic", "strelka"],
                    help="run only these sections (default: all)")
    args = ap.parse_args()
    want = set(args.only or ["germline", "hg002", "somatic", "strelka"])
    ver = subprocess.run(["bcftools", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    fb = subprocess.run("freebayes --version", shell=True, capture_output=True, text=True).stdout.strip()
    print(f"# oncorisk {__version__} caller benchmark, {datetime.date.today()}, {platform.machine()}, {ver}, {fb}; "
          f"CPU only (no GPU in this run)")
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        if GIAB.exists() and "germline" in want:
            germline(tmp, Path(args.cv) if args.cv else None)
        if HG2.exists() and "hg002" in want:
            hg002(tmp)
        if STRELKA.exists() and "strelka" in want:
            strelka_demo(tmp)
        if "somatic" in want:
            somatic(tmp, Path(args.sim) if args.sim else tmp / "sim", args.threads)
    return 0


if __name__ == "__main__":
    sys.exit(main())
