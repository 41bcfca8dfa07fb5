#!/usr/bin/env python
"""Power and calibration of the pathway ranking, through the workflow.

For each seed, a simulated cohort entering as VCFs (`simulate.bam_patients: 0`, 200 patients unless --patients) runs
`snakemake ... results/<cohort>/pathways/pathway_ranking.tsv` from nothing: seeds with drivers (PI3K-Akt and
MAPK perturbed) and null seeds (`simulate.null: true`). Prints, per seed, the top pathways with the GNN
statistic's q beside the evidence-z baseline's, and the held-out gene AUPRC of the GNN and its baselines.
Goals (issue #16): with drivers, PI3K-Akt and MAPK are the top 2 with q < 0.05; null, no pathway at q < 0.05
in at least 9 of 10 seeds.

Usage: python benchmarks/pathway_calibration.py [--signal 2 3] [--null 11 12 ... 20] [--patients 200] [--demo]
"""

from __future__ import annotations

import argparse
import datetime
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

from oncorisk import __version__

REPO = Path(__file__).resolve().parents[1]


def run(tmp: Path, seed: int, null: bool | None, patients: int) -> dict:
    """null None: the default demo (8 BAM patients, the demo's size), else a VCF-entry cohort of ``patients``."""
    d = tmp / f"s{seed}{'n' if null else ''}"
    d.mkdir()
    cfg = {"cohort": "cal", "seed": seed}
    if null is not None:
        cfg["simulate"] = {"bam_patients": 0, "null": null, "patients": patients}
    (d / "config.yaml").write_text(yaml.safe_dump(cfg))
    t = time.time()
    subprocess.run(["snakemake", "results/cal/pathways/pathway_ranking.tsv", "--snakefile", str(REPO / "Snakefile"),
                    "--configfile", str(d / "config.yaml"), "--cores", "2", "--directory", str(d), "--quiet"],
                   check=True, capture_output=True)
    wall = time.time() - t
    r = pd.read_csv(d / "results/cal/pathways/pathway_ranking.tsv", sep="\t")
    m = json.loads((d / "results/cal/pathways/gnn_metrics.json").read_text())
    return dict(seed=seed, null=null, wall=wall, ranking=r, metrics=m)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--signal", type=int, nargs="*", default=[2, 3])
    ap.add_argument("--null", type=int, nargs="*", default=list(range(11, 21)))
    ap.add_argument("--patients", type=int, default=200, help="of each VCF-entry cohort (the figures in the docs: 200)")
    ap.add_argument("--demo", action="store_true", help="also the default demo (seed 1, 8 BAM patients)")
    args = ap.parse_args()
    print(f"# oncorisk {__version__} pathway calibration, {datetime.date.today()}, 2 cores")
    print("| cohort | seed | top 3 (q; baseline q) | PI3K-Akt & MAPK top 2, q < 0.05 | any q < 0.05 | GNN AUPRC "
          "| best baseline AUPRC | weak own evidence: GNN / same baseline (positives) | wall |\n"
          "|---|---|---|---|---|---|---|---|---|")
    runs = [(s, False) for s in args.signal] + [(s, True) for s in args.null] + ([(1, None)] if args.demo else [])
    clean = 0
    with tempfile.TemporaryDirectory() as t:
        for seed, null in runs:
            res = run(Path(t), seed, null, args.patients)
            r, m = res["ranking"], res["metrics"]
            top = ", ".join(f"{p} ({q:.3g}; {bq:.3g})" for p, q, bq in r[["pathway", "q", "baseline_q"]].head(3).values)
            lead = set(r["pathway"].head(2)) == {"PI3K-Akt", "MAPK"} and bool((r["q"].head(2) < 0.05).all())
            anysig = bool((r["q"] < 0.05).any())
            clean += bool(null) and not anysig
            pooled = m["pooled"]
            best = max((k for k in pooled if k != "gnn"), key=lambda k: pooled[k]["auprc"])
            low = m["low_own_evidence"]
            weak = (f"{low['pooled']['gnn']['auprc']:.3f} / {low['pooled'][best]['auprc']:.3f} ({low['positives']})"
                    if low["positives"] else "no positives")
            kind = {None: "demo", False: "drivers", True: "null"}[null]
            print(f"| {kind} | {seed} | {top} | {'yes' if lead else 'no'} | {'yes' if anysig else 'no'} | "
                  f"{pooled['gnn']['auprc']:.3f} | {best} {pooled[best]['auprc']:.3f} | {weak} | {res['wall']:.0f} s |",
                  flush=True)
    if args.null:
        print(f"null seeds without any q < 0.05: {clean} of {len(args.null)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
