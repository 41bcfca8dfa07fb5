"""Run the fusion stage: CV training of fused and unimodal models, metrics with CIs, figures, SHAP, explanations."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from oncorisk.errors import UserError
from oncorisk.fusion.inputs import FusionData, assemble
from oncorisk.fusion.metrics import binary_metrics, bootstrap, c_index, youden_threshold
from oncorisk.fusion.report import HEATMAPS, heatmaps, survival_metrics, write_attention
from oncorisk.fusion.survival import km_curve
from oncorisk.fusion.train import TrainConfig, cross_validate, fit
from oncorisk.io.atomic import atomic_dir
from oncorisk.io.provenance import file_checksums, stage_info, write_info
from oncorisk.repro import pick_device

log = logging.getLogger(__name__)
MODELS = ("fused", "genomic", "imaging", "imaging_meanpool")


@dataclass
class FusionOptions:
    samples: str
    pathway_scores: str
    out: str
    impact_matrix: str | None = None
    tmb: str | None = None
    embeddings: str | None = None
    variants: str | None = None
    gene_sets: str | None = None
    gene_scores: str | None = None
    max_genes: int = 10
    threshold: float | None = None
    bootstrap_rounds: int = 1000
    shap_samples: int = 100
    explain_top: int = 5
    outcome: str = "auto"  # auto (label when given, else survival) | label | survival
    encoder: str | None = None  # the patch encoder the slides' features come from (checked against TRIDENT's attrs)
    train: TrainConfig = field(default_factory=TrainConfig)
    force: bool = False  # write into a non-empty --out (io.atomic's output rule)
    threads: int | None = None  # torch's CPU threads; results are identical for the same count (None: torch's own)


def _check(data: FusionData, folds: int, outcome: str = "auto") -> str:
    """'binary' or 'survival'; stop on data that cannot be cross-validated."""
    n = len(data.samples)
    if outcome == "survival":
        if data.time is None:
            raise UserError("sample sheet: columns time and event: survival mode needs both (patients without them are "
                            "left out)")
        data.label = None
    elif outcome == "label" and data.label is None:
        raise UserError("sample sheet: column label: missing: give a 0/1 label for every sample, or use survival mode")
    if data.label is not None:
        classes, counts = np.unique(data.label, return_counts=True)
        if len(classes) < 2:
            raise UserError(f"sample sheet: column label: every sample has label {classes[0]}: with one class there "
                            f"is nothing to predict and cross-validation is impossible; give both 0 and 1")
        if counts.min() < folds:
            raise UserError(f"sample sheet: column label: only {counts.min()} samples of class "
                            f"{classes[counts.argmin()]} for {folds} folds: lower fusion folds or add samples")
        return "binary"
    if data.time is not None:
        if data.event.sum() < folds:
            raise UserError(f"sample sheet: column event: {int(data.event.sum())} events for {folds} folds: "
                            f"lower fusion folds or add samples")
        return "survival"
    if n < folds:
        raise UserError(f"fusion: {n} samples for {folds} folds: give more samples than folds")
    raise UserError("sample sheet: no label, nor time and event: fusion needs outcomes to learn from")


def main_model(oof: dict) -> str:
    """The model whose risk is reported: fused, or genomic in a cohort without images (no fused model)."""
    return "fused" if "fused" in oof else "genomic"


def single_feature_baseline(x: np.ndarray, names: list[str], fold: np.ndarray, score) -> tuple[np.ndarray, list[str]]:
    """Out-of-fold scores of the best single feature: in each fold, the column of ``x`` (and its sign) that
    scores best on the training patients (``score(rows, values)``: AUC or c-index) scores the held-out ones.
    Returns the scores and the feature chosen in each fold ('-' prefix: lower is riskier)."""
    out = np.zeros(len(fold))
    chosen: list[str] = []
    for k in np.unique(fold):
        tr, te = np.flatnonzero(fold != k), np.flatnonzero(fold == k)
        best = (0.0, -1, 1.0)
        for j in range(x.shape[1]):
            v = score(tr, x[tr, j])
            if v is not None and np.isfinite(v) and abs(v - 0.5) > best[0]:
                best = (abs(v - 0.5), j, 1.0 if v >= 0.5 else -1.0)
        if best[1] >= 0:
            out[te] = best[2] * x[te, best[1]]
            chosen.append(("" if best[2] > 0 else "-") + names[best[1]])
        else:
            chosen.append("none")
    return out, chosen


def baselines(data: FusionData, fold: np.ndarray, mode: str) -> tuple[dict[str, np.ndarray], dict[str, list[str]]]:
    """Simple peers on the same folds: TMB alone (baseline_tmb) and the best single gene (baseline_best_gene)."""
    from sklearn.metrics import roc_auc_score

    if mode == "binary":
        def score(rows, v):
            y = data.label[rows]
            return roc_auc_score(y, v) if len(np.unique(y)) == 2 else None
    else:
        def score(rows, v):
            return c_index(data.time[rows], data.event[rows], v)
    scores, chosen = {}, {}
    for name, feature in (("baseline_tmb", lambda n: n == "TMB"), ("baseline_best_gene", lambda n: n.startswith("gene:"))):
        cols = [j for j, n in enumerate(data.genomic_names) if feature(n)]
        if cols:
            scores[name], chosen[name] = single_feature_baseline(
                data.genomic[:, cols], [data.genomic_names[j] for j in cols], fold, score)
    return scores, chosen


def _survival_figure(out: Path, time: np.ndarray, event: np.ndarray, oof: dict, metrics: dict) -> None:
    """Kaplan-Meier curves of the patients above and below the median out-of-fold risk of the main model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    main = main_model(oof)
    high = oof[main] > np.median(oof[main])
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for group, colour, name in ((~high, "#2e86c1", "low risk"), (high, "#c0392b", "high risk")):
        x, y = km_curve(time[group], event[group])
        ax.step(x, y, where="post", color=colour, label=f"{name} (n={int(group.sum())}, {int(event[group].sum())} events)")
    c = metrics[main]["c_index"]
    ax.set_title(f"Kaplan-Meier by out-of-fold {main} risk (median split); c-index {c['value']:.3f} "
                 f"[{c['ci'][0]:.3f}, {c['ci'][1]:.3f}]", fontsize=9)
    ax.set_xlabel("time")
    ax.set_ylabel("survival")
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "kaplan_meier.png", dpi=120)
    plt.close(fig)


