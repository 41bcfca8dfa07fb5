"""What the fusion stage writes beyond the risks: survival metrics with CIs, and what drove the slide's part of
the score (per-slide attention in CLAM's blockmap layout, the pathway tokens' co-attention, heatmaps).

``attention/<sample>.h5`` (one per patient with patches; CLAM's ``create_heatmaps`` blockmap layout):
  - ``attention_scores`` float32 (N,): the fused model's attention per patch, out-of-fold (the patient's own
    fold's model, which did not see it), summing to 1;
  - ``coords`` int32 (N, 2): the patch positions from the slide files (-1 where a file had none);
  - ``slide`` int32 (N,): which of the patient's slides (the order of ``image_embedding``) each patch is from;
  - ``attention_scores_imaging`` float32 (N,): the imaging-only ABMIL model's attention;
  - ``coattention`` float32 (P, N): each pathway token's attention over the patches, with the attribute
    ``pathways`` (P names) and ``token_weights`` (P,) the tokens' pooling weights; file attributes ``sources``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from oncorisk.fusion.metrics import bootstrap, c_index

ATTENTION_DIR = "attention"
HEATMAPS = "attention_heatmaps.png"
COATTENTION = "coattention.tsv"
HEATMAP_PATIENTS = 4


def survival_metrics(data, oof: dict, cv: dict, rounds: int, rng) -> dict:
    """Per model: Harrell's and Uno's (IPCW) c-index, and for the trained models the integrated Brier score of
    out-of-fold survival curves (fusion.survival.breslow_curves), each with a bootstrap 95% CI."""
    from oncorisk.fusion.survival import breslow_curves, brier_grid, integrated_brier, uno_c_index

    t, e = data.time, data.event
    grid = brier_grid(t, e)
    out = {}
    for m, score in oof.items():
        entry = {}
        for key, fn in (("c_index", c_index), ("c_index_ipcw", uno_c_index)):
            ci = bootstrap(lambda idx, s=score, fn=fn: fn(t[idx], e[idx], s[idx]), len(score), rng, rounds)
            entry[key] = dict(value=fn(t, e, score), ci=list(ci))
        folds = cv.get("train_risk", {}).get(m) or []
        if folds and len(grid):
            curves = np.zeros((len(score), len(grid)))
            for k, (tr, tr_risk) in enumerate(folds):
                te = np.flatnonzero(cv["fold"] == k)
                curves[te] = breslow_curves(tr_risk, t[tr], e[tr], score[te], grid)
            ci = bootstrap(lambda idx, c=curves: integrated_brier(t[idx], e[idx], c[idx], grid), len(score), rng,
                           rounds)
            entry["integrated_brier"] = dict(value=integrated_brier(t, e, curves, grid), ci=list(ci))
        out[m] = entry
    return out


def write_attention(out: Path, data, attention: dict, risk: pd.Series) -> None:
    """attention/<sample>.h5 for every patient with patches, coattention.tsv and the heatmap figure."""
    import h5py

    from oncorisk.fusion.train import token_columns

    folder = out / ATTENTION_DIR
    folder.mkdir()
    pathways = [data.genomic_names[j].split(":", 1)[-1] for j in token_columns(data.genomic_names)]
    rows = []
    for i in sorted(attention):
        a = attention[i]
        sample = data.samples[i]
        _, coords, slide = data.bags.get(i)
        with h5py.File(folder / f"{sample}.h5", "w", track_order=False) as fh:
            for name, value in (("attention_scores", a.fused.astype(np.float32)), ("coords", coords),
                                ("slide", slide), ("attention_scores_imaging", a.imaging.astype(np.float32)),
                                ("coattention", a.coattention.astype(np.float32))):
                fh.create_dataset(name, data=value, track_times=False)
            fh["coattention"].attrs["pathways"] = pathways
            fh["coattention"].attrs["token_weights"] = a.tokens.astype(np.float32)
            fh.attrs["sources"] = data.bags.info[i].sources
        for p, name in enumerate(pathways):
            top = int(np.argmax(a.coattention[p])) if a.coattention.shape[1] else -1
            rows.append(dict(sample=sample, pathway=name, token_weight=float(a.tokens[p]), top_patch=top,
                             top_x=int(coords[top, 0]) if top >= 0 else -1, top_y=int(coords[top, 1]) if top >= 0 else -1,
                             top_attention=float(a.coattention[p, top]) if top >= 0 else 0.0,
                             entropy=float(-(a.coattention[p] * np.log(a.coattention[p] + 1e-12)).sum())))
    pd.DataFrame(rows, columns=["sample", "pathway", "token_weight", "top_patch", "top_x", "top_y", "top_attention",
                                "entropy"]).to_csv(out / COATTENTION, sep="\t", index=False, float_format="%.6g")
    row = {s: i for i, s in enumerate(data.samples)}
    top = [row[s] for s in risk.sort_values(ascending=False, kind="stable").index
           if row[s] in attention][:HEATMAP_PATIENTS]
    heatmaps(out / HEATMAPS, data, attention, top, risk)


def heatmaps(path: Path, data, attention: dict, rows: list[int], risk: pd.Series,
             empty: str = "no patient with patches") -> None:
    """The highest-risk patients' patches at their slide positions, coloured by the fused model's attention."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, max(len(rows), 1), figsize=(3.6 * max(len(rows), 1), 3.8), squeeze=False)
    for ax, i in zip(axes[0], rows):
        _, coords, _ = data.bags.get(i)
        w = attention[i].fused
        xy = coords if (coords >= 0).all() else np.stack([np.arange(len(w)) % 32, np.arange(len(w)) // 32], axis=1)
        order = np.argsort(w, kind="stable")  # the most attended drawn last, on top
        sc = ax.scatter(xy[order, 0], xy[order, 1], c=w[order] * len(w), cmap="inferno", s=9, marker="s",
                        vmin=0, vmax=max(float(w.max() * len(w)), 1.0))
        ax.invert_yaxis()
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"{data.samples[i]} (risk {risk[data.samples[i]]:.2f}, {len(w)} patches)", fontsize=8)
        fig.colorbar(sc, ax=ax, fraction=0.046, pad=0.02, label="attention x N")
    if not rows:
        axes[0][0].text(0.5, 0.5, empty, ha="center", va="center")
        axes[0][0].axis("off")
    fig.suptitle("Fused model's attention over the slide (out-of-fold); 1 = uniform", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
