"""Read variants for the impact stage: VCF/BCF from any caller (germline, somatic, multi-sample) or a MAF.

Every input becomes one table with a row per (sample, variant allele): sample, contig, pos (1-based), ref,
alt, vaf, qual, and, where the input carries them, a gene, consequence and protein change (MAF, or VEP CSQ /
SnpEff ANN when asked to use them).
"""

from __future__ import annotations

import logging
import math
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from oncorisk.errors import UserError
from oncorisk.io.text import check_file, is_gzip, open_text
from oncorisk.impact.terms import MAF_CLASSES, RANK, most_severe

log = logging.getLogger(__name__)

MAF_REQUIRED = ("Hugo_Symbol", "Chromosome", "Start_Position", "Reference_Allele", "Tumor_Seq_Allele2",
                "Variant_Classification", "Tumor_Sample_Barcode")


@dataclass
class VariantTable:
    """Columns of the variants read from one or more inputs."""

    sample: list[str] = field(default_factory=list)
    contig: list[str] = field(default_factory=list)
    pos: list[int] = field(default_factory=list)
    ref: list[str] = field(default_factory=list)
    alt: list[str] = field(default_factory=list)
    vaf: list[float] = field(default_factory=list)
    qual: list[float] = field(default_factory=list)
    source: list[str] = field(default_factory=list)
    # pre-computed annotation (MAF, CSQ/ANN): gene, consequence, protein change; empty when absent
    gene: list[str] = field(default_factory=list)
    consequence: list[str] = field(default_factory=list)
    hgvsp_short: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.pos)

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame({k: getattr(self, k) for k in self.__dataclass_fields__})


def parse_vcf_argument(arg: str) -> tuple[str | None, Path]:
    """``NAME=PATH`` names the tumour sample of a VCF; a bare PATH keeps the VCF's own sample names."""
    if "=" in arg and not Path(arg).exists():
        name, path = arg.split("=", 1)
        return name, Path(path)
    return None, Path(arg)


def _header_value(raw_header: str, key: str) -> str | None:
    for line in raw_header.splitlines():
        if line.startswith(f"##{key}="):
            return line.split("=", 1)[1].strip()
    return None


def _csq_fields(raw_header: str, tag: str) -> list[str] | None:
    for line in raw_header.splitlines():
        if line.startswith(f"##INFO=<ID={tag},"):
            desc = line.split("Description=", 1)[1]
            fmt = desc.split("Format:", 1)[1] if "Format:" in desc else desc.split(":", 1)[-1]
            return [f.strip().strip("'\"") for f in fmt.strip().rstrip('">').split("|")]
    return None


def _existing_annotation(value: str, fields: list[str], tag: str, alt: str, canonical_only: bool) -> tuple[str, str, str]:
    """(gene, consequence, short protein change) for one ALT from a VEP CSQ or SnpEff ANN value."""
    names = {f: i for i, f in enumerate(fields)}
    if tag == "CSQ":
        gene_f, cons_f, prot_f, allele_f = "SYMBOL", "Consequence", "HGVSp", "Allele"
    else:
        gene_f, cons_f, prot_f, allele_f = "Gene_Name", "Annotation", "HGVS.p", "Allele"
    best = None
    for entry in value.split(","):
        parts = entry.split("|")
        get = lambda f: parts[names[f]] if f in names and names[f] < len(parts) else ""  # noqa: E731
        if get(allele_f) not in ("", alt, "-") and allele_f in names:
            continue
        if canonical_only and tag == "CSQ" and get("CANONICAL") != "YES":
            continue
        terms = [t for t in get(cons_f).split("&") if t]
        if not terms:
            continue
        term = most_severe(terms)
        cand = (RANK.get(term, len(RANK)), get(gene_f), term, get(prot_f).split(":")[-1])
        if best is None or cand < best:
            best = cand
    return (best[1], best[2], best[3]) if best else ("", "intergenic_variant", "")


