#!/usr/bin/env python
"""Benchmark the demo-cohort simulator: wall time and peak memory of the default cohort, and the realism of
its reads beside real Illumina BAMs (NA12878 / GIAB HG001 and HG002 from ../shared/data).

Usage: python benchmarks/simulate.py [--patients N] [--bam-patients N] [--threads N] [--keep DIR]

Error rates are measured the same way on every BAM (oncorisk.simulate.profile.measure_errors: aligned, called
bases of MAPQ >= 20 non-duplicate reads; known variants and sites where >= 15% of reads disagree excluded),
and independently by `samtools stats` (its "error rate": mismatches / aligned bases, variants included).
"""

from __future__ import annotations

import argparse
import datetime
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


from oncorisk import __version__
from oncorisk.simulate.profile import measure_errors

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
QUAL_BINS = [(2, 9), (10, 19), (20, 29), (30, 34), (35, 39), (40, 45)]


def samtools_error_rate(bam: Path, ref: Path, region: str) -> str:
    if not shutil.which("samtools"):
        return "n/a (no samtools)"
    out = subprocess.run(["samtools", "stats", "-r", str(ref), str(bam), region], capture_output=True, text=True,
                         check=True).stdout
    for line in out.splitlines():
        if line.startswith("SN\terror rate:"):
            return f"{float(line.split(chr(9))[2]):.5f}"
    return "n/a"


def describe(name: str, bam: Path, ref: Path, region: str, truth: list[str]) -> dict:
    m = measure_errors(str(bam), str(ref), region, truth)
    rates = []
    for lo, hi in QUAL_BINS:
        b = m["base_by_qual"][lo : hi + 1].sum()
        rates.append(m["mism_by_qual"][lo : hi + 1].sum() / b if b else float("nan"))
    return dict(name=name, region=region, read_length=m["read_length"], mismatch=m["mismatch_rate"],
                indel=m["indel_error_rate"], by_qual=rates, samtools=samtools_error_rate(bam, ref, region),
                dup=m["duplicates"] / max(m["reads"], 1))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    from oncorisk.config import default_config

    demo = default_config()["simulate"]  # the default cohort's size
    ap.add_argument("--patients", type=int, default=demo["patients"])
    ap.add_argument("--bam-patients", type=int, default=demo["bam_patients"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--keep", help="simulate into this folder and keep it")
    args = ap.parse_args()
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="oncorisk-bench-"))
    out = work / "demo"
    cmd = ["oncorisk", "-q", "simulate", "--out", str(out), "--patients", str(args.patients),
           "--bam-patients", str(args.bam_patients), "--threads", str(args.threads)]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True)
    wall = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    size_mb = sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) / 1e6

    print(f"# oncorisk {__version__} simulate benchmark, {datetime.date.today()}, {platform.machine()}, "
          f"python {platform.python_version()}")
    print(f"command: {' '.join(cmd)}")
    print(f"default cohort ({args.patients} patients, {args.bam_patients} as tumour/normal BAMs): "
          f"wall {wall:.1f} s, peak RSS of one process {peak_mb:.0f} MB, output {size_mb:.0f} MB")
    print()
    rows = []
    sim_truth = [str(out / "truth" / f"P0001.{k}.vcf.gz") for k in ("germline", "somatic")]
    for kind in ("tumor", "normal"):
        rows.append(describe(f"simulated P0001 {kind}", out / "bams" / f"P0001.{kind}.bam", out / "reference.fa",
                             "chr1:1-300000", sim_truth))
    giab = DATA / "giab_hg001_chr20"
    if giab.exists():
        rows.append(describe("NA12878 (HG001) real", giab / "NA12878_S1.chr20.10_10p1mb.bam",
                             giab / "ucsc.hg19.chr20.unittest.fasta.gz", "chr20:10000000-10100000",
                             [str(giab / "truth.chr20_10050001-10100000.vcf.gz")]))
    hg2 = DATA / "giab_hg002_chr20"
    if hg2.exists():
        rows.append(describe("HG002 real (no truth)", hg2 / "HG002_NIST_150bp_downsampled_30x.chr20.10_10p1mb.bam",
                             hg2 / "hs37d5.chr20.fa.gz", "20:10000000-10100000", []))
    head = ["BAM", "region", "read len", "mismatch", "indel err", *[f"Q{lo}-{hi}" for lo, hi in QUAL_BINS],
            "samtools stats error rate", "dup frac"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        print("| " + " | ".join([r["name"], r["region"], str(r["read_length"]), f"{r['mismatch']:.5f}",
                                 f"{r['indel']:.2e}", *[f"{x:.4f}" for x in r["by_qual"]], r["samtools"],
                                 f"{r['dup']:.3f}"]) + " |")
    if not args.keep:
        shutil.rmtree(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
