"""Run the impact stage: read variants, annotate consequences, score Σ f·w per gene and sample, compute TMB."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from oncorisk.errors import UserError
from oncorisk.impact.annotation import Annotation, load_annotation
from oncorisk.genome.alleles import trim_alleles
from oncorisk.impact.consequence import Annotator
from oncorisk.impact.inputs import VariantTable, parse_vcf_argument, read_maf, read_vcf
from oncorisk.impact.scores import Weights, protein_position
from oncorisk.impact.terms import IMPACT, NONSYNONYMOUS
from oncorisk.io.atomic import atomic_dir
from oncorisk.io.intervals import read_bed, total_size
from oncorisk.io.provenance import file_checksums, stage_info, write_info
from oncorisk.io.text import read_text

log = logging.getLogger(__name__)

VARIANT_COLUMNS = ["sample", "contig", "pos", "ref", "alt", "gene", "transcript", "consequence", "all_terms",
                   "impact_class", "hgvsp", "hgvsp_short", "protein_pos", "codons", "vaf", "qual", "hotspot", "f",
                   "w", "f_w"]
MIN_CALLABLE_MB = 0.2  # below this, TMB is not reported (cBioPortal's rule)


@dataclass
class ImpactOptions:
    """Everything `oncorisk impact` is run with."""

    out: str
    vcfs: list[str] = field(default_factory=list)
    # the sheet's (sample, call file) rows: a file on many rows, and any MAF, is split by sample (read_sample_calls)
    sample_calls: list[tuple[str, str]] = field(default_factory=list)
    maf: str | None = None
    gtf: str | None = None
    ref: str | None = None
    samples: list[str] | None = None
    transcript_choice: str = "most_severe"
    use_existing: str = "none"
    chrom_alias: str = "auto"
    ref_mismatch: str = "skip"
    include_filtered: bool = False
    callable_bed: str | None = None
    callable_mb: float | None = None
    barcode_match: str = "exact"  # how sheet ids meet a cohort file's barcodes (inputs.match_barcodes)
    weights: Weights = field(default_factory=Weights)
    force: bool = False  # write into a non-empty --out (io.atomic's output rule)


def _alias_map(names: set[str], targets: set[str], mode: str, what: str, target_file: str) -> dict[str, str]:
    """Map contig names of an input onto the reference's (chr1 <-> 1, chrM <-> MT), or fail naming the mismatch."""
    mapping = {}
    table = {}
    if mode not in ("auto", "none"):
        rows = [line.split("\t") for line in read_text(mode, "auto, none, or a TSV from<TAB>to",
                                                        "--chrom-alias").splitlines() if line.strip()]
        table = {r[0]: r[1] for r in rows if len(r) >= 2}
    for name in sorted(names):
        if name in targets:
            continue
        candidates = [table.get(name)] if table else []
        if mode == "auto":
            candidates += [name.removeprefix("chr"), "chr" + name, {"MT": "chrM", "chrM": "MT", "M": "chrM"}.get(name)]
        match = next((c for c in candidates if c and c in targets), None)
        if match is None:
            shown = ", ".join(sorted(targets)[:5]) + (", ..." if len(targets) > 5 else "")
            hint = "add it to an alias TSV (from<TAB>to) given with --chrom-alias" if mode != "none" else \
                "use --chrom-alias auto (chr1 <-> 1) or an alias TSV (from<TAB>to)"
            raise UserError(f"{what}: contig {name!r} is not in {target_file} (its contigs: {shown}): {hint}")
        mapping[name] = match
    if mapping:
        log.warning("%s: contig names mapped onto %s: %s", what, target_file,
                    ", ".join(f"{a}->{b}" for a, b in sorted(mapping.items())[:10]))
    return mapping