def read_vcf(arg: str, table: VariantTable, include_filtered: bool = False, use_existing: str = "none",
             canonical_only: bool = False) -> list[str]:
    """Append the variants of one VCF/BCF to ``table``.

    Args:
        arg: PATH or NAME=PATH (NAME names the tumour sample).
        include_filtered: keep records whose FILTER is not PASS.
        use_existing: ``none``, ``csq`` or ``ann``: take gene and consequence from that INFO field.
        canonical_only: with ``csq``, only the entries VEP flags CANONICAL=YES.
    Returns:
        the sample names contributed.
    """
    from cyvcf2 import VCF

    name, path = parse_vcf_argument(arg)
    check_file(path, "a VCF/BCF (bgzipped or plain)")
    if use_existing == "none" and not str(path).endswith(".bcf"):
        return read_vcf_fast(path, name, table, include_filtered)
    try:
        vcf = VCF(str(path), lazy=True, threads=1)
    except (OSError, Exception) as exc:  # cyvcf2 raises plain Exceptions for unparsable headers
        raise UserError(f"{path}: not a readable VCF/BCF ({str(exc).splitlines()[0]}): check the file") from None
    raw = vcf.raw_header
    samples = list(vcf.samples)
    normal = _header_value(raw, "normal_sample")
    tumour = _header_value(raw, "tumor_sample")
    if normal is None and "NORMAL" in samples and "TUMOR" in samples:
        normal, tumour = "NORMAL", "TUMOR"
    somatic = normal in samples and tumour in samples
    if somatic:
        keep = [samples.index(tumour)]
        out_names = [name or (path.name.split(".")[0] if tumour == "TUMOR" else tumour)]
    elif samples:
        keep = list(range(len(samples)))
        out_names = [name] if name and len(samples) == 1 else samples
    else:  # sites-only VCF: one sample named after the file
        keep, out_names, somatic = [], [name or path.name.split(".")[0]], True
    existing_fields = None
    if use_existing != "none":
        tag = use_existing.upper()
        existing_fields = _csq_fields(raw, tag)
        if existing_fields is None:
            raise UserError(f"{path}: no ##INFO=<ID={tag}> header: this VCF carries no {tag} annotation; "
                            f"run without --use-existing-annotation to annotate from the GTF")
    n = 0
    for rec in vcf:
        if not include_filtered and rec.FILTER not in (None, "PASS", "."):
            continue
        alts = rec.ALT
        if not alts:
            continue
        qual = rec.QUAL if rec.QUAL is not None else math.nan
        if keep:
            gts = rec.genotypes if len(alts) > 1 or not somatic else None
            vafs = _vafs(rec, len(samples))
        info_value = rec.INFO.get(use_existing.upper()) if existing_fields else None
        for k, alt in enumerate(alts):
            if alt in ("*", "<NON_REF>", ".") or alt.startswith("<"):
                continue
            for j, sample in zip(keep or [None], out_names):
                if keep and not somatic:
                    alleles = gts[j][:-1]
                    if (k + 1) not in alleles:
                        continue
                table.sample.append(sample)
                table.contig.append(rec.CHROM)
                table.pos.append(rec.POS)
                table.ref.append(rec.REF)
                table.alt.append(alt)
                table.vaf.append(float(vafs[j][k]) if keep and vafs is not None else math.nan)
                table.qual.append(qual)
                table.source.append(str(path))
                if info_value is not None:
                    g, c, p = _existing_annotation(info_value, existing_fields, use_existing.upper(), alt, canonical_only)
                else:
                    g, c, p = "", "", ""
                table.gene.append(g)
                table.consequence.append(c)
                table.hgvsp_short.append(p)
                n += 1
    vcf.close()
    log.debug("%s: %d variant alleles for %s", path, n, ", ".join(out_names))
    return out_names


def _vafs(rec, n_samples: int) -> np.ndarray | None:
    """Per sample, per ALT allele fraction from FORMAT VAF, AF or AD; None when none is present."""
    n_alt = len(rec.ALT)
    for key in ("VAF", "AF"):
        try:
            v = rec.format(key)
        except KeyError:
            v = None
        if v is not None and v.shape[1] >= n_alt:
            return np.where(v[:, :n_alt] < -1e30, np.nan, v[:, :n_alt])
    try:
        ad = rec.format("AD")
    except KeyError:
        ad = None
    if ad is not None and ad.shape[1] >= n_alt + 1:
        ad = np.where(ad < 0, 0, ad).astype(float)
        depth = ad.sum(axis=1, keepdims=True)
        return np.divide(ad[:, 1 : n_alt + 1], depth, out=np.full((n_samples, n_alt), np.nan), where=depth > 0)
    return None


