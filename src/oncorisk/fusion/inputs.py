"""Inputs of the fusion stage: genomic features, imaging embeddings and labels, checked against each other."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from oncorisk.errors import UserError
from oncorisk.io.tables import read_table

if TYPE_CHECKING:
    from oncorisk.fusion.bags import BagStore

log = logging.getLogger(__name__)
# below this fraction of the sheet's samples in the genomic features, the ids almost surely do not match
# (e.g. TCGA barcodes cut at another length): refused rather than trained on zeros
MIN_FEATURE_OVERLAP = 0.5


@dataclass
class FusionData:
    """Aligned per-sample arrays (rows = samples)."""

    samples: list[str]
    genomic: np.ndarray
    genomic_names: list[str]
    imaging: np.ndarray  # NaN rows where a sample has no embedding
    imaging_names: list[str]
    has_imaging: np.ndarray
    label: np.ndarray | None
    time: np.ndarray | None
    event: np.ndarray | None
    bags: "BagStore | None" = None  # patch-feature bags (rows = samples); None when each image is one vector


def load_embedding_table(path: str | Path) -> pd.DataFrame:
    """All embeddings in one table (CSV/TSV/Parquet) with a `sample` column and one column per dimension."""
    path = Path(path)
    try:
        df = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(
            path, sep="\t" if path.suffix == ".tsv" else ",", dtype={"sample": str}, keep_default_na=False)
    except Exception as exc:  # noqa: BLE001 - any reader error becomes one line
        raise UserError(f"{path}: not a readable embedding table ({str(exc).splitlines()[0]}): give a table with a "
                        f"sample column and one numeric column per dimension") from None
    if "sample" not in df.columns:
        raise UserError(f"{path}: no 'sample' column: an embedding table needs sample + one column per dimension")
    dup = df["sample"][df["sample"].duplicated()]
    if len(dup):
        raise UserError(f"{path}: column sample: bad value {dup.iloc[0]!r}: duplicate sample: one row per sample")
    df = df.set_index("sample")
    try:
        return df.astype(float)
    except (ValueError, TypeError):
        bad = next(c for c in df.columns if pd.to_numeric(df[c], errors="coerce").isna().any())
        value = df[bad][pd.to_numeric(df[bad], errors="coerce").isna()].iloc[0]
        raise UserError(f"{path}: column {bad!r}: bad value {value!r}: every dimension must be a number") from None


def _indexed(df: pd.DataFrame, column: str, path, what: str) -> pd.DataFrame:
    if column not in df.columns:
        raise UserError(f"{path}: header: no {column!r} column: give {what}")
    df = df.copy()
    df[column] = df[column].astype(str)
    return df.set_index(column)


def assemble(sheet, pathway_scores: str, impact_matrix: str | None, tmb: str | None, embeddings: str | None,
             max_genes: int = 10, gene_scores: str | None = None, encoder: str | None = None,
             cache_bytes: int = 1 << 30) -> FusionData:
    """Join the sample sheet, the genomic features and the embeddings; report and reject inconsistencies."""
    samples = [s.sample for s in sheet]
    ps = _indexed(read_table(pathway_scores, "--pathway-scores"), "sample", pathway_scores,
                  "the pathways stage's pathway_scores.parquet")
    parts = [ps.add_prefix("pathway:")]
    if impact_matrix:
        m = _indexed(read_table(impact_matrix, "--impact"), "gene", impact_matrix,
                     "the impact stage's impact_matrix.parquet")
        if gene_scores:  # the genes with the most cohort evidence (pathways stage), no outcome used
            gs = read_table(gene_scores, "--gene-scores", keep_default_na=False)
            rank = _indexed(gs, "gene", gene_scores, "the pathways stage's gene_scores.tsv")
            if "evidence_z" not in rank.columns:
                raise UserError(f"--gene-scores {gene_scores}: header: no column evidence_z: give the pathways "
                                f"stage's gene_scores.tsv")
            rank = pd.to_numeric(rank["evidence_z"], errors="coerce").fillna(0.0)
        else:  # else the most often hit
            rank = (m > 0).mean(axis=1)
        rank = rank[rank.index.isin(m.index) & (rank > 0)]
        keep = rank.sort_values(ascending=False, kind="stable").index[:max_genes]
        parts.append(m.loc[sorted(keep)].T.add_prefix("gene:"))
    if tmb:
        t = _indexed(read_table(tmb, "--tmb"), "sample", tmb, "the impact stage's tmb.tsv")
        if "nonsynonymous" not in t.columns:
            raise UserError(f"--tmb {tmb}: header: no column nonsynonymous: give the impact stage's tmb.tsv")
        parts.append(t[["nonsynonymous"]].rename(columns={"nonsynonymous": "TMB"}))
    gen = pd.concat(parts, axis=1)
    missing = [s for s in samples if s not in gen.index]
    if samples and len(missing) == len(samples):
        raise UserError(f"--pathway-scores {pathway_scores}: no sample of the sample sheet is in it (sheet: "
                        f"{', '.join(samples[:3])}...; table: {', '.join(map(str, gen.index[:3]))}...): give the "
                        f"genomic features of this cohort (same sample ids)")
    if samples and len(missing) > (1 - MIN_FEATURE_OVERLAP) * len(samples):
        raise UserError(f"--pathway-scores {pathway_scores}: only {len(samples) - len(missing)} of the sheet's "
                        f"{len(samples)} samples are in it (at least {MIN_FEATURE_OVERLAP:.0%} must be; missing e.g. "
                        f"{', '.join(missing[:3])}): check the sample ids match, or leave unsequenced samples out "
                        f"of the sheet")
    if missing:
        log.warning("%d samples have no genomic features and get zeros (e.g. %s)", len(missing), ", ".join(missing[:3]))
    gen = gen.reindex(samples).fillna(0.0)
    imaging, has_imaging, bags = _imaging(sheet, samples, embeddings, encoder, cache_bytes)
    g = gen.to_numpy(dtype=float)
    if not np.isfinite(g).all():
        raise UserError(f"{pathway_scores}: NaN or infinite genomic features: rerun the impact and pathways stages")
    # outcomes: NaN where a patient's is missing (left out of the outcome model by select_outcome)
    label = time = event = None
    if any(s.label is not None for s in sheet):
        label = np.array([np.nan if s.label is None else s.label for s in sheet], dtype=float)
    known = [s.time is not None and s.event is not None for s in sheet]
    if any(known):
        time = np.array([s.time if k else np.nan for s, k in zip(sheet, known)], dtype=float)
        event = np.array([s.event if k else np.nan for s, k in zip(sheet, known)], dtype=float)
    return FusionData(samples, g, list(gen.columns), imaging, [f"img:{i:03d}" for i in range(imaging.shape[1])],
                      has_imaging, label, time, event, bags)


def _imaging(sheet, samples: list[str], embeddings: str | None, encoder: str | None, cache_bytes: int):
    """(imaging n x D with NaN rows where a patient has no image, has_imaging, the BagStore or None).

    One vector per patient (``--embeddings`` table, or one-vector files): the vectors. Patch-feature bags: each
    patient's mean patch (the linear and mean-pooling baselines' input), and the store the attention models read.
    """
    from oncorisk.fusion.bags import BagStore

    table = load_embedding_table(embeddings) if embeddings else None
    if table is not None:
        extra = sorted(set(table.index) - set(samples))
        if extra:
            log.warning("%s: %d embeddings belong to samples not in the sample sheet (e.g. %s)", embeddings,
                        len(extra), ", ".join(extra[:3]))
    cells = [None if table is not None and s.sample in table.index else s.image_embedding for s in sheet]
    store = BagStore(cells, encoder, cache_bytes)
    if store.is_bag():
        if table is not None:
            raise UserError(f"--embeddings {embeddings}: one vector per patient, but the sheet's slides are patch-"
                            f"feature bags (e.g. {next(c for c in cells if c)}): give either the table or the bags")
        imaging = np.full((len(samples), store.dim), np.nan)
        imaging[store.has_image] = store.mean()[store.has_image]
        _warn_without(samples, store.has_image)
        return imaging, store.has_image.copy(), store
    vectors = {s.sample: table.loc[s.sample].to_numpy(dtype=float) for s in sheet
               if table is not None and s.sample in table.index}
    dims = {len(v) for v in vectors.values()}
    if len(dims | ({store.dim} if store.has_image.any() else set())) > 1:
        raise UserError(f"--embeddings {embeddings}: {dims.pop()} dimensions, the sheet's image files "
                        f"{store.dim}: every embedding must come from the same imaging model")
    dim = dims.pop() if dims else store.dim
    imaging = np.full((len(samples), dim), np.nan)
    for i, s in enumerate(samples):
        if s in vectors:
            if not np.isfinite(vectors[s]).all():
                raise UserError(f"{embeddings}: sample {s!r}: embedding has NaN or infinite values: recompute it, or "
                                f"drop the row so the sample is treated as missing its image")
            imaging[i] = vectors[s]
        elif store.has_image[i]:
            imaging[i] = store.get(i)[0][0]
    has = np.isfinite(imaging).all(axis=1) if dim else np.zeros(len(samples), dtype=bool)
    _warn_without(samples, has)
    return imaging, has, None


def _warn_without(samples: list[str], has: np.ndarray) -> None:
    without = [s for s, h in zip(samples, has) if not h]
    if without:
        log.warning("%d samples have no imaging embedding and are scored from genomics alone (e.g. %s)",
                    len(without), ", ".join(without[:3]))


def outcome_kind(outcome: str, any_label: bool) -> str:
    """``binary`` or ``survival``: the outcome the fusion stage models for ``--outcome`` (``label``,
    ``survival``, or ``auto``: the label where any patient has one, else survival). The workflow asks the same
    question before any data exists, to know which figures the report gets."""
    return "binary" if outcome == "label" or (outcome == "auto" and any_label) else "survival"


def select_outcome(data: FusionData, outcome: str = "auto") -> tuple[FusionData, list[str]]:
    """The patients with a known outcome (label, or time and event), and the ids of those left out.

    ``outcome``: ``label``, ``survival``, or ``auto`` (the label where any patient has one, else survival). A
    patient without the chosen outcome keeps its impact and pathway scores; only the outcome model leaves it out.
    """
    use_label = outcome_kind(outcome, data.label is not None) == "binary"
    if use_label and data.label is not None:
        known = np.isfinite(data.label)
    elif not use_label and data.time is not None:
        known = np.isfinite(data.time) & np.isfinite(data.event)
    else:
        return data, []
    keep = np.flatnonzero(known)
    left_out = [data.samples[i] for i in np.flatnonzero(~known)]
    if left_out:
        log.warning("%d patients have no %s and are left out of the outcome model (e.g. %s)", len(left_out),
                    "label" if use_label else "time and event", ", ".join(left_out[:3]))
    sub = FusionData(
        [data.samples[i] for i in keep], data.genomic[keep], data.genomic_names, data.imaging[keep],
        data.imaging_names, data.has_imaging[keep],
        data.label[keep].astype(int) if use_label else None,
        None if use_label or data.time is None else data.time[keep],
        None if use_label or data.event is None else data.event[keep].astype(int),
        None if data.bags is None else data.bags.take(keep))
    return sub, left_out
