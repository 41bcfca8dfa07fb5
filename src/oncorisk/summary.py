"""The headline numbers of a run, as reStructuredText for the front page and captions of ``snakemake --report``.

``oncorisk report-summary --results results/<cohort> --out results/<cohort>/report`` reads the stages' result
files (no recomputation) and writes:

- ``summary.rst``: the front page's headline: fused / genomic / imaging ROC AUC (or c-index) with 95% CIs, beside
  the simpler models on the same folds (mean pooling of the patches, penalised linear models, TMB alone, the best
  single gene), so a reader sees where a simpler model wins; the top pathways with q, the TMB range, and calls per sample with their accuracy where truth is known;
- ``roc.rst``, ``tmb.rst``, ``top_pathways.rst``: one sentence of numbers each, included in the figure captions.

Files a run did not make (no BAM samples, so no calls; survival instead of a label) are left out of the text.
"""

from __future__ import annotations

import gzip
import json
import math
from pathlib import Path

import pandas as pd

from oncorisk.io.atomic import atomic_dir

MODELS = (("fused", "fused (genomic + imaging)"), ("genomic", "genomic only"), ("imaging", "imaging only"))
BASELINES = (("imaging_meanpool", "imaging, mean of the patches"), ("baseline_linear_fused", "penalised linear, both"),
             ("baseline_linear_genomic", "penalised linear, genomic"),
             ("baseline_linear_imaging", "penalised linear, imaging"), ("baseline_tmb", "TMB alone"),
             ("baseline_best_gene", "best single gene"))


def _fmt(x: float, digits: int = 3) -> str:
    return "NA" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def _q(q: float) -> str:
    return "NA" if q is None or math.isnan(q) else (f"{q:.2g}" if q >= 0.001 else f"{q:.1e}")


def risk_lines(metrics: dict) -> tuple[str, str]:
    """(front-page paragraph, ROC caption sentence) from fusion/metrics.json."""
    key, name = ("roc_auc", "ROC AUC") if metrics.get("mode") == "binary" else ("c_index", "c-index")

    def shown(models, bold):
        return [f"{label} {'**' if bold else ''}{_fmt(metrics[m][key]['value'])}{'**' if bold else ''} "
                f"[{_fmt(metrics[m][key]['ci'][0])}, {_fmt(metrics[m][key]['ci'][1])}]"
                for m, label in models if key in metrics.get(m, {})]

    parts, peers = shown(MODELS, True), shown(BASELINES, False)
    folds = metrics.get("config", {}).get("folds", "k")
    head = (f"**Risk** ({metrics.get('n_samples', '?')} patients, {metrics.get('n_with_imaging', 0)} with imaging; "
            f"out-of-fold {name} of {folds}-fold cross-validation, bootstrap 95% CI): " + "; ".join(parts) + ".")
    if peers:
        head += " Simpler models on the same folds: " + "; ".join(peers) + "."
    caption = f"Here: {name} " + "; ".join(p.replace("**", "") for p in parts) + "."
    return head, caption


def pathway_lines(ranking: pd.DataFrame, top: int = 5) -> tuple[str, str]:
    """(front-page list, caption sentence) from pathways/pathway_ranking.tsv."""
    tested = ranking[ranking["q"].notna()].head(top)
    items = [f"{i}. **{r.pathway}**: q = {_q(r.q)} (p = {_q(r.p)}; {int(r.genes_hit)} of {int(r.size)} genes hit; "
             f"leading: {str(r.leading_genes).replace(',', ', ')})" for i, r in enumerate(tested.itertuples(), 1)]
    n_sig = int((ranking["q"] < 0.05).sum())
    head = (f"**Top pathways** ({int(ranking['q'].notna().sum())} tested; {n_sig} at q < 0.05):\n\n" + "\n".join(items))
    caption = "Here: " + "; ".join(f"{r.pathway} q = {_q(r.q)}" for r in tested.head(3).itertuples()) + "."
    return head, caption