def read_maf(path: str | Path, table: VariantTable) -> list[str]:
    """Append the variants of a MAF (TCGA/GDC layout); its Variant_Classification gives the consequence."""
    path = Path(path)
    with open_text(path, "a MAF (TSV, optionally gzipped)", "--maf") as fh:
        lines = [line for line in fh if not line.startswith("#")]
    if not lines:
        raise UserError(f"{path}: empty MAF: expected a header line and one row per mutation")
    from io import StringIO

    import csv

    try:  # a MAF is plain TSV: quotes are data, never quoting
        df = pd.read_csv(StringIO("".join(lines)), sep="\t", dtype=str, keep_default_na=False,
                         quoting=csv.QUOTE_NONE)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise UserError(f"{path}: not a tab-separated MAF ({str(exc).splitlines()[0]}): expected a header line "
                        f"naming the columns ({', '.join(MAF_REQUIRED)}) and one row per mutation") from None
    lower = {c.lower(): c for c in df.columns}
    missing = [c for c in MAF_REQUIRED if c.lower() not in lower]
    if missing:
        raise UserError(f"{path}: header: missing MAF column{'s' if len(missing) > 1 else ''} {', '.join(missing)}: "
                        f"a MAF needs {', '.join(MAF_REQUIRED)}")
    col = lambda c: df[lower[c.lower()]]  # noqa: E731
    classes = col("Variant_Classification")
    unknown = sorted(set(classes) - set(MAF_CLASSES))
    if unknown:
        row = int(np.flatnonzero(classes == unknown[0])[0]) + 1
        raise UserError(f"{path}: row {row}, column Variant_Classification: bad value {unknown[0]!r}: "
                        f"accepted: {', '.join(MAF_CLASSES)}")
    prot = col("HGVSp_Short") if "hgvsp_short" in lower else (col("Protein_Change") if "protein_change" in lower else None)
    vaf = np.full(len(df), np.nan)
    if "t_alt_count" in lower and ("t_depth" in lower or "t_ref_count" in lower):
        alt_n = pd.to_numeric(col("t_alt_count"), errors="coerce")
        depth = (pd.to_numeric(col("t_depth"), errors="coerce") if "t_depth" in lower
                 else alt_n + pd.to_numeric(col("t_ref_count"), errors="coerce"))
        vaf = (alt_n / depth).to_numpy(dtype=float)
    elif "i_tumorvaf_wu" in lower:  # WashU MAFs give the tumour VAF in percent
        vaf = pd.to_numeric(col("i_TumorVAF_WU"), errors="coerce").to_numpy(dtype=float) / 100
    try:
        pos = col("Start_Position").astype(int)
    except ValueError:
        bad = next(v for v in col("Start_Position") if not v.strip().lstrip("-").isdigit())
        raise UserError(f"{path}: column Start_Position: bad value {bad!r}: positions are integers") from None
    samples = col("Tumor_Sample_Barcode").tolist()
    table.sample += samples
    table.contig += col("Chromosome").tolist()
    table.pos += pos.tolist()
    table.ref += col("Reference_Allele").tolist()
    table.alt += col("Tumor_Seq_Allele2").tolist()
    table.vaf += vaf.tolist()
    table.qual += [math.nan] * len(df)
    table.source += [str(path)] * len(df)
    table.gene += col("Hugo_Symbol").tolist()
    table.consequence += [MAF_CLASSES[c] for c in classes]
    table.hgvsp_short += prot.tolist() if prot is not None else [""] * len(df)
    log.info("%s: %d mutations in %d samples", path, len(df), len(set(samples)))
    return sorted(set(samples))