def _align_annotation_contigs(ann: Annotation, ref_contigs: set[str], mode: str, ref: str) -> None:
    """Rename annotation contigs onto the reference's where they differ only by naming (chr1 <-> 1).

    Annotation contigs absent from the reference (patches, scaffolds) are left alone; none matching is an error.
    """
    mapping = {}
    if mode != "none":
        for name in ann.contigs - ref_contigs:
            try:
                mapping.update(_alias_map({name}, ref_contigs, mode, ann.path, ref))
            except UserError:
                continue
    if mapping:
        ann.contig = np.array([mapping.get(c, c) for c in ann.contig], dtype=object)
    if not ann.contigs & ref_contigs:
        shown = ", ".join(sorted(ann.contigs)[:5])
        raise UserError(f"{ann.path}: no contig ({shown}) is in {ref}: annotation and reference use different "
                        f"names; use --chrom-alias auto or an alias TSV (from<TAB>to)")


def pick_effects(table, ann: Annotation, choice: str) -> np.ndarray:
    """Row indices of ``table`` keeping one effect per (variant, gene).

    The canonical transcript's effect when ``choice`` is ``canonical`` and the gene has one; otherwise the most
    severe, ties broken by canonical first, then transcript id (deterministic).
    """
    if len(table) == 0:
        return np.zeros(0, dtype=np.int64)
    gene = ann.gene_code[table.tx]
    canon = ann.canonical[table.tx]
    prefer = ~canon if choice == "canonical" else np.zeros(len(table), dtype=bool)
    order = np.lexsort((ann.tx_order[table.tx], ~canon, table.rank, prefer, gene, table.var))
    v, g = table.var[order], gene[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = (v[1:] != v[:-1]) | (g[1:] != g[:-1])
    return order[first]


ROW_FIELDS = ("sample", "contig", "pos", "ref", "alt", "gene", "transcript", "all_terms", "hgvsp", "hgvsp_short",
              "protein_pos", "codons", "vaf", "qual")
EFFECT_FIELDS = ("gene", "transcript", "all_terms", "hgvsp", "hgvsp_short", "protein_pos", "codons")


def annotate_table(table: VariantTable, opts: ImpactOptions) -> tuple[dict[str, np.ndarray], list[dict], Annotation | None]:
    """Per-variant rows (one per sample, variant and gene hit) with consequences and f, w; plus skipped variants.

    Steps: contig names onto the reference's (``_reference_and_annotation``); the rows without a consequence
    of their own annotated once per distinct allele (``_distinct_alleles``, ``_annotate_contig`` with the REF
    check, ``_rows_with_effects``); pre-annotated rows (MAF, VEP/SnpEff) taken as they are
    (``_pre_annotated_rows``); then consequence, impact class and f, w (``_score``).

    Returns:
        (columns of VARIANT_COLUMNS as numpy arrays, skipped variants, the annotation or None).
    """
    col = {k: np.array(getattr(table, k), dtype=object) for k in ("sample", "contig", "ref", "alt", "gene",
                                                                   "consequence", "hgvsp_short")}
    col["pos"] = np.array(table.pos, dtype=np.int64)
    col["vaf"] = np.array(table.vaf, dtype=float)
    col["qual"] = np.array(table.qual, dtype=float)
    skipped: list[dict] = []
    pre = col["consequence"] != ""
    need_annotation = bool((~pre).any())
    if need_annotation and (not opts.gtf or not opts.ref):
        raise UserError("impact: VCF input needs --gtf and --ref to annotate consequences "
                        "(or --use-existing-annotation csq|ann for VCFs that carry VEP/SnpEff annotations)")
    fasta, ann = _reference_and_annotation(col, opts)
    parts: list[dict[str, np.ndarray]] = []
    if need_annotation:
        idx = np.flatnonzero(~pre)
        kid, key_rows = _distinct_alleles(col, idx)
        annotator = Annotator(ann)
        bad = np.zeros(len(key_rows), dtype=bool)
        k_contig = col["contig"][key_rows]
        eff_parts = [_annotate_contig(contig, np.flatnonzero(k_contig == contig), key_rows, col, fasta, ann,
                                      annotator, opts, table.source, bad, skipped)
                     for contig in pd.unique(k_contig)]
        parts.append(_rows_with_effects(eff_parts, len(key_rows), bad, kid, idx, col))
    if pre.any():
        parts.append(_pre_annotated_rows(col, np.flatnonzero(pre)))
    if len(parts) == 1:
        out = parts.pop()
    else:
        out = {k: np.concatenate([p.pop(k) for p in parts]) if parts else np.zeros(0, dtype=object)
               for k in ROW_FIELDS}
    del col, parts
    _score(out, opts.weights)
    return out, skipped, ann


def _reference_and_annotation(col: dict[str, np.ndarray], opts: ImpactOptions):
    """(the reference FASTA or None, the annotation or None), with the variants' and the annotation's contig
    names mapped onto the reference's (``--chrom-alias``; ``col["contig"]`` is rewritten in place)."""
    fasta = ann = None
    if opts.ref:
        from oncorisk.genome.fasta import open_reference

        fasta = open_reference(opts.ref)
        mapping = _alias_map(set(col["contig"].tolist()), set(fasta.references), opts.chrom_alias, "variants",
                             opts.ref)
        if mapping:
            col["contig"] = np.array([mapping.get(c, c) for c in col["contig"]], dtype=object)
    if opts.gtf:
        ann = load_annotation(opts.gtf)
        if opts.ref:
            _align_annotation_contigs(ann, set(fasta.references), opts.chrom_alias, opts.ref)
    return fasta, ann


def _distinct_alleles(col: dict[str, np.ndarray], idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(a key per row of ``idx``, one per distinct (contig, pos, ref, alt); a representative row of each key)."""
    # hashed codes, then unique rows
    site = pd.factorize(pd.factorize(col["contig"][idx])[0].astype(np.int64) * (1 << 32) + col["pos"][idx])[0]
    ref_code, _ref_u = pd.factorize(col["ref"][idx])
    alt_code = pd.factorize(col["alt"][idx])[0]
    allele = pd.factorize(ref_code.astype(np.int64) * (int(alt_code.max(initial=0)) + 1) + alt_code)[0]
    kid = pd.factorize(site.astype(np.int64) * (int(allele.max(initial=0)) + 1) + allele)[0].astype(np.int64)
    first = np.empty(int(kid.max(initial=-1)) + 1, dtype=np.int64)
    first[kid[::-1]] = np.arange(len(kid) - 1, -1, -1)  # first table row of each key
    return kid, idx[first]


def _annotate_contig(contig: str, kids: np.ndarray, key_rows: np.ndarray, col: dict[str, np.ndarray], fasta,
                     ann: Annotation, annotator: Annotator, opts: ImpactOptions, source: list[str],
                     bad: np.ndarray, skipped: list[dict]) -> dict[str, np.ndarray]:
    """The effects of one contig's distinct alleles (``kids``: key ids): REF checked against the FASTA (a
    mismatch is skipped and reported, or fails with ``--ref-mismatch fail``; marked in ``bad``), multi-base
    alleles normalised, one effect kept per allele and gene (``pick_effects``)."""
    rows = key_rows[kids]
    seq = fasta.fetch(contig).upper()
    seq_b = np.frombuffer(seq.encode(), dtype=np.uint8)
    refs_k, alts_k, pos_k = col["ref"][rows], col["alt"][rows], col["pos"][rows]
    simple = np.array([len(r) == 1 and len(a) == 1 for r, a in zip(refs_k, alts_k)], dtype=bool)
    ref_first = np.frombuffer("".join(r[:1] or "N" for r in refs_k).upper().encode(), dtype=np.uint8)
    in_range = (pos_k >= 1) & (pos_k <= len(seq_b))
    ends = pos_k + np.array([len(r) for r in refs_k], dtype=np.int64) - 1
    beyond = np.flatnonzero(~in_range | (ends > len(seq_b)))
    if len(beyond):
        j = int(beyond[0])
        raise UserError(f"variants ({source[int(rows[j])]}): {contig}:{int(pos_k[j])} REF {refs_k[j]!r}: "
                        f"beyond the end of {contig} in {opts.ref} ({len(seq_b):,} bp): the calls were made "
                        f"on another reference (build): give the FASTA they were called on")
    ok = in_range.copy()
    ok[in_range] = seq_b[pos_k[in_range] - 1] == ref_first[in_range]
    for j in np.flatnonzero(~simple & ok):  # multi-base REF: compare the whole allele
        ok[j] = seq[pos_k[j] - 1 : pos_k[j] - 1 + len(refs_k[j])] == refs_k[j].upper()
    for j in np.flatnonzero(~ok):
        p, ref, alt = int(pos_k[j]), refs_k[j], alts_k[j]
        genome = seq[p - 1 : p - 1 + len(ref)]
        if opts.ref_mismatch == "fail":
            raise UserError(f"variants: {contig}:{p}: REF {ref!r} but {opts.ref} has {genome!r}: "
                            f"the VCF was called on another reference; use the same FASTA, or "
                            f"--ref-mismatch skip to report and skip such variants")
        skipped.append(dict(contig=contig, pos=p, ref=ref, alt=alt, reason=f"REF differs from FASTA ({genome})"))
    bad[kids[~ok]] = True
    starts = pos_k - 1
    refs = [r.upper() for r in refs_k]
    alts = [a.upper() for a in alts_k]
    for j in np.flatnonzero(~simple & ok):
        starts[j], refs[j], alts[j] = trim_alleles(int(pos_k[j]) - 1, refs[j], alts[j])
    good = kids[ok].astype(np.int64)
    starts, refs, alts = starts[ok], [r for r, o in zip(refs, ok) if o], [a for a, o in zip(alts, ok) if o]
    effects = annotator.annotate(contig, seq, starts.astype(np.int64), refs, alts)
    keep = pick_effects(effects, ann, opts.transcript_choice)
    return dict(kid=good[effects.var[keep]], gene=ann.gene_name[effects.tx[keep]],
                transcript=ann.tx_id[effects.tx[keep]], all_terms=np.array(effects.terms, dtype=object)[keep],
                hgvsp=np.array(effects.hgvsp, dtype=object)[keep],
                hgvsp_short=np.array(effects.hgvsp_short, dtype=object)[keep], protein_pos=effects.protein_pos[keep],
                codons=np.array(effects.codons, dtype=object)[keep])


def _rows_with_effects(eff_parts: list[dict], n_keys: int, bad: np.ndarray, kid: np.ndarray, idx: np.ndarray,
                       col: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Join the distinct alleles' effects back onto the table rows ``idx`` (one row per sample, variant and gene
    hit); an allele with no gene is one intergenic row, an allele whose REF did not match none."""
    eff = {k: np.concatenate([p[k] for p in eff_parts]) if eff_parts else np.zeros(0, dtype=object)
           for k in ("kid",) + EFFECT_FIELDS}
    eff["kid"] = eff["kid"].astype(np.int64)
    eff["protein_pos"] = eff["protein_pos"].astype(np.int64)
    has = np.zeros(n_keys, dtype=bool)
    has[eff["kid"]] = True
    missing = np.flatnonzero(~has & ~bad)
    m = len(missing)
    blank = np.full(m, "", dtype=object)
    eff = {k: np.concatenate([eff[k], v]) for k, v in dict(
        kid=missing, gene=blank, transcript=blank, all_terms=np.full(m, "intergenic_variant", dtype=object),
        hgvsp=blank, hgvsp_short=blank, protein_pos=np.zeros(m, dtype=np.int64), codons=blank).items()}
    order = np.argsort(eff["kid"], kind="stable")
    eff = {k: v[order] for k, v in eff.items()}
    lo = np.searchsorted(eff["kid"], kid, side="left")
    hi = np.searchsorted(eff["kid"], kid, side="right")
    counts = hi - lo
    rows = np.repeat(idx, counts)
    eidx = np.repeat(lo - np.concatenate(([0], np.cumsum(counts)[:-1])), counts) + np.arange(int(counts.sum()))
    part = {k: col[k][rows] for k in ("sample", "contig", "ref", "alt", "pos", "vaf", "qual")}
    part.update({k: eff[k][eidx] for k in EFFECT_FIELDS})
    return part


def _pre_annotated_rows(col: dict[str, np.ndarray], rows: np.ndarray) -> dict[str, np.ndarray]:
    """Rows that carry their own consequence (MAF, VEP/SnpEff), as they are; the protein position from HGVS p."""
    blank = np.full(len(rows), "", dtype=object)
    part = {k: col[k][rows] for k in ("sample", "contig", "ref", "alt", "gene", "hgvsp_short", "pos", "vaf", "qual")}
    part.update(transcript=blank, all_terms=col["consequence"][rows], hgvsp=blank, codons=blank,
                protein_pos=np.array([protein_position(x) for x in col["hgvsp_short"][rows]], dtype=np.int64))
    return part


def _score(out: dict[str, np.ndarray], weights) -> None:
    """Add the leading consequence term, its impact class, f, w, the hotspot flag and f·w (genic rows only)."""
    codes, uniques = pd.factorize(out["all_terms"])
    out["consequence"] = np.array([t.split("&", 1)[0] for t in uniques], dtype=object)[codes] if len(uniques) \
        else out["all_terms"]
    cons_codes, cons_uniques = pd.factorize(out["consequence"])
    out["impact_class"] = np.array([IMPACT.get(t, "MODIFIER") for t in cons_uniques], dtype=object)[cons_codes] \
        if len(cons_uniques) else out["consequence"]
    genic = out["gene"] != ""
    f = weights.f_array(out["consequence"], out["vaf"], out["qual"])
    w, hot = weights.w_array(out["gene"], out["contig"], out["pos"], out["protein_pos"])
    out["f"] = np.where(genic, f, 0.0)
    out["w"] = np.where(genic, w, 0.0)
    out["hotspot"] = genic & hot
    out["f_w"] = out["f"] * out["w"]


def sort_rows(cols: dict[str, np.ndarray], samples: list[str]) -> dict[str, np.ndarray]:
    """Deterministic row order: sample (sheet order), contig, position, REF, ALT, gene."""
    if len(cols["pos"]) == 0:
        return cols
    order_of = {s: i for i, s in enumerate(samples)}
    s_code = np.array([order_of[s] for s in pd.unique(cols["sample"])])[pd.factorize(cols["sample"])[0]]
    keys = [pd.factorize(cols[k], sort=True)[0] for k in ("gene", "alt", "ref")]
    order = np.lexsort((*keys, cols["pos"], pd.factorize(cols["contig"], sort=True)[0], s_code))
    del keys, s_code
    for k in list(cols):  # one column at a time, so only one extra column is alive
        cols[k] = cols[k][order]
    return cols


def impact_matrix(cols: dict[str, np.ndarray], genes: list[str], samples: list[str]) -> pd.DataFrame:
    """genes × samples matrix of Σ f·w (zeros where a gene is not hit)."""
    mat = np.zeros((len(genes), len(samples)))
    genic = cols["gene"] != ""
    if genic.any():
        g_index = {g: i for i, g in enumerate(genes)}
        s_index = {s: i for i, s in enumerate(samples)}
        g_codes, g_uniq = pd.factorize(cols["gene"][genic])
        s_codes, s_uniq = pd.factorize(cols["sample"][genic])
        gi = np.array([g_index[g] for g in g_uniq])[g_codes]
        si = np.array([s_index[s] for s in s_uniq])[s_codes]
        np.add.at(mat, (gi, si), cols["f_w"][genic])
    frame = pd.DataFrame(mat, index=pd.Index(genes, name="gene"), columns=samples)
    return frame


def tumour_mutational_burden(cols: dict[str, np.ndarray], samples: list[str], callable_mb: float | None,
                             source: str, unmeasured: set[str] = frozenset()) -> pd.DataFrame:
    """Nonsynonymous mutations per callable megabase, per sample (NA below MIN_CALLABLE_MB, and NA for the
    ``unmeasured`` samples, which came without any calls: not measured is not zero)."""
    ns = np.isin(cols["consequence"], list(NONSYNONYMOUS))
    seen = set(zip(cols["sample"][ns].tolist(), cols["contig"][ns].tolist(), cols["pos"][ns].tolist(),
                   cols["ref"][ns].tolist(), cols["alt"][ns].tolist()))
    counts = pd.Series([s for s, *_ in seen], dtype=object).value_counts().reindex(samples, fill_value=0)
    ok = callable_mb is not None and callable_mb >= MIN_CALLABLE_MB
    measured = np.array([s not in unmeasured for s in samples], dtype=bool)
    return pd.DataFrame({
        "sample": samples,
        "nonsynonymous": pd.Series(counts.to_numpy(dtype=np.int64), dtype="Int64").mask(~measured).to_numpy(),
        "callable_mb": [round(callable_mb, 6) if callable_mb is not None else math.nan] * len(samples),
        "tmb": np.where(measured, counts.to_numpy() / callable_mb, math.nan) if ok else [math.nan] * len(samples),
        "callable_source": [source if m else "not measured: no calls (VCF) for this sample" for m in measured],
    })


TMB_HIGH = 10.0  # mutations per Mb: the FDA's TMB-high threshold (pembrolizumab, 2020)


def tmb_figure(tmb: pd.DataFrame, path: Path) -> None:
    """Per-sample TMB, sorted, with the cohort median and the TMB-high threshold (for the HTML report)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.5))
    values = tmb.sort_values(["tmb", "sample"], kind="stable")
    if values["tmb"].notna().any():
        ax.bar(range(len(values)), values["tmb"].fillna(0.0), width=1.0, color="#3b6ea8")
        ax.axhline(TMB_HIGH, color="#b03a2e", linestyle="--", linewidth=1,
                   label=f"TMB-high ({TMB_HIGH:g}/Mb): {int((values['tmb'] >= TMB_HIGH).sum())} samples")
        ax.axhline(float(values["tmb"].median()), color="grey", linestyle=":", linewidth=1,
                   label=f"median {values['tmb'].median():.1f}/Mb")
        ax.legend(loc="upper left", fontsize=8)
        ax.set_ylabel("nonsynonymous / Mb")
        ax.set_title(f"Tumour mutational burden ({values['callable_mb'].iloc[0]:.3g} Mb callable)")
    else:
        ax.text(0.5, 0.5, f"TMB not computed: {values['callable_source'].iloc[0]}", ha="center", va="center",
                transform=ax.transAxes)
        ax.set_title("Tumour mutational burden")
    ax.set_xlabel(f"{len(values)} samples, sorted by TMB")
    ax.set_xticks([])
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_tsv(cols: dict[str, np.ndarray], columns: list[str], path: Path) -> None:
    """Fast TSV writer (Arrow's C++ CSV writer): header, tab-separated, no quoting, NA as empty."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    arrays = []
    for c in columns:
        v = cols[c]
        arrays.append(pa.array(v, type=pa.string()) if v.dtype == object else pa.array(v))
    table = pa.Table.from_arrays(arrays, names=columns)
    with open(path, "wb") as fh:
        fh.write(("\t".join(columns) + "\n").encode())
        pacsv.write_csv(table, fh, pacsv.WriteOptions(delimiter="\t", quoting_style="none", include_header=False))


def run_impact(opts: ImpactOptions) -> dict:
    """Run the stage and write its outputs into ``opts.out`` (atomically). Returns a summary."""
    if not opts.vcfs and not opts.maf and not opts.sample_calls:
        if not opts.samples:
            raise UserError("impact: no input: give --vcf VCF [VCF ...], --maf MAF or --samples SHEET")
        log.warning("impact: the samples come without any calls: every TMB is NA")
    if opts.chrom_alias not in ("auto", "none") and not Path(opts.chrom_alias).is_file():
        raise UserError(f"--chrom-alias: bad value {opts.chrom_alias!r}: accepted: auto, none, or an existing TSV "
                        f"file from<TAB>to")
    table = VariantTable()
    seen_samples: list[str] = []
    for vcf in opts.vcfs:
        seen_samples += read_vcf(vcf, table, opts.include_filtered, opts.use_existing,
                                 opts.transcript_choice == "canonical")
    sample_calls = list(opts.sample_calls)
    if opts.maf and opts.samples:  # a MAF beside a sheet: the calls of the sheet's samples that have no file
        own = {s for s, _ in sample_calls}
        sample_calls += [(s, opts.maf) for s in opts.samples if s not in own]
    elif opts.maf:
        seen_samples += read_maf(opts.maf, table)
    measured: set[str] = set(seen_samples)
    cohort_files: list[dict] = []
    if sample_calls:
        from oncorisk.impact.inputs import read_sample_calls

        found, cohort_files = read_sample_calls(sample_calls, table, opts.include_filtered, opts.use_existing,
                                                opts.transcript_choice == "canonical", opts.barcode_match)
        measured |= found
    samples = list(dict.fromkeys(opts.samples or seen_samples))
    extra = sorted(set(table.sample) - set(samples))
    if extra:
        raise UserError(f"impact: sample {extra[0]!r} is in the variants but not among the samples given: "
                        f"name each VCF as SAMPLE=PATH, or add the sample")
    variants, skipped, ann = annotate_table(table, opts)
    variants = sort_rows(variants, samples)
    hit_genes = set(pd.unique(variants["gene"]).tolist()) - {""}
    genes = sorted(set(ann.gene_name.tolist()) | hit_genes) if ann is not None else sorted(hit_genes)
    matrix = impact_matrix(variants, genes, samples)
    if opts.callable_bed:
        callable_mb, source = total_size(read_bed(opts.callable_bed)) / 1e6, f"BED {opts.callable_bed}"
    elif opts.callable_mb is not None:
        callable_mb, source = float(opts.callable_mb), "given (--callable-mb)"
    elif ann is not None:
        callable_mb, source = ann.cds_length() / 1e6, f"coding length of {opts.gtf}"
    else:
        callable_mb, source = None, "unknown: give --callable BED or --callable-mb"
    # not measured is not zero: samples without any call file (a MAF named for a sample lists its mutations only)
    unmeasured = set(samples) - measured
    if unmeasured:
        log.warning("%d samples come without calls (no VCF): their TMB is NA, not 0 (e.g. %s)", len(unmeasured),
                    ", ".join(sorted(unmeasured)[:3]))
    tmb = tumour_mutational_burden(variants, samples, callable_mb, source, unmeasured)
    n_skipped = len(skipped)
    if n_skipped:
        log.warning("%d variants skipped: REF differs from the FASTA (listed in skipped.tsv)", n_skipped)
    with atomic_dir(opts.out, "impact", opts.force) as tmp:
        write_tsv(variants, VARIANT_COLUMNS, tmp / "variants.tsv")
        matrix.to_csv(tmp / "impact_matrix.tsv", sep="\t", float_format="%.6g")
        matrix.reset_index().to_parquet(tmp / "impact_matrix.parquet", index=False)
        tmb.to_csv(tmp / "tmb.tsv", sep="\t", index=False, float_format="%.6g", na_rep="NA")
        tmb_figure(tmb, tmp / "tmb.png")
        pd.DataFrame(skipped, columns=["contig", "pos", "ref", "alt", "reason"]).to_csv(
            tmp / "skipped.tsv", sep="\t", index=False)
        info = stage_info(
            "impact", opts, file_checksums([parse_vcf_argument(v)[1] for v in opts.vcfs]
                                           + [f for _, f in sample_calls] + [opts.maf, opts.gtf, opts.ref, opts.callable_bed]
                                           + list(opts.weights.sources.values())),
            samples=len(samples), genes=len(genes), variant_rows=len(variants["pos"]), skipped=n_skipped,
            callable_mb=callable_mb, callable_source=source, cohort_files=cohort_files,
            samples_not_measured=sorted(unmeasured),
        )
        write_info(tmp / "run_info.json", info)
    return info
