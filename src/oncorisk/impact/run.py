"""Run the impact stage: read variants, annotate consequences, score Σ f·w per gene and sample, compute TMB."""

from __future__ import annotations

import hashlib
import json
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from oncorisk import __version__
from oncorisk.errors import UserError
from oncorisk.impact.annotation import Annotation, load_annotation
from oncorisk.impact.consequence import Annotator, normalise
from oncorisk.impact.inputs import VariantTable, parse_vcf_argument, read_maf, read_vcf
from oncorisk.impact.scores import Weights, protein_position
from oncorisk.impact.terms import IMPACT, NONSYNONYMOUS, RANK
from oncorisk.io.atomic import atomic_dir

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
    weights: Weights = field(default_factory=Weights)


def _alias_map(names: set[str], targets: set[str], mode: str, what: str, target_file: str) -> dict[str, str]:
    """Map contig names of an input onto the reference's (chr1 <-> 1, chrM <-> MT), or fail naming the mismatch."""
    mapping = {}
    table = {}
    if mode not in ("auto", "none"):
        rows = [line.split("\t") for line in Path(mode).read_text().splitlines() if line.strip()]
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


def _pick(effects, ann: Annotation, choice: str) -> dict[tuple[int, str], object]:
    """One effect per (variant, gene): the canonical transcript's when asked and present, else the most severe."""
    best: dict[tuple[int, str], object] = {}
    for e in effects:
        gene = ann.gene_name[e.tx]
        key = (e.var, gene)
        canon = bool(ann.canonical[e.tx]) if choice == "canonical" else False
        score = (not canon, e.rank, not ann.canonical[e.tx], ann.tx_id[e.tx])
        if key not in best or score < best[key][0]:
            best[key] = (score, e)
    return {k: v[1] for k, v in best.items()}


def annotate_table(table: VariantTable, opts: ImpactOptions) -> tuple[pd.DataFrame, list[dict], Annotation | None]:
    """Per-variant rows (one per sample, variant and gene hit) with consequences and f, w; plus skipped variants."""
    df = table.frame()
    skipped: list[dict] = []
    ann = None
    need_annotation = (df["consequence"] == "").any()
    if need_annotation:
        if not opts.gtf or not opts.ref:
            raise UserError("impact: VCF input needs --gtf and --ref to annotate consequences "
                            "(or --use-existing-annotation csq|ann for VCFs that carry VEP/SnpEff annotations)")
    if opts.ref:
        import pysam

        from oncorisk.config import ensure_fasta_index

        ensure_fasta_index(opts.ref)
        fasta = pysam.FastaFile(opts.ref)
        ref_contigs = set(fasta.references)
        df["contig"] = df["contig"].replace(
            _alias_map(set(df["contig"]), ref_contigs, opts.chrom_alias, "variants", opts.ref))
    if opts.gtf:
        ann = load_annotation(opts.gtf)
        if opts.ref:
            _align_annotation_contigs(ann, ref_contigs, opts.chrom_alias, opts.ref)
    rows: list[dict] = []
    if need_annotation:
        annotator = Annotator(ann)
        todo = df[df["consequence"] == ""]
        keys = todo[["contig", "pos", "ref", "alt"]].drop_duplicates()
        effects_by_key: dict[tuple, list] = {}
        for contig, group in keys.groupby("contig", sort=False):
            seq = fasta.fetch(contig).upper()
            starts, refs, alts, ok_keys = [], [], [], []
            for pos, ref, alt in zip(group["pos"], group["ref"], group["alt"]):
                ref_u, alt_u = ref.upper(), alt.upper()
                genome = seq[pos - 1 : pos - 1 + len(ref_u)]
                if genome != ref_u:
                    if opts.ref_mismatch == "fail":
                        raise UserError(f"variants: {contig}:{pos}: REF {ref!r} but {opts.ref} has {genome!r}: "
                                        f"the VCF was called on another reference; use the same FASTA, or "
                                        f"--ref-mismatch skip to report and skip such variants")
                    skipped.append(dict(contig=contig, pos=pos, ref=ref, alt=alt, reason=f"REF differs from FASTA ({genome})"))
                    continue
                s, r, a = normalise(pos - 1, ref_u, alt_u)
                starts.append(s)
                refs.append(r)
                alts.append(a)
                ok_keys.append((contig, pos, ref, alt))
            effects = annotator.annotate(contig, seq, np.array(starts, dtype=np.int64), refs, alts)
            picked = _pick(effects, ann, opts.transcript_choice)
            for (var, gene), e in picked.items():
                effects_by_key.setdefault(ok_keys[var], []).append((gene, e))
            for k in ok_keys:
                effects_by_key.setdefault(k, [])
        skipped_keys = {(s["contig"], s["pos"], s["ref"], s["alt"]) for s in skipped}
        for rec in todo.itertuples(index=False):
            key = (rec.contig, rec.pos, rec.ref, rec.alt)
            if key in skipped_keys:
                continue
            hits = effects_by_key.get(key) or [("", None)]
            for gene, e in hits:
                if e is None:
                    terms, tx, hgvsp, short, ppos, codons = ("intergenic_variant",), "", "", "", 0, ""
                else:
                    terms, tx, hgvsp, short, ppos, codons = (e.terms, ann.tx_id[e.tx], e.hgvsp, e.hgvsp_short,
                                                             e.protein_pos, e.codons)
                rows.append(_row(rec, gene, tx, terms, hgvsp, short, ppos, codons, opts.weights))
    for rec in df[df["consequence"] != ""].itertuples(index=False):
        rows.append(_row(rec, rec.gene, "", (rec.consequence,), "", rec.hgvsp_short,
                         protein_position(rec.hgvsp_short), "", opts.weights))
    out = pd.DataFrame(rows, columns=VARIANT_COLUMNS)
    return out, skipped, ann