def _read_header(path: Path) -> tuple[str, list[str], int]:
    """(raw header text, sample names, number of header lines) of a plain or bgzipped VCF."""
    lines = []
    with open_text(path, "a VCF (bgzipped or plain)") as fh:
        for line in fh:
            if not line.startswith("#"):
                break
            lines.append(line)
            if line.startswith("#CHROM"):
                break
    if not lines or not lines[-1].startswith("#CHROM"):
        raise UserError(f"{path}: no #CHROM header line: not a VCF (check the file, or bgzip it properly)")
    columns = lines[-1].rstrip("\n").split("\t")
    if columns[:8] != ["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO"]:
        raise UserError(f"{path}: header line: columns {columns[:8]} are not those of a VCF: "
                        f"expected #CHROM POS ID REF ALT QUAL FILTER INFO")
    return "".join(lines), columns[9:], len(lines)


def _is_gzip(path: Path) -> bool:
    return is_gzip(path)


def read_vcf_fast(path: Path, name: str | None, table: VariantTable, include_filtered: bool) -> list[str]:
    """Vectorised reader for VCF text (plain or bgzipped), the common case of `read_vcf`."""
    raw, samples, n_header = _read_header(path)
    normal = _header_value(raw, "normal_sample")
    tumour = _header_value(raw, "tumor_sample")
    if normal is None and "NORMAL" in samples and "TUMOR" in samples:
        normal, tumour = "NORMAL", "TUMOR"
    somatic = normal in samples and tumour in samples
    names = ["CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO"] + (["FORMAT"] + samples if samples else [])
    try:
        df = pd.read_csv(path, sep="\t", header=None, names=names, skiprows=n_header, dtype=str, na_filter=False,
                         quoting=3, compression="gzip" if _is_gzip(path) else None, engine="c",
                         usecols=[c for c in names if c not in ("ID", "INFO")])
    except (pd.errors.ParserError, ValueError, EOFError, OSError, zlib.error) as exc:
        raise UserError(f"{path}: not a valid VCF body ({(str(exc).splitlines() or [type(exc).__name__])[0]}): "
                        f"check the file (a truncated gzip stream is re-made with bgzip)") from None
    if not include_filtered:
        df = df[df["FILTER"].isin(["PASS", ".", ""])]
    bad_pos = ~df["POS"].str.isdigit()
    if bad_pos.any():
        raise UserError(f"{path}: record {int(np.flatnonzero(bad_pos)[0]) + 1}: POS {df['POS'][bad_pos].iloc[0]!r} "
                        f"is not a positive integer")
    multi = df["ALT"].str.contains(",", regex=False)
    df = df.assign(ALT=df["ALT"].str.split(",")).explode("ALT") if multi.any() else df.assign(ALT=df["ALT"])
    df["allele"] = df.groupby(level=0).cumcount() + 1 if multi.any() else 1
    df = df[~df["ALT"].isin(["*", ".", "<NON_REF>"]) & ~df["ALT"].str.startswith("<")]
    qual = pd.to_numeric(df["QUAL"].replace(".", "nan"), errors="coerce").to_numpy(dtype=float)
    if somatic:
        columns, out_names = [tumour], [name or (path.name.split(".")[0] if tumour == "TUMOR" else tumour)]
    elif samples:
        columns = samples
        out_names = [name] if name and len(samples) == 1 else samples
    else:
        columns, out_names, somatic = [None], [name or path.name.split(".")[0]], True
    for column, sample in zip(columns, out_names):
        if column is None:
            carry = np.ones(len(df), dtype=bool)
            fields = None
        else:
            fields = _format_fields(df, column)
            if somatic:
                carry = np.ones(len(df), dtype=bool)
            else:
                gt = fields.get("GT")
                if gt is None:
                    raise UserError(f"{path}: sample {column!r} has no GT: multi-sample VCFs need genotypes to tell "
                                    f"which sample carries which variant")
                allele = df["allele"].astype(str).to_numpy() if multi.any() else np.full(len(df), "1", dtype=object)
                carry = np.array([a in g.replace("|", "/").split("/") for g, a in zip(gt, allele)], dtype=bool)
        vaf = _vaf_column(fields, df, len(df), path, column) if fields is not None else np.full(len(df), np.nan)
        sel = df[carry]
        n = len(sel)
        table.sample += [sample] * n
        table.contig += sel["CHROM"].tolist()
        table.pos += sel["POS"].astype(np.int64).tolist()
        table.ref += sel["REF"].tolist()
        table.alt += sel["ALT"].tolist()
        table.vaf += vaf[carry].tolist()
        table.qual += qual[carry].tolist()
        table.source += [str(path)] * n
        table.gene += [""] * n
        table.consequence += [""] * n
        table.hgvsp_short += [""] * n
    return out_names