def _figures(out: Path, y, oof: dict, threshold: float, metrics: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.calibration import calibration_curve
    from sklearn.metrics import confusion_matrix, roc_curve

    fig, ax = plt.subplots(figsize=(5, 5))
    for m, colour in zip(MODELS, ("#c0392b", "#2e86c1", "#7d3c98")):
        if m in oof:
            fpr, tpr, _ = roc_curve(y, oof[m])
            auc = metrics[m]["roc_auc"]
            ax.plot(fpr, tpr, color=colour, label=f"{m}: AUC {auc['value']:.3f} [{auc['ci'][0]:.3f}, {auc['ci'][1]:.3f}]")
    ax.plot([0, 1], [0, 1], "--", color="grey", linewidth=1)
    ax.set_xlabel("1 - specificity")
    ax.set_ylabel("sensitivity")
    ax.set_title("ROC, out-of-fold")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "roc.png", dpi=120)
    plt.close(fig)
    main = main_model(oof)
    prob = 1 / (1 + np.exp(-oof[main]))
    frac, mean_pred = calibration_curve(y, prob, n_bins=8, strategy="quantile")
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot(mean_pred, frac, "o-", color="#c0392b", label=main)
    ax.plot([0, 1], [0, 1], "--", color="grey", linewidth=1)
    ax.set_xlabel("predicted probability")
    ax.set_ylabel("observed fraction positive")
    ax.set_title("Calibration, out-of-fold")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "calibration.png", dpi=120)
    plt.close(fig)
    cm = confusion_matrix(y, (oof[main] >= threshold).astype(int), labels=[0, 1])
    fig, ax = plt.subplots(figsize=(4, 4))
    ax.imshow(cm, cmap="Blues")
    for (r, c), v in np.ndenumerate(cm):
        ax.text(c, r, str(v), ha="center", va="center", fontsize=12)
    ax.set_xticks([0, 1], ["pred 0", "pred 1"])
    ax.set_yticks([0, 1], ["true 0", "true 1"])
    ax.set_title(f"Confusion matrix (threshold {threshold:.2f})")
    fig.tight_layout()
    fig.savefig(out / "confusion_matrix.png", dpi=120)
    plt.close(fig)