def tmb_lines(tmb: pd.DataFrame) -> tuple[str, str]:
    """(front-page paragraph, caption sentence) from impact/tmb.tsv."""
    v = pd.to_numeric(tmb["tmb"], errors="coerce").dropna()
    if v.empty:
        text = f"**TMB**: not measured ({tmb['callable_source'].iloc[0] if len(tmb) else 'no samples'})."
        return text, text.replace("**", "")
    high = int((v >= 10).sum())
    body = (f"median {_fmt(v.median(), 2)}, range {_fmt(v.min(), 2)} to {_fmt(v.max(), 2)} mutations/Mb over "
            f"{len(v)} samples; {high} at or above 10/Mb (TMB-high)")
    na = len(tmb) - len(v)
    if na:
        body += f"; {na} not measured"
    return f"**TMB**: {body}.", f"Here: {body}."


def count_calls(vcf: Path) -> dict[str, int]:
    """PASS SNVs and indels (alleles) in one of the caller's VCFs."""
    n = {"snv": 0, "indel": 0}
    with gzip.open(vcf, "rt") as fh:
        for line in fh:
            if line.startswith("#"):
                continue
            f = line.split("\t", 8)
            if f[6] != "PASS":
                continue
            for alt in f[4].split(","):
                n["snv" if len(f[3]) == len(alt) == 1 else "indel"] += 1
    return n


def calls_table(calls_dir: Path) -> str:
    """An rst list-table: per sample, PASS SNVs and indels and, with truth, precision / recall / F1."""
    rows = []
    for vcf in sorted(calls_dir.glob("*.vcf.gz")):
        sample = vcf.name[: -len(".vcf.gz")]
        n = count_calls(vcf)
        acc = {"SNV": "no truth", "INDEL": "no truth"}
        metrics = calls_dir / f"{sample}.metrics.json"
        if metrics.is_file():
            m = json.loads(metrics.read_text())
            acc = {k: f"{_fmt(m[k]['precision'])} / {_fmt(m[k]['recall'])} / {_fmt(m[k]['f1'])}" for k in acc}
        rows.append((sample, n["snv"], n["indel"], acc["SNV"], acc["INDEL"]))
    if not rows:
        return ""
    head = ("sample", "PASS SNVs", "PASS indels", "SNV precision / recall / F1", "indel precision / recall / F1")
    lines = ["**Calls per sample** (oncorisk's caller; accuracy against the truth where one is known):", "",
             ".. list-table::", "   :header-rows: 1", ""]
    for row in (head, *rows):
        lines += [f"   * - {row[0]}"] + [f"     - {c}" for c in row[1:]]
    return "\n".join(lines)


def write_report_summary(results: str | Path, out: str | Path, force: bool = False) -> dict[str, str]:
    """Write summary.rst and the caption snippets for the run under ``results``; returns {name: text}."""
    results = Path(results)
    texts: dict[str, str] = {}
    front = []
    metrics = results / "fusion" / "metrics.json"
    if metrics.is_file():
        head, texts["roc.rst"] = risk_lines(json.loads(metrics.read_text()))
        front.append(head)
    ranking = results / "pathways" / "pathway_ranking.tsv"
    if ranking.is_file():
        head, texts["top_pathways.rst"] = pathway_lines(pd.read_csv(ranking, sep="\t"))
        front.append(head)
    tmb = results / "impact" / "tmb.tsv"
    if tmb.is_file():
        head, texts["tmb.rst"] = tmb_lines(pd.read_csv(tmb, sep="\t"))
        front.append(head)
    table = calls_table(results / "calls")
    if table:
        front.append(table)
    texts["summary.rst"] = "\n\n".join(front) if front else "No stage results yet."
    with atomic_dir(out, "report-summary", force) as tmp:
        for name in ("summary.rst", "roc.rst", "top_pathways.rst", "tmb.rst"):
            (tmp / name).write_text(texts.get(name, "") + "\n")
    return texts
