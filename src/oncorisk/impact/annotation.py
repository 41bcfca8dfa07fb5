"""Gene annotation (GTF or GFF3, Ensembl/GENCODE style) as flat numpy arrays for vectorised lookups.

Coordinates are 0-based, half-open. Coding sequences include the stop codon: GTF ``stop_codon`` features are
merged into the CDS (Ensembl and GENCODE GTFs keep them apart); GFF3 CDS features already include it.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from oncorisk.errors import UserError
from oncorisk.io.intervals import merge_intervals
from oncorisk.io.text import open_text

log = logging.getLogger(__name__)

_ATTR_GTF = re.compile(r'(\S+) "([^"]*)"')
_PARENT = re.compile(r"Parent=([^;]+)")
_PARTS = ("exon", "CDS", "stop_codon", "five_prime_utr", "three_prime_utr", "five_prime_UTR", "three_prime_UTR",
          "UTR")  # transcript parts read from a GTF/GFF3
CANONICAL_TAGS = ("Ensembl_canonical", "MANE_Select", "canonical", "appris_principal_1")


@dataclass
class Annotation:
    """Transcripts, exons and CDS segments of an annotation, as arrays indexed by transcript number."""

    path: str
    tx_id: np.ndarray  # str
    gene_id: np.ndarray
    gene_name: np.ndarray
    contig: np.ndarray
    strand: np.ndarray  # +1 / -1
    start: np.ndarray
    end: np.ndarray
    canonical: np.ndarray  # bool
    coding: np.ndarray  # bool
    # exons, sorted by transcript then genomic start; exon_off[t]:exon_off[t+1] are transcript t's
    exon_start: np.ndarray
    exon_end: np.ndarray
    exon_off: np.ndarray
    # CDS segments, likewise (stop codon included)
    cds_start: np.ndarray
    cds_end: np.ndarray
    cds_off: np.ndarray

    def __post_init__(self):
        _, self.gene_code = np.unique(self.gene_name.astype(str), return_inverse=True)
        self.tx_order = np.argsort(np.argsort(self.tx_id.astype(str), kind="stable"), kind="stable")

    @property
    def n(self) -> int:
        return len(self.tx_id)

    @property
    def contigs(self) -> set[str]:
        return set(self.contig.tolist())

    def cds_length(self) -> int:
        """Total coding length of the distinct CDS bases of all genes (a default callable size)."""
        total = 0
        for c in np.unique(self.contig):
            tx = np.flatnonzero(self.contig == c)
            segs = [(int(self.cds_start[j]), int(self.cds_end[j]))
                    for t in tx for j in range(self.cds_off[t], self.cds_off[t + 1])]
            total += sum(b - a for a, b in merge_intervals(segs))
        return total


def _parse_gtf_attrs(text: str) -> dict:
    return dict(_ATTR_GTF.findall(text)) | {"tag": ",".join(m for k, m in _ATTR_GTF.findall(text) if k == "tag")}


def _parse_gff_attrs(text: str) -> dict:
    out = {}
    for item in text.strip().strip(";").split(";"):
        if "=" in item:
            k, v = item.split("=", 1)
            out[k.strip()] = v.strip()
    return out


def load_annotation(path: str | Path) -> Annotation:
    """Read a GTF or GFF3 (optionally gzipped) into an ``Annotation``.

    Raises:
        UserError: unreadable file, no transcripts (exons with transcript ids), or no CDS features.
    """
    path = Path(path)
    is_gff = ".gff" in path.name.lower()
    tx: dict[str, dict] = {}
    genes: dict[str, dict] = {}  # GFF3 gene records by ID
    exons: dict[str, list] = {}
    cds: dict[str, list] = {}
    stops: dict[str, list] = {}
    utrs: dict[str, list] = {}  # UTR features: with CDS and stop codons, the exons of a transcript that lists none
    n_lines = 0
    with open_text(path, "a GTF or GFF3 gene annotation (Ensembl/GENCODE style)") as fh:
        for line_no, line in enumerate(fh, start=1):
            if line.startswith("#") or not line.strip():
                continue
            f = line.rstrip("\n").split("\t")
            if len(f) != 9:
                raise UserError(f"{path}: line {line_no}: {len(f)} tab-separated fields, a GTF/GFF3 line has 9: "
                                f"check the file is a GTF or GFF3")
            n_lines += 1
            contig, _src, feature, a, b, _score, strand, _frame, attrs = f
            try:
                a0, b0 = int(a) - 1, int(b)
            except ValueError:
                raise UserError(f"{path}: line {line_no}: start/end {a!r}/{b!r} are not integers") from None
            if is_gff:
                if feature in _PARTS:  # hot path: only the parent matters
                    m = _PARENT.search(attrs)
                    if m:
                        target = {"exon": exons, "CDS": cds, "stop_codon": stops}.get(feature, utrs)
                        item = (contig, strand, a0, b0)
                        for p in m.group(1).split(","):
                            target.setdefault(p.removeprefix("transcript:"), []).append(item)
                    continue
                if feature not in ("gene", "mRNA", "transcript") and "Parent=gene:" not in attrs and "gene_id" not in attrs:
                    continue
                at = _parse_gff_attrs(attrs)
                if feature == "gene" or "gene_id" in at and feature not in ("exon", "CDS"):
                    if "ID" in at:
                        genes[at["ID"]] = at
                parents = at.get("Parent", "").split(",")
                if feature in ("mRNA", "transcript") or (at.get("Parent", "").startswith("gene:") and feature not in ("exon", "CDS")):
                    gene = genes.get(at.get("Parent", ""), {})
                    tid = at.get("ID", "").removeprefix("transcript:")
                    tx[tid] = dict(contig=contig, strand=strand, start=a0, end=b0,
                                   gene_id=gene.get("gene_id", at.get("Parent", "").removeprefix("gene:")),
                                   gene_name=gene.get("Name", gene.get("gene_name", at.get("Parent", ""))),
                                   biotype=at.get("biotype", at.get("transcript_type", "")),
                                   tag=at.get("tag", "") + ("," + at.get("Ensembl_canonical", "") if "Ensembl_canonical" in at else ""))
                    continue
                target = {"exon": exons, "CDS": cds, "stop_codon": stops}.get(feature)
                if target is not None:
                    for p in parents:
                        target.setdefault(p.removeprefix("transcript:"), []).append((contig, strand, a0, b0))
            else:
                if feature != "transcript" and feature not in _PARTS:
                    continue
                at = _parse_gtf_attrs(attrs)
                tid = at.get("transcript_id")
                if not tid:
                    continue
                if tid not in tx:
                    tx[tid] = dict(contig=contig, strand=strand, start=a0, end=b0, gene_id=at.get("gene_id", ""),
                                   gene_name=at.get("gene_name", at.get("gene_id", "")),
                                   biotype=at.get("transcript_biotype", at.get("transcript_type", "")),
                                   tag=at.get("tag", ""))
                t = tx[tid]
                if feature == "transcript":
                    t.update(start=a0, end=b0)
                    if at.get("tag"):
                        t["tag"] = at["tag"]
                else:
                    {"exon": exons, "CDS": cds, "stop_codon": stops}.get(feature, utrs).setdefault(tid, []).append(
                        (contig, strand, a0, b0))
    if n_lines == 0:
        raise UserError(f"{path}: no features: give a GTF or GFF3 with transcript, exon and CDS lines")
    _derive_exons(path, tx, exons, cds, stops, utrs)
    ids = [t for t in tx if t in exons]
    if not ids:
        raise UserError(f"{path}: no transcripts with exons (transcript_id attributes / transcript features): "
                        f"give an Ensembl/GENCODE-style annotation")
    if not cds:
        raise UserError(f"{path}: no CDS features: coding consequences need them; give an annotation with CDS "
                        f"lines (e.g. Ensembl or GENCODE GTF)")
    return _to_arrays(str(path), ids, tx, exons, cds, stops)


def _derive_exons(path: Path, tx: dict, exons: dict, cds: dict, stops: dict, utrs: dict) -> None:
    """Transcripts with CDS (or UTR) lines but no exon lines get exons from CDS + stop codon + UTRs, as GFF
    tools (gffread, AGAT) do; said in the log with the genes named, so no coding gene leaves silently."""
    derived = []
    for tid in tx:
        if tid not in exons and (tid in cds or tid in utrs):
            parts = cds.get(tid, []) + stops.get(tid, []) + utrs.get(tid, [])
            contig, strand = parts[0][:2]
            exons[tid] = [(contig, strand, a, b) for a, b in merge_intervals([(p[2], p[3]) for p in parts])]
            derived.append(tx[tid]["gene_name"])
    if derived:
        genes = sorted(set(derived))
        log.warning("%s: %d transcript(s) of %d gene(s) have CDS/UTR lines but no exon lines: exons derived from "
                    "CDS, stop codon and UTRs (%s%s)", path, len(derived), len(genes), ", ".join(genes[:10]),
                    ", ..." if len(genes) > 10 else "")


def _to_arrays(path, ids, tx, exons, cds, stops) -> Annotation:
    ex_s, ex_e, ex_off = [], [], [0]
    cd_s, cd_e, cd_off = [], [], [0]
    rows = []
    for tid in ids:
        t = tx[tid]
        ex = merge_intervals([(a, b) for _, _, a, b in exons[tid]])
        cs = merge_intervals([(a, b) for _, _, a, b in cds.get(tid, [])] + [(a, b) for _, _, a, b in stops.get(tid, [])])
        ex_s += [a for a, _ in ex]
        ex_e += [b for _, b in ex]
        ex_off.append(len(ex_s))
        cd_s += [a for a, _ in cs]
        cd_e += [b for _, b in cs]
        cd_off.append(len(cd_s))
        start = min(t["start"], ex[0][0])
        end = max(t["end"], ex[-1][1])
        canonical = any(tag in t["tag"] for tag in CANONICAL_TAGS)
        rows.append((tid, t["gene_id"], t["gene_name"], t["contig"], 1 if t["strand"] == "+" else -1, start, end,
                     canonical, bool(cs)))
    cols = list(zip(*rows))
    return Annotation(
        path=path, tx_id=np.array(cols[0], dtype=object), gene_id=np.array(cols[1], dtype=object),
        gene_name=np.array(cols[2], dtype=object), contig=np.array(cols[3], dtype=object),
        strand=np.array(cols[4], dtype=np.int8), start=np.array(cols[5], dtype=np.int64),
        end=np.array(cols[6], dtype=np.int64), canonical=np.array(cols[7], dtype=bool),
        coding=np.array(cols[8], dtype=bool),
        exon_start=np.array(ex_s, dtype=np.int64), exon_end=np.array(ex_e, dtype=np.int64),
        exon_off=np.array(ex_off, dtype=np.int64), cds_start=np.array(cd_s, dtype=np.int64),
        cds_end=np.array(cd_e, dtype=np.int64), cds_off=np.array(cd_off, dtype=np.int64),
    )
