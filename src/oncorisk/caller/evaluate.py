"""``oncorisk evaluate``: precision, recall and F1 of a query VCF against a truth VCF.

Both sides are normalised the same way before matching (multi-allelic records split, MNPs split into
SNVs, common prefix/suffix trimmed, indels left-aligned against the FASTA), then matched by allele
(position, REF, ALT). SNVs and indels are scored separately, within the confident BED when given.
Genotype concordance is the fraction of matched alleles whose genotype (het / hom-alt) agrees.
In somatic mode, results are also given by VAF bin (truth VAF for recall, the call's VAF for precision).

Beside allele matching, ``haplotype`` reports a haplotype comparison (caller/hapcompare.py, as vcfeval and
hap.py do): within windows of nearby variants, both sides' genotypes are applied to the reference and the
haplotype sequences compared, so one event written two ways (a complex substitution as one record or as two,
an insertion in a repeat split in pieces) matches. Precision counts query variants, recall truth variants.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pysam

from oncorisk.caller.hapcompare import Call, compare_contig
from oncorisk.errors import UserError
from oncorisk.io.atomic import atomic_path
from oncorisk.io.intervals import read_bed
from oncorisk.genome.alleles import normalise_allele
from oncorisk.tensors.labels import genotype_class, in_intervals, open_vcf

VAF_BINS = [(0.0, 0.05), (0.05, 0.1), (0.1, 0.2), (0.2, 0.3), (0.3, 0.5), (0.5, 1.01)]


def _vaf(rec, col) -> float:
    for key in ("VAF", "AF"):
        if col is not None and key in rec.format:
            v = rec.samples[col].get(key)
            if isinstance(v, tuple):
                v = v[0]
            if v is not None:
                return float(v)
    for key in ("EXPECTED_VAF", "VAF", "AF"):
        if key in rec.info:
            v = rec.info[key]
            return float(v[0] if isinstance(v, tuple) else v)
    if col is not None and "AD" in rec.format:
        ad = rec.samples[col].get("AD")
        if ad and None not in ad and sum(ad) > 0:
            return ad[1] / sum(ad)
    return math.nan


def read_calls(path: str, fasta: pysam.FastaFile, sample: str | None, pass_only: bool, role: str,
               somatic: bool = False) -> list[tuple[str, Call, float, float | None]]:
    """(contig, call, VAF, QUAL) per record whose genotype carries an alternate allele, in file order; each call holds
    its alleles' normalised keys with their genotype class (1 het, 2 hom-alt)."""
    vf = open_vcf(path)
    samples = list(vf.header.samples)
    if sample is not None and sample not in samples:
        raise UserError(f"{path}: sample {sample!r} not in the VCF (samples: {', '.join(samples) or 'none'}): "
                        f"give --{role}-sample with one of them")
    col = sample if sample is not None else (samples[-1] if samples else None)  # last column: the tumour
    fa_contigs = set(fasta.references)
    vcf_contigs = set(vf.header.contigs) or None
    if vcf_contigs is not None and not (vcf_contigs & fa_contigs):
        raise UserError(f"{path}: no contig in common with the reference (VCF: {', '.join(sorted(vcf_contigs)[:4])}; "
                        f"FASTA: {', '.join(sorted(fa_contigs)[:4])}): rename the contigs (bcftools annotate "
                        f"--rename-chrs) to the reference's")
    out = []
    for rec in vf:
        if rec.chrom not in fa_contigs:
            continue
        if pass_only and rec.filter.keys() and "PASS" not in rec.filter.keys():
            continue
        if somatic and role == "query" and "SOMATIC" in rec.header.info and "SOMATIC" not in rec.info:
            continue
        gt = rec.samples[col].get("GT") if col is not None and "GT" in rec.format else None
        alts, keys = [], []
        for k, alt in enumerate(rec.alts or (), start=1):
            cls = genotype_class(gt, k)
            if cls == 0:
                continue
            normalised = normalise_allele(fasta, rec.chrom, rec.pos - 1, rec.ref, alt)
            if not normalised:
                continue
            alts.append(alt.upper())
            keys += [((rec.chrom, *key), cls) for key in normalised]
        if not alts:
            continue
        hom = len(alts) == 1 and keys[0][1] == 2
        call = Call.from_record(rec.pos - 1, rec.ref.upper(), alts, het=not hom, keys=tuple(keys))
        out.append((rec.chrom, call, _vaf(rec, col), rec.qual))
    return out