def _format_fields(df: pd.DataFrame, column: str) -> dict[str, np.ndarray]:
    """FORMAT fields of one sample column, by key (rows whose FORMAT lacks a key get '.')."""
    out: dict[str, list] = {}
    fmt = df["FORMAT"].to_numpy()
    values = df[column].to_numpy()
    keys_by_format = {}
    for f in pd.unique(fmt):
        keys_by_format[f] = f.split(":")
    all_keys = {k for ks in keys_by_format.values() for k in ks}
    for k in all_keys:
        out[k] = np.full(len(df), ".", dtype=object)
    for f, ks in keys_by_format.items():
        rows = np.flatnonzero(fmt == f)
        split = [v.split(":") for v in values[rows]]
        for i, k in enumerate(ks):
            out[k][rows] = [s[i] if i < len(s) else "." for s in split]
    return out


def _vaf_column(fields: dict, df: pd.DataFrame, n: int, path: Path | None = None, column: str = "") -> np.ndarray:
    """Allele fraction of each row's ALT from FORMAT VAF, AF or AD (NaN when absent).

    Raises:
        UserError: a VAF/AF value that is not a number, naming the record.
    """
    allele = df["allele"].to_numpy(dtype=np.int64) if "allele" in df else np.ones(n, dtype=np.int64)
    for key in ("VAF", "AF"):
        if key in fields:
            vals = [v.split(",") for v in fields[key]]
            raw = [v[a - 1] if a - 1 < len(v) and v[a - 1] not in (".", "") else "nan" for v, a in zip(vals, allele)]
            out = pd.to_numeric(pd.Series(raw, dtype=object), errors="coerce").to_numpy(dtype=float)
            bad = np.flatnonzero(np.isnan(out) & (np.array(raw, dtype=object) != "nan"))
            if len(bad):
                i = int(bad[0])
                raise UserError(f"{path}: {df['CHROM'].iloc[i]}:{df['POS'].iloc[i]}, sample {column!r}, FORMAT "
                                f"{key}: bad value {raw[i]!r}: an allele fraction is a number in [0, 1] (or '.')")
            return out
    if "AD" in fields:
        out = np.full(n, np.nan)
        for i, (v, a) in enumerate(zip(fields["AD"], allele)):
            parts = v.split(",")
            try:
                counts = [int(x) for x in parts]
            except ValueError:
                continue
            total = sum(counts)
            if total and a < len(counts):
                out[i] = counts[a] / total
        return out
    return np.full(n, np.nan)


# --- cohort-level call files: one MAF or multi-sample VCF for many sheet rows --------------------------------------
TCGA_PATIENT = 12  # TCGA-XX-XXXX: a barcode's patient part


def _barcode_key(name: str, how: str) -> str:
    return name[:TCGA_PATIENT] if how == "patient" else name


def match_barcodes(names: list[str], samples: list[str], how: str, source: str) -> dict[str, str]:
    """The file's sample names (MAF Tumor_Sample_Barcode, VCF columns) that meet a sheet sample: name -> sample.

    ``how``: ``exact`` (the same string) or ``patient`` (the first 12 characters, TCGA-XX-XXXX, of both), so a
    full barcode TCGA-AB-2802-03A-01D-0739-09 meets the sheet's TCGA-AB-2802. Two file names meeting one sample
    (a patient's primary and recurrence) are refused: list them as two samples and match exactly.
    """
    if how not in ("exact", "patient"):
        raise UserError(f"--barcode-match: bad value {how!r}: accepted: exact, patient")
    by_key: dict[str, str] = {}
    for s in samples:
        other = by_key.setdefault(_barcode_key(s, how), s)
        if other != s:
            raise UserError(f"sample sheet: samples {other!r} and {s!r} share the patient barcode "
                            f"{_barcode_key(s, how)!r}: with barcode_match patient each patient may be listed once; "
                            f"use barcode_match exact")
    mapping: dict[str, str] = {}
    taken: dict[str, str] = {}
    for n in names:
        s = by_key.get(_barcode_key(n, how))
        if s is None:
            continue
        first = taken.setdefault(s, n)
        if first != n:
            raise UserError(f"{source}: samples {first!r} and {n!r} both match sheet sample {s!r} "
                            f"(barcode_match {how}): give each its own sheet row and use barcode_match exact")
        mapping[n] = s
    return mapping