def _row(rec, gene, tx, terms, hgvsp, short, ppos, codons, weights: Weights) -> dict:
    term = min(terms, key=lambda t: RANK.get(t, len(RANK)))
    f = weights.f(term, rec.vaf, rec.qual) if gene else 0.0
    w, hot = weights.w(gene, rec.contig, int(rec.pos), int(ppos)) if gene else (0.0, False)
    return dict(sample=rec.sample, contig=rec.contig, pos=int(rec.pos), ref=rec.ref, alt=rec.alt, gene=gene,
                transcript=tx, consequence=term, all_terms="&".join(terms), impact_class=IMPACT.get(term, "MODIFIER"),
                hgvsp=hgvsp, hgvsp_short=short, protein_pos=int(ppos), codons=codons, vaf=rec.vaf, qual=rec.qual,
                hotspot=hot, f=f, w=w, f_w=f * w)


def impact_matrix(variants: pd.DataFrame, genes: list[str], samples: list[str]) -> pd.DataFrame:
    """genes × samples matrix of Σ f·w (zeros where a gene is not hit)."""
    hit = variants[variants["gene"] != ""]
    mat = hit.groupby(["gene", "sample"])["f_w"].sum().unstack(fill_value=0.0)
    mat = mat.reindex(index=genes, columns=samples, fill_value=0.0).fillna(0.0)
    mat.index.name = "gene"
    mat.columns.name = None
    return mat


def tumour_mutational_burden(variants: pd.DataFrame, samples: list[str], callable_mb: float | None,
                             source: str) -> pd.DataFrame:
    """Nonsynonymous mutations per callable megabase, per sample (NA below MIN_CALLABLE_MB)."""
    ns = variants[variants["consequence"].isin(NONSYNONYMOUS)]
    counts = ns.drop_duplicates(["sample", "contig", "pos", "ref", "alt"]).groupby("sample").size()
    counts = counts.reindex(samples, fill_value=0)
    ok = callable_mb is not None and callable_mb >= MIN_CALLABLE_MB
    return pd.DataFrame({
        "sample": samples,
        "nonsynonymous": counts.to_numpy(),
        "callable_mb": [round(callable_mb, 6) if callable_mb is not None else math.nan] * len(samples),
        "tmb": counts.to_numpy() / callable_mb if ok else [math.nan] * len(samples),
        "callable_source": [source] * len(samples),
    })


