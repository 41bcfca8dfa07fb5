#!/usr/bin/env python
"""Where the attention-MIL imaging model looks: its out-of-fold AUC and attention mass on the tumour focus.

On the demo's simulated CLAM bags (500 patients by default, `truth/signal_patches.tsv` names each slide's tumour-focus
patches), 5-fold CV of the ABMIL imaging model (the stage's BagScaler and fit_mil, as `oncorisk fusion` trains it)
for each value of `fusion.patch_components` and each CV seed (folds and initialisation). Prints, per run, the
out-of-fold ROC AUC, and the attention mass on the focus over the focus's share (1 = uniform attention; the issue's
target is 10), overall and per fold. One run takes about a minute on 2 cores at 200 patients, 2.5 at 500.

Usage: python benchmarks/fusion_attention.py [--sim DIR] [--sim-seed 1] [--patients 500] [--cv-seeds 1 2 3]
       [--components 0 16 32 64]
"""

from __future__ import annotations

import argparse
import datetime
import platform
from pathlib import Path

import numpy as np
import pandas as pd


def simulate(out: Path, seed: int, patients: int) -> None:
    from oncorisk.config import validate_config
    from oncorisk.simulate.cohort import SimulationConfig, run_simulation

    cfg = validate_config({"seed": seed, "simulate": {"patients": patients, "bam_patients": 0}})
    run_simulation(SimulationConfig.from_config(cfg["simulate"], seed), out, threads=2)


def one_run(store, y, focus, components: int, seed: int) -> tuple[float, float, list[float]]:
    """The ABMIL imaging model on the stage's folds (fusion.train.cv_splits, bag_model), CV seed ``seed``."""
    from sklearn.metrics import roc_auc_score

    from oncorisk.fusion.mil import BagScaler
    from oncorisk.fusion.train import Outcome, TrainConfig, bag_model, cv_splits

    cfg = TrainConfig(seed=seed, patch_components=components)
    n = len(y)
    xg, imask, oof, ratios = np.zeros((n, 1), np.float32), np.ones(n), np.zeros(n), []
    mass_all, share_all = [], []
    for k, tr, te, fit_idx, val_idx in cv_splits(cfg, y):
        scaler = BagScaler.fit(store, fit_idx, components)
        oof[te], _, att = bag_model(cfg, "imaging", xg, store, scaler, imask, Outcome(y, None, None), fit_idx, val_idx,
                                    tr, te, seed + 100 * k, [], 1, False)
        mass = [att[int(i)][0][focus[i]].sum() for i in te]
        share = [len(focus[i]) / len(att[int(i)][0]) for i in te]
        ratios.append(float(np.mean(mass) / np.mean(share)))
        mass_all += mass
        share_all += share
    return float(roc_auc_score(y, oof)), float(np.mean(mass_all) / np.mean(share_all)), ratios


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sim", default="/tmp/oncorisk-attention-sim", help="the demo cohort (simulated when absent)")
    ap.add_argument("--sim-seed", type=int, default=1)
    from oncorisk.config import default_config

    demo = default_config()["simulate"]["patients"]
    ap.add_argument("--patients", type=int, default=demo, help=f"of the simulated cohort (default: the demo's {demo})")
    ap.add_argument("--cv-seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--components", type=int, nargs="+", default=[0, 16, 32, 64])
    args = ap.parse_args()
    from oncorisk.fusion.bags import BagStore

    sim = Path(args.sim)
    if not (sim / "samples.tsv").exists():
        simulate(sim, args.sim_seed, args.patients)
    sheet = pd.read_csv(sim / "samples.tsv", sep="\t")
    store = BagStore([str(sim / p) for p in sheet["image_embedding"]])
    truth = pd.read_csv(sim / "truth" / "signal_patches.tsv", sep="\t").groupby("sample")["patch"].apply(list)
    focus = [truth[s] for s in sheet["sample"]]
    y = sheet["label"].to_numpy()
    print(f"# oncorisk fusion attention, {datetime.date.today()}, {platform.machine()}, python "
          f"{platform.python_version()}: {len(y)} patients, focus share {np.mean([len(f) / n for f, n in zip(focus, store.n)]):.3f}")
    for k in args.components:
        aucs, rs = [], []
        for seed in args.cv_seeds:
            auc, ratio, per_fold = one_run(store, y, focus, k, seed)
            aucs.append(auc)
            rs.append(ratio)
            print(f"patch_components {k:3d}  cv seed {seed}: AUC {auc:.3f}  attention/share {ratio:.2f}  "
                  f"per fold {' '.join(f'{r:.1f}' for r in per_fold)}", flush=True)
        print(f"patch_components {k:3d}  mean: AUC {np.mean(aucs):.3f}  attention/share {np.mean(rs):.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
