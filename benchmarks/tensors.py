#!/usr/bin/env python
"""Benchmark `oncorisk tensors` against `samtools mpileup -f REF` on the same BAM and region.

Usage: python benchmarks/tensors.py [--keep DIR] [--skip-sim]

- Real reads: ../shared/data/giab_hg001_chr20 (NA12878, chr20:10,000,001-10,100,000, ~50x).
- Simulated: one 10 Mb WGS genome (2 contigs of 5 Mb), tumour 60x + normal 30x (`oncorisk simulate`);
  the 5 Mb first contig is encoded at 30x (normal, germline mode), 60x (tumour) and 60x + 30x (somatic).
- Scaling: 1, 5 and 10 Mb of the simulated genome (default partition size, 500 kb): peak memory stays flat because it is
  bounded by the partition, and wall time per read stays constant (linear in the number of reads).
- Threads: the 5 Mb somatic encode with --threads 2 (partitions in parallel).

samtools mpileup runs with its defaults (BAQ on in samtools 1.16) and with -B (BAQ off, cheaper), one
thread; the ratio is oncorisk's wall time over samtools' (<= 1.0 means no slower).
"""

from __future__ import annotations

import argparse
import datetime
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pysam

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import timed  # noqa: E402

from oncorisk import __version__  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
GIAB = REPO.parent / "shared" / "data" / "giab_hg001_chr20"


def reads_in(bams: list[str], region: str) -> int:
    n = 0
    for b in bams:
        n += int(pysam.view("-c", "-F", "0xF04", b, region).strip())
    return n


def compare(name: str, bams: list[str], ref: str, region: str, tmp: Path, extra: list[str] | None = None) -> dict:
    out = tmp / f"t_{abs(hash((name, region)))}"
    cmd = ["oncorisk", "-q", "tensors", "--bam", bams[0], "--ref", ref, "--regions", region, "--out", str(out)]
    if len(bams) > 1:
        cmd += ["--normal-bam", bams[1]]
    cmd += extra or []
    ours, mem = timed(cmd)
    sites = sum(1 for _ in open(out / "sites.tsv")) - 1
    shutil.rmtree(out)
    sam, sam_mem = timed(["samtools", "mpileup", "-f", ref, "-r", region, "-o", "/dev/null", *bams])
    samb, _ = timed(["samtools", "mpileup", "-B", "-f", ref, "-r", region, "-o", "/dev/null", *bams])
    n = reads_in(bams, region)
    row = dict(name=name, region=region, reads=n, ours=ours, mem=mem, sites=sites, sam=sam, samB=samb,
               ratio=ours / sam, ratioB=ours / samb, sam_mem=sam_mem, us_per_read=1e6 * ours / max(n, 1))
    print(f"| {name} | {region} | {n:,} | {ours:.2f} s | {mem:.0f} MB | {sites:,} | {sam:.2f} s | {ours / sam:.2f} | "
          f"{samb:.2f} s | {ours / samb:.2f} |", flush=True)
    return row


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--keep", help="keep the simulated cohort in this folder (reused when present)")
    ap.add_argument("--skip-sim", action="store_true", help="real data only")
    args = ap.parse_args()
    print(f"# oncorisk {__version__} tensors benchmark, {datetime.date.today()}, {platform.machine()}, "
          f"{subprocess.run(['samtools', '--version'], capture_output=True).stdout.decode(errors='replace').splitlines()[0]}")
    print("| data | region | reads | oncorisk tensors | peak RSS | candidates | samtools mpileup | ratio | "
          "mpileup -B | ratio -B |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        if (GIAB / "NA12878_S1.chr20.10_10p1mb.bam").exists():
            compare("NA12878 ~50x (real)", [str(GIAB / "NA12878_S1.chr20.10_10p1mb.bam")],
                    str(GIAB / "ucsc.hg19.chr20.unittest.fasta.gz"), "chr20:10000001-10100000", tmp)
        else:
            print(f"(skipped: {GIAB} absent)")
        if args.skip_sim:
            return 0
        sim = Path(args.keep) if args.keep else tmp / "sim"
        if not (sim / "manifest.json").exists():
            wall, mem = timed(["oncorisk", "-q", "simulate", "--out", str(sim), "--patients", "2", "--bam-patients",
                               "1", "--genome-size", "10000000", "--capture", "wgs", "--seed", "5"])
            print(f"(simulated 10 Mb WGS tumour 60x / normal 30x in {wall:.0f} s)")
        ref = str(sim / "reference.fa")
        fa = pysam.FastaFile(ref)
        c1, c2 = fa.references[:2]
        tumor, normal = str(sim / "bams" / "P0001.tumor.bam"), str(sim / "bams" / "P0001.normal.bam")
        five = f"{c1}:1-{fa.get_reference_length(c1)}"
        compare("simulated 30x (normal)", [normal], ref, five, tmp)
        compare("simulated 60x (tumour)", [tumor], ref, five, tmp)
        som = compare("simulated 60x + 30x (somatic)", [tumor, normal], ref, five, tmp)
        two = compare("simulated 60x + 30x, --threads 2", [tumor, normal], ref, five, tmp, ["--threads", "2"])
        print(f"\nspeed-up with 2 threads: {som['ours'] / two['ours']:.2f}x "
              f"({som['ours']:.1f} s -> {two['ours']:.1f} s)\n")
        print("| region size (somatic 60x + 30x, default partition 500 kb) | reads | wall | µs per read | peak RSS |")
        print("|---|---|---|---|---|")
        n1 = fa.get_reference_length(c1)
        regions = {"1 Mb": [f"{c1}:1-1000000"], f"{n1 / 1e6:g} Mb ({c1})": [five],
                   f"{(n1 + fa.get_reference_length(c2)) / 1e6:g} Mb ({c1} + {c2})": [c1, c2]}
        for label, reg in regions.items():
            out = tmp / f"scale{label[:-3]}"
            wall, mem = timed(["oncorisk", "-q", "tensors", "--bam", tumor, "--normal-bam", normal, "--ref", ref,
                               "--regions", *reg, "--out", str(out)])
            n = sum(reads_in([tumor, normal], r) for r in reg)
            print(f"| {label} | {n:,} | {wall:.1f} s | {1e6 * wall / n:.1f} | {mem:.0f} MB |", flush=True)
            shutil.rmtree(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