def shap_wrapper(model, n_genomic: int):
    """The fused model as one function of [genomic | imaging] columns (all images present), for SHAP."""
    import torch

    class Wrapped(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.m = model

        def forward(self, z):
            return self.m(z[:, :n_genomic], z[:, n_genomic:], torch.ones(len(z))).unsqueeze(-1)

    return Wrapped().eval()


def explain(opts: FusionOptions, data: FusionData, cfg: TrainConfig, mode: str, out: Path) -> pd.DataFrame:
    """SHAP values (GradientExplainer) of a fused model fitted on all samples; beeswarm plot; global ranking."""
    import shap
    import torch
    from sklearn.model_selection import train_test_split

    strat = data.label if mode == "binary" else data.event
    idx = np.arange(len(data.samples))
    fit_idx, val_idx = train_test_split(idx, test_size=0.2, random_state=cfg.seed, stratify=strat)
    # one vector per image: the fused model over [genomic | imaging]; with patch bags the genomic model (the
    # slide's part is explained by the attention maps)
    xi = np.nan_to_num(data.imaging) if data.bags is None else np.zeros((len(data.samples), 0))
    mask = data.has_imaging.astype(float)
    model, scalers = fit(cfg, data.genomic, xi, mask, data.label, data.time, data.event, fit_idx, val_idx,
                         "fused" if xi.shape[1] else "genomic", cfg.seed)
    from oncorisk.fusion.train import _standardise

    g = _standardise(scalers[0], data.genomic)[1]
    i = _standardise(scalers[1], xi)[1] if xi.shape[1] else xi
    x = np.concatenate([g, i], axis=1).astype(np.float32)
    ng = g.shape[1]

    wrapped = shap_wrapper(model.cpu(), ng)
    rng = np.random.default_rng(cfg.seed)
    background = torch.as_tensor(x[rng.choice(len(x), size=min(100, len(x)), replace=False)])
    chosen = np.sort(rng.choice(len(x), size=min(opts.shap_samples, len(x)), replace=False))
    explainer = shap.GradientExplainer(wrapped, background)
    values = explainer.shap_values(torch.as_tensor(x[chosen]))
    values = np.asarray(values).reshape(len(chosen), -1)
    names = data.genomic_names + (data.imaging_names if xi.shape[1] else [])
    shap_df = pd.DataFrame(values, index=pd.Index([data.samples[k] for k in chosen], name="sample"), columns=names)
    shap_df.reset_index().to_parquet(out / "shap_values.parquet", index=False)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shap.summary_plot(values, x[chosen], feature_names=names, show=False, max_display=20)
    plt.gcf().set_size_inches(8, 7)
    plt.tight_layout()
    plt.savefig(out / "shap_summary.png", dpi=110)
    plt.close("all")
    top = pd.DataFrame({"feature": names, "mean_abs_shap": np.abs(values).mean(axis=0)})
    top["kind"] = [n.split(":", 1)[0] if ":" in n else "tmb" for n in names]
    top = top.sort_values("mean_abs_shap", ascending=False, kind="stable").reset_index(drop=True)
    top.to_csv(out / "shap_top_features.tsv", sep="\t", index=False, float_format="%.6g")
    return shap_df


def trace(opts: FusionOptions, shap_df: pd.DataFrame, risk: pd.Series) -> pd.DataFrame:
    """For the highest-risk explained patients: pathway -> genes -> variants behind their top genomic features."""
    from oncorisk.pathways.genesets import load_gmt

    sets = load_gmt(opts.gene_sets) if opts.gene_sets else {}
    variants = pd.read_csv(opts.variants, sep="\t", keep_default_na=False) if opts.variants else None
    rows = []
    for sample in risk.loc[risk.index.isin(shap_df.index)].sort_values(ascending=False).index[:opts.explain_top]:
        contrib = shap_df.loc[sample]
        genomic = contrib[[c for c in contrib.index if c.startswith(("pathway:", "gene:"))]]
        for feature, value in genomic.sort_values(ascending=False).head(3).items():
            kind, name = feature.split(":", 1)
            genes = sets.get(name, ("", []))[1] if kind == "pathway" else [name]
            hits = pd.DataFrame()
            if variants is not None:
                hits = variants[(variants["sample"] == sample) & variants["gene"].isin(genes) & (variants["f_w"] > 0.1)]
            if hits.empty:
                rows.append(dict(sample=sample, risk=risk[sample], feature=feature, shap=value, gene="", variant="",
                                 consequence=""))
            for h in hits.itertuples():
                rows.append(dict(sample=sample, risk=risk[sample], feature=feature, shap=value, gene=h.gene,
                                 variant=f"{h.contig}:{h.pos}:{h.ref}>{h.alt} {h.hgvsp_short}".strip(),
                                 consequence=h.consequence))
    return pd.DataFrame(rows, columns=["sample", "risk", "feature", "shap", "gene", "variant", "consequence"])


def run_fusion(opts: FusionOptions) -> dict:
    """Run the stage with torch, and the BLAS under numpy and scikit-learn (the patch projection, the linear
    baselines), on ``opts.threads`` CPU threads: a float sum's order depends on the thread count, so a run on a
    cluster node gives the same scores as a local one only with the same count (BLAS would otherwise take one
    thread per core of the machine)."""
    import contextlib

    import torch
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    if opts.threads:
        torch.set_num_threads(opts.threads)
    try:
        with threadpool_limits(limits=opts.threads, user_api="blas") if opts.threads else contextlib.nullcontext():
            return _run_fusion(opts)
    finally:
        torch.set_num_threads(before)


def _run_fusion(opts: FusionOptions) -> dict:
    from oncorisk.config import load_samples

    sheet = load_samples(opts.samples, mode="germline", check_files=True)
    data = assemble(sheet, opts.pathway_scores, opts.impact_matrix, opts.tmb, opts.embeddings, opts.max_genes,
                    opts.gene_scores, opts.encoder)
    from oncorisk.fusion.inputs import select_outcome

    data, no_outcome = select_outcome(data, opts.outcome)
    cfg = opts.train
    mode = _check(data, cfg.folds, opts.outcome)
    xi = np.nan_to_num(data.imaging)
    mask = data.has_imaging.astype(float)
    try:
        cv = cross_validate(cfg, data.genomic, xi, mask, data.label if mode == "binary" else None, data.time,
                            data.event, data.bags, data.genomic_names)
    except ValueError as exc:  # scikit-learn's stratified splits: a class too small for folds + inner validation
        column = "label" if mode == "binary" else "event"
        raise UserError(f"{opts.samples}: column {column}: {len(data.samples)} samples are too few for {cfg.folds} "
                        f"folds, each with a stratified inner validation split ({str(exc).splitlines()[0]}): lower "
                        f"fusion folds or add samples") from None
    oof = {m: v for m, v in cv["oof"].items() if m == "genomic" or xi.shape[1]}
    peer_scores, peer_features = baselines(data, cv["fold"], mode)
    oof.update(peer_scores)
    from oncorisk.fusion.linear import linear_baselines

    linear, penalties = linear_baselines(data.genomic, data.imaging, cv["fold"], data.label if mode == "binary"
                                         else None, data.time, data.event, cfg.seed)
    oof.update(linear)
    rng = np.random.default_rng(cfg.seed)
    metrics: dict = {"mode": mode, "n_samples": len(data.samples), "n_with_imaging": int(data.has_imaging.sum()),
                     "n_without_outcome": len(no_outcome)}
    if mode == "binary":
        y = data.label
        threshold = opts.threshold if opts.threshold is not None else youden_threshold(y, oof[main_model(oof)])
        metrics["threshold"] = threshold
        for m, score in oof.items():
            thr = opts.threshold if opts.threshold is not None else youden_threshold(y, score)
            point = binary_metrics(y, score, thr)
            metrics[m] = {}
            for name, value in point.items():
                ci = bootstrap(lambda idx, name=name: binary_metrics(y[idx], score[idx], thr)[name]
                               if len(np.unique(y[idx])) == 2 else None, len(y), rng, opts.bootstrap_rounds)
                metrics[m][name] = dict(value=value, ci=list(ci))
    else:
        metrics.update(survival_metrics(data, oof, cv, opts.bootstrap_rounds, rng))
    risk = pd.Series(oof[main_model(oof)], index=data.samples)
    with atomic_dir(opts.out, "fusion", opts.force) as tmp:
        table = pd.DataFrame({"sample": data.samples, "risk": risk.to_numpy(), "fold": cv["fold"]})
        if mode == "binary":
            table["predicted_class"] = (table["risk"] >= metrics["threshold"]).astype(int)
        for m in oof:
            table[f"risk_{m}"] = oof[m]
        table.to_csv(tmp / "risk.tsv", sep="\t", index=False, float_format="%.6g")
        table[["sample", "fold"]].to_csv(tmp / "splits.tsv", sep="\t", index=False)
        if mode == "binary":
            _figures(tmp, data.label, oof, metrics["threshold"], metrics)
        else:
            _survival_figure(tmp, data.time, data.event, oof, metrics)
        if opts.shap_samples > 0:
            shap_df = explain(opts, data, cfg, mode, tmp)
            trace(opts, shap_df, risk).to_csv(tmp / "top_risk_explanations.tsv", sep="\t", index=False,
                                             float_format="%.4g")
        if data.bags is not None:
            write_attention(tmp, data, cv["attention"], risk)
        elif any(s.image_embedding for s in sheet):  # the workflow's report expects the figure whenever slides exist
            heatmaps(tmp / HEATMAPS, data, {}, [], risk, "one vector per slide: no patch attention to show")
        metrics["config"] = asdict(cfg)
        metrics["baseline_features_per_fold"] = peer_features
        metrics["baseline_linear_penalty_per_fold"] = penalties
        write_info(tmp / "metrics.json", metrics)
        from oncorisk.config import SLIDE_SEPARATOR

        images = [p for s in sheet if s.image_embedding for p in s.image_embedding.split(SLIDE_SEPARATOR)]
        write_info(tmp / "run_info.json", stage_info(
            "fusion", opts, file_checksums([opts.samples, opts.pathway_scores, opts.impact_matrix, opts.tmb,
                                            opts.embeddings, opts.variants, opts.gene_sets, opts.gene_scores,
                                            *images]),
            seed=cfg.seed, device=str(pick_device(cfg.device)), genomic_features=data.genomic_names,
            imaging_dimensions=len(data.imaging_names), encoder=opts.encoder if data.bags is None else
            data.bags.encoder, slides=None if data.bags is None else data.bags.record(),
            patients_with_outcome=len(data.samples),
            patients_without_outcome=no_outcome))
    return metrics
