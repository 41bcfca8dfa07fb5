#!/usr/bin/env python
"""Benchmark the whole workflow: wall time and peak memory as genome size and coverage double, and the speed-up
from 1 to 2 cores.

Usage: python benchmarks/workflow.py [--sizes 1 2 4] [--coverages 30 60] [--patients 20]

Each run is `snakemake --cores N` from nothing in a fresh folder with a small cohort (20 patients, 1 with a
tumour/normal BAM pair; normal coverage half the tumour's; whole-genome capture, so reads grow with the
genome; proteins capped at 400 codons so that the 270 genes fit in 1 Mb; 200 permutations, 3 folds), so that
the read-level stages (simulation, tensors, calling) carry the growth. Peak memory is the largest resident set
of any job (GNU time on snakemake, which reports the maximum over its children).
The default demo (`snakemake --cores 2`, 500 patients) is measured the same way with --demo.
"""

from __future__ import annotations

import argparse
import datetime
import sys
import tempfile
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import timed  # noqa: E402

from oncorisk import __version__  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def run(tmp: Path, name: str, size_mb: float, coverage: int, cores: int, patients: int) -> tuple[float, float]:
    d = tmp / name
    d.mkdir()
    cfg = {"cohort": "bench", "seed": 1,
           "simulate": {"patients": patients, "bam_patients": 1, "genome_size": int(size_mb * 1_000_000),
                        "tumor_coverage": coverage, "normal_coverage": coverage // 2, "capture": "wgs",
                        "max_protein_length": 400},
           "pathways": {"permutations": 200, "folds": 3},
           "fusion": {"folds": 3, "bootstrap": 100, "shap_samples": 10}}
    (d / "config.yaml").write_text(yaml.safe_dump(cfg))
    return timed(["snakemake", "--snakefile", str(REPO / "Snakefile"), "--configfile", str(d / "config.yaml"),
                  "--cores", str(cores), "--directory", str(d), "--quiet"])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=float, nargs="+", default=[1, 2, 4])
    ap.add_argument("--coverages", type=int, nargs="+", default=[30, 60])
    ap.add_argument("--patients", type=int, default=20)
    ap.add_argument("--demo", action="store_true", help="also time the default demo (about 4 minutes)")
    args = ap.parse_args()
    print(f"# oncorisk {__version__} workflow benchmark, {datetime.date.today()}, 2 cores")
    print("| genome | tumour / normal coverage | cores | wall | peak RSS (largest job) |\n|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        walls = {}
        for cov in args.coverages:
            for size in args.sizes:
                wall, mem = run(tmp, f"s{size}c{cov}", size, cov, 2, args.patients)
                walls[(size, cov)] = wall
                print(f"| {size:g} Mb | {cov}x / {cov // 2}x | 2 | {wall:.0f} s | {mem:.0f} MB |", flush=True)
        size, cov = args.sizes[len(args.sizes) // 2], args.coverages[-1]
        wall1, mem1 = run(tmp, "one-core", size, cov, 1, args.patients)
        print(f"| {size:g} Mb | {cov}x / {cov // 2}x | 1 | {wall1:.0f} s | {mem1:.0f} MB |")
        print(f"\nspeed-up from 1 to 2 cores ({size:g} Mb, {cov}x): {wall1 / walls[(size, cov)]:.2f}x")
        if args.demo:
            d = tmp / "demo"
            d.mkdir()
            wall, mem = timed(["snakemake", "--snakefile", str(REPO / "Snakefile"), "--configfile",
                               str(REPO / "config.yaml"), "--cores", "2", "--directory", str(d), "--quiet"])
            print(f"\ndefault demo (snakemake --cores 2): {wall:.0f} s, peak {mem:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