def _append(table: VariantTable, part: VariantTable, rename: dict[str, str]) -> None:
    """Append the rows of ``part`` whose sample is in ``rename``, under the new names."""
    keep = [i for i, s in enumerate(part.sample) if s in rename]
    for name in VariantTable.__dataclass_fields__:
        column = getattr(part, name)
        getattr(table, name).extend([rename[column[i]] for i in keep] if name == "sample" else [column[i] for i in keep])


def read_sample_calls(rows: list[tuple[str, str]], table: VariantTable, include_filtered: bool = False,
                      use_existing: str = "none", canonical_only: bool = False,
                      barcode_match: str = "exact") -> tuple[set[str], list[dict]]:
    """Append the calls of the sheet's (sample, call file) rows; a file named on several rows, and any MAF, is
    read once and split by sample.

    A VCF on one row is that sample's (its tumour column, as ``read_vcf`` with NAME=PATH). A MAF, or a VCF named on
    several rows, is a cohort file: its barcodes (MAF ``Tumor_Sample_Barcode``) or sample columns meet the rows'
    samples by ``match_barcodes``; the file's other samples are left out, and both lists are reported.
    A sheet sample a MAF does not mention is measured with no mutations (a MAF lists mutated tumours only); one a
    VCF has no column for is not measured (TMB NA).

    Returns:
        (the samples measured, one report per cohort file).
    """
    from oncorisk.config import is_maf

    by_file: dict[str, list[str]] = {}
    for sample, path in rows:
        by_file.setdefault(str(path), []).append(sample)
    measured: set[str] = set()
    reports: list[dict] = []
    for path, samples in by_file.items():
        maf = is_maf(path)
        if not maf and len(samples) == 1:
            read_vcf(f"{samples[0]}={path}", table, include_filtered, use_existing, canonical_only)
            measured.add(samples[0])
            continue
        part = VariantTable()
        if maf:
            names = read_maf(path, part)
        else:
            names = read_vcf(path, part, include_filtered, use_existing, canonical_only)
        mapping = match_barcodes(names, samples, barcode_match, path)
        if not mapping and len(samples) == 1 and len(names) == 1:  # one tumour's own MAF under another id
            mapping = {names[0]: samples[0]}
        _append(table, part, mapping)
        found = set(mapping.values())
        not_in_sheet = sorted(set(names) - set(mapping))
        not_in_file = [s for s in samples if s not in found]
        measured |= found | (set(not_in_file) if maf else set())
        if not_in_sheet:
            log.warning("%s: %d of its %d samples are not in the sample sheet and are left out (e.g. %s)%s", path,
                        len(not_in_sheet), len(names), ", ".join(not_in_sheet[:3]),
                        "" if barcode_match == "patient" else "; TCGA barcodes of other lengths meet with "
                        "impact.barcode_match: patient")
        if not_in_file:
            log.warning("%s: %d sheet samples are not in it (e.g. %s): %s", path, len(not_in_file),
                        ", ".join(not_in_file[:3]), "counted as tumours without mutations (a MAF lists mutated "
                        "tumours only)" if maf else "not measured: their TMB is NA")
        reports.append(dict(file=path, kind="MAF" if maf else "VCF", samples_in_file=len(names),
                            matched=len(mapping), barcode_match=barcode_match,
                            in_file_not_in_sheet=not_in_sheet, in_sheet_not_in_file=not_in_file,
                            in_sheet_not_in_file_counted_as="no mutations" if maf else "not measured"))
    return measured, reports