def _prf(tp: int, fp: int, fn: int) -> dict:
    p = tp / (tp + fp) if tp + fp else math.nan
    r = tp / (tp + fn) if tp + fn else math.nan
    f = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else math.nan
    return dict(tp=tp, fp=fp, fn=fn, precision=_r(p), recall=_r(r), f1=_r(f))


def _r(x: float):
    return None if math.isnan(x) else round(x, 6)


def kind_of(key) -> str:
    return "SNV" if len(key[2]) == len(key[3]) == 1 else "INDEL"


def evaluate(truth: str, query: str, ref: str, bed: str | None = None, truth_sample: str | None = None,
             query_sample: str | None = None, somatic: bool = False, pass_only: bool = True,
             min_vaf: float | None = None, qual_thresholds: list[float] | None = None) -> dict:
    """Allele matching and haplotype comparison of ``query`` against ``truth``; with ``qual_thresholds``, also
    ``by_qual``: allele-matching results when only query records with QUAL at least each threshold count (the
    QUAL curve of vcfeval's ROC output, from which a PASS threshold can be chosen)."""
    from oncorisk.genome.fasta import open_reference

    fasta = open_reference(ref)
    tc = read_calls(truth, fasta, truth_sample, False, "truth", somatic)
    qc = read_calls(query, fasta, query_sample, pass_only, "query", somatic)
    regions = read_bed(bed) if bed else None

    def inside(contig: str, pos: int) -> bool:
        return regions is None or bool(in_intervals(np.array([pos]), regions.get(contig, []))[0])

    def keep(calls):
        """Records with an allele in the BED and a VAF not below min_vaf (for the haplotype comparison)."""
        return [(c, call, vaf, qual) for c, call, vaf, qual in calls if (min_vaf is None or not vaf < min_vaf)
                and any(inside(c, key[1]) for key, _ in call.keys)]

    def alleles(calls):
        """Allele keys in the BED -> (genotype class, VAF) (allele matching) of kept records."""
        return {key: (cls, vaf) for c, call, vaf, _ in calls for key, cls in call.keys if inside(c, key[1])}

    tc, qc = keep(tc), keep(qc)
    t, q = alleles(tc), alleles(qc)
    result: dict = dict(truth=str(truth), query=str(query), bed=bed, pass_only=pass_only,
                        matching="allele after normalisation (split, trim, left-align)")
    result.update(_allele_rows(t, q))
    if qual_thresholds:
        # the query as read once, keeping the records with QUAL >= each threshold
        result["by_qual"] = [dict(min_qual=float(mq), **_allele_rows(t, alleles(
            [c for c in qc if c[3] is not None and c[3] >= mq]))) for mq in sorted(qual_thresholds)]
    result["haplotype"] = haplotype_metrics(fasta, tc, qc)
    if somatic:
        bins = []
        for lo, hi in VAF_BINS:
            tb = {k for k, v in t.items() if lo <= v[1] < hi}
            qb = {k for k, v in q.items() if lo <= (v[1] if not math.isnan(v[1]) else -1) < hi}
            tp_r = len(tb & q.keys())
            tp_p = len(qb & t.keys())
            rec = tp_r / len(tb) if tb else math.nan
            prec = tp_p / len(qb) if qb else math.nan
            f = 2 * prec * rec / (prec + rec) if prec + rec > 0 else math.nan
            bins.append(dict(vaf=f"[{lo:g}, {min(hi, 1):g}{')' if hi <= 1 else ']'}", truth=len(tb), calls=len(qb),
                             recall=_r(rec), precision=_r(prec), f1=_r(f)))
        result["by_vaf"] = bins
    return result