def _bed_size(path: str) -> int:
    by: dict[str, list] = {}
    for line in Path(path).read_text().splitlines():
        if not line.strip() or line.startswith(("#", "track", "browser")):
            continue
        c, a, b = line.split("\t")[:3]
        by.setdefault(c, []).append((int(a), int(b)))
    total = 0
    for items in by.values():
        cur_a = cur_b = -1
        for a, b in sorted(items):
            if a > cur_b:
                total += max(0, cur_b - cur_a)
                cur_a, cur_b = a, b
            else:
                cur_b = max(cur_b, b)
        total += max(0, cur_b - cur_a)
    return total


def _sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def run_impact(opts: ImpactOptions) -> dict:
    """Run the stage and write its outputs into ``opts.out`` (atomically). Returns a summary."""
    if not opts.vcfs and not opts.maf:
        raise UserError("impact: no input: give --vcf VCF [VCF ...] or --maf MAF")
    table = VariantTable()
    seen_samples: list[str] = []
    for vcf in opts.vcfs:
        seen_samples += read_vcf(vcf, table, opts.include_filtered, opts.use_existing,
                                 opts.transcript_choice == "canonical")
    if opts.maf:
        seen_samples += read_maf(opts.maf, table)
    samples = list(dict.fromkeys(opts.samples or seen_samples))
    extra = sorted(set(table.sample) - set(samples))
    if extra:
        raise UserError(f"impact: sample {extra[0]!r} is in the variants but not among the samples given: "
                        f"name each VCF as SAMPLE=PATH, or add the sample")
    variants, skipped, ann = annotate_table(table, opts)
    order = {s: i for i, s in enumerate(samples)}
    variants = variants.sort_values(["sample", "contig", "pos", "ref", "alt", "gene"],
                                    key=lambda c: c.map(order) if c.name == "sample" else c, kind="stable")
    genes = sorted(set(ann.gene_name.tolist()) | set(variants["gene"]) - {""}) if ann is not None else \
        sorted(set(variants["gene"]) - {""})
    matrix = impact_matrix(variants, genes, samples)
    if opts.callable_bed:
        callable_mb, source = _bed_size(opts.callable_bed) / 1e6, f"BED {opts.callable_bed}"
    elif opts.callable_mb is not None:
        callable_mb, source = float(opts.callable_mb), "given (--callable-mb)"
    elif ann is not None:
        callable_mb, source = ann.cds_length() / 1e6, f"coding length of {opts.gtf}"
    else:
        callable_mb, source = None, "unknown: give --callable BED or --callable-mb"
    tmb = tumour_mutational_burden(variants, samples, callable_mb, source)
    n_skipped = len(skipped)
    if n_skipped:
        log.warning("%d variants skipped: REF differs from the FASTA (listed in skipped.tsv)", n_skipped)
    with atomic_dir(opts.out) as tmp:
        variants.to_csv(tmp / "variants.tsv", sep="\t", index=False, float_format="%.6g", na_rep="NA")
        matrix.to_csv(tmp / "impact_matrix.tsv", sep="\t", float_format="%.6g")
        matrix.reset_index().to_parquet(tmp / "impact_matrix.parquet", index=False)
        tmb.to_csv(tmp / "tmb.tsv", sep="\t", index=False, float_format="%.6g", na_rep="NA")
        pd.DataFrame(skipped, columns=["contig", "pos", "ref", "alt", "reason"]).to_csv(
            tmp / "skipped.tsv", sep="\t", index=False)
        info = dict(
            oncorisk_version=__version__, stage="impact",
            inputs={str(p): _sha256(str(p)) for p in [parse_vcf_argument(v)[1] for v in opts.vcfs]
                    + [x for x in (opts.maf, opts.gtf, opts.ref) if x]},
            options=dict(transcript_choice=opts.transcript_choice, use_existing=opts.use_existing,
                         chrom_alias=opts.chrom_alias, ref_mismatch=opts.ref_mismatch,
                         include_filtered=opts.include_filtered, vaf_scaling=opts.weights.vaf_scaling,
                         confidence_scaling=opts.weights.confidence_scaling,
                         hotspot_weight=opts.weights.hotspot_weight, weight_sources=opts.weights.sources),
            samples=len(samples), genes=len(genes), variant_rows=len(variants), skipped=n_skipped,
            callable_mb=callable_mb, callable_source=source,
        )
        (tmp / "run_info.json").write_text(json.dumps(info, indent=1, sort_keys=True) + "\n")
    return info