def _allele_rows(t: dict, q: dict) -> dict:
    """SNV, INDEL and ALL rows of allele matching (truth and query allele keys -> (genotype class, VAF))."""
    rows = {}
    for kind in ("SNV", "INDEL"):
        tk = {k: v for k, v in t.items() if kind_of(k) == kind}
        qk = {k: v for k, v in q.items() if kind_of(k) == kind}
        both = tk.keys() & qk.keys()
        row = _prf(len(both), len(qk.keys() - tk.keys()), len(tk.keys() - qk.keys()))
        row["genotype_concordance"] = _r(np.mean([tk[k][0] == qk[k][0] for k in both]) if both else math.nan)
        rows[kind] = row
    both = t.keys() & q.keys()
    rows["ALL"] = _prf(len(both), len(q.keys() - t.keys()), len(t.keys() - q.keys()))
    return rows


def best_min_qual(results: list[dict]) -> float:
    """The QUAL threshold with the highest F1 of all alleles (SNVs and indels) over the ``by_qual`` rows of one or
    more evaluations (their counts summed: the folds of a cross-validation); the lowest such threshold on ties."""
    totals: dict[float, list[int]] = {}
    for res in results:
        for row in res["by_qual"]:
            t = totals.setdefault(row["min_qual"], [0, 0, 0])
            for j, k in enumerate(("tp", "fp", "fn")):
                t[j] += row["ALL"][k]
    if not totals:
        raise ValueError("no by_qual rows: evaluate with qual_thresholds")
    f1 = {q: (2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0) for q, (tp, fp, fn) in totals.items()}
    return min(q for q in f1 if f1[q] == max(f1.values()))


def haplotype_metrics(fasta: pysam.FastaFile, truth: list, query: list) -> dict:
    """SNV / INDEL / ALL precision, recall and F1 by haplotype comparison (caller/hapcompare.py): recall over truth
    alleles, precision over query alleles; a window whose haplotypes differ credits its allele matches only."""
    counts = {kind: dict(t_tp=0, t_all=0, q_tp=0, q_all=0) for kind in ("SNV", "INDEL", "ALL")}
    contigs = list(dict.fromkeys([c for c, *_ in truth] + [c for c, *_ in query]))
    for contig in contigs:
        t = [call for c, call, *_ in truth if c == contig]
        q = [call for c, call, *_ in query if c == contig]
        for tw, qw, matched in compare_contig(fasta, contig, t, q):
            t_keys = {key for call in tw for key, _ in call.keys}
            q_keys = {key for call in qw for key, _ in call.keys}
            for side, keys, other in (("t", t_keys, q_keys), ("q", q_keys, t_keys)):
                for key in keys:
                    for kind in (kind_of(key), "ALL"):
                        counts[kind][f"{side}_all"] += 1
                        counts[kind][f"{side}_tp"] += bool(matched or key in other)
    out: dict = {"matching": "haplotype sequences per window of variants within 10 bases (genotype-aware), "
                             "allele matching inside windows that differ"}
    for kind, n in counts.items():
        p = n["q_tp"] / n["q_all"] if n["q_all"] else math.nan
        r = n["t_tp"] / n["t_all"] if n["t_all"] else math.nan
        f = 2 * p * r / (p + r) if n["q_all"] and n["t_all"] and p + r > 0 else math.nan
        out[kind] = dict(truth_tp=n["t_tp"], fn=n["t_all"] - n["t_tp"], query_tp=n["q_tp"], fp=n["q_all"] - n["q_tp"],
                         precision=_r(p), recall=_r(r), f1=_r(f))
    return out


def write_metrics(result: dict, out: str) -> None:
    with atomic_path(out) as tmp:
        Path(tmp).write_text(json.dumps(result, indent=2) + "\n")
