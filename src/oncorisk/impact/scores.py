"""MutationImpact(gene, sample) = Σ f(xᵢ)·wᵢ: the effect f of each mutation times the weight w of its position.

f(x) = consequence weight (terms.DEFAULT_WEIGHTS, or a TSV ``consequence  weight``)
       × min(1, 2·VAF)            when vaf scaling is on and the VAF is known (a clonal heterozygous hit = 1)
       × (1 − 10^(−QUAL/10))      when confidence scaling is on and QUAL is known
w    = gene weight (TSV ``gene  weight``, default 1)
       × position weight: the hotspot weight (default 3) when the variant hits a hotspot residue or position,
         else the weight of a weighted region or protein domain it falls in, else 1.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from oncorisk.errors import UserError, input_error
from oncorisk.impact.terms import DEFAULT_WEIGHTS

_RESIDUE = re.compile(r"^(?:p\.)?[A-Z*]?[a-z]{0,2}(\d+)")


def protein_position(change: str) -> int:
    """Residue number of a protein change such as p.G12D, G12D, p.Gly12Asp or p.R175* (0 when none)."""
    m = _RESIDUE.match(change or "")
    return int(m.group(1)) if m else 0


def _rows(path: Path, what: str) -> list[list[str]]:
    if not Path(path).is_file():
        raise UserError(f"{path}: {what} not found: give an existing TSV")
    with open(path, newline="") as fh:
        return [r for r in csv.reader(fh, delimiter="\t") if r and not r[0].startswith("#")]


def _number(path, row_no: int, column: str, value: str) -> float:
    try:
        x = float(value)
    except ValueError:
        raise input_error(path, f"row {row_no}, column {column}", value, "a number") from None
    if not math.isfinite(x) or x < 0:
        raise input_error(path, f"row {row_no}, column {column}", value, "a finite number >= 0")
    return x


@dataclass
class Weights:
    """Where f and w come from (see the module docstring)."""

    consequence: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    vaf_scaling: bool = False
    confidence_scaling: bool = False
    hotspot_weight: float = 3.0
    hotspot_positions: set = field(default_factory=set)  # (contig, pos)
    hotspot_residues: set = field(default_factory=set)  # (gene, residue)
    regions: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=dict)
    domains: dict[str, list[tuple[int, int, float]]] = field(default_factory=dict)
    genes: dict[str, float] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)

    def f(self, consequence: str, vaf: float, qual: float) -> float:
        value = self.consequence.get(consequence, 0.0)
        if self.vaf_scaling and not math.isnan(vaf):
            value *= min(1.0, 2 * vaf)
        if self.confidence_scaling and not math.isnan(qual):
            value *= 1 - 10 ** (-qual / 10)
        return value

    def w(self, gene: str, contig: str, pos: int, residue: int) -> tuple[float, bool]:
        """(w, is_hotspot) for a variant at 1-based ``pos`` hitting ``residue`` of ``gene``."""
        gene_w = self.genes.get(gene, 1.0)
        if (contig, pos) in self.hotspot_positions or (residue and (gene, residue) in self.hotspot_residues):
            return gene_w * self.hotspot_weight, True
        position_w = 1.0
        if contig in self.regions:
            starts, ends, weights = self.regions[contig]
            k = np.searchsorted(starts, pos - 1, side="right") - 1
            if k >= 0 and pos - 1 < ends[k]:
                position_w = float(weights[k])
        elif residue and gene in self.domains:
            hits = [wt for a, b, wt in self.domains[gene] if a <= residue <= b]
            position_w = max(hits) if hits else 1.0
        return gene_w * position_w, False


def load_weights(consequence_tsv: str | None = None, hotspots: str | None = None, hotspot_weight: float = 3.0,
                 regions: str | None = None, gene_weights: str | None = None, vaf_scaling: bool = False,
                 confidence_scaling: bool = False) -> Weights:
    """Build ``Weights`` from the configured tables (each optional)."""
    w = Weights(vaf_scaling=vaf_scaling, confidence_scaling=confidence_scaling, hotspot_weight=hotspot_weight)
    if consequence_tsv:
        for i, row in enumerate(_rows(Path(consequence_tsv), "consequence weight table"), start=1):
            if row[0] == "consequence":
                continue
            if row[0] not in DEFAULT_WEIGHTS:
                raise input_error(consequence_tsv, f"row {i}, column consequence", row[0],
                                  "a Sequence Ontology term such as missense_variant (see docs/impact.md)")
            w.consequence[row[0]] = _number(consequence_tsv, i, "weight", row[1] if len(row) > 1 else "")
        w.sources["consequence"] = str(consequence_tsv)
    if hotspots:
        for i, row in enumerate(_rows(Path(hotspots), "hotspot table"), start=1):
            if len(row) < 7:
                raise input_error(hotspots, f"row {i}", "\t".join(row),
                                  "cancerhotspots layout: chrom, pos, ref, alt, gene, class, protein change")
            try:
                w.hotspot_positions.add((row[0], int(row[1])))
            except ValueError:
                raise input_error(hotspots, f"row {i}, column 2 (pos)", row[1], "an integer position") from None
            residue = protein_position(row[6])
            if residue:
                w.hotspot_residues.add((row[4], residue))
        w.sources["hotspots"] = str(hotspots)
    if regions:
        rows = _rows(Path(regions), "weighted regions")
        if rows and rows[0][0].lower() == "gene":  # protein domains: gene, start_aa, end_aa, weight
            for i, row in enumerate(rows[1:], start=2):
                w.domains.setdefault(row[0], []).append(
                    (int(row[1]), int(row[2]), _number(regions, i, "weight", row[3])))
        else:  # BED-like: chrom, start (0-based), end, weight
            by: dict[str, list] = {}
            for i, row in enumerate(rows, start=1):
                if row[0] in ("chrom", "track", "browser"):
                    continue
                if len(row) < 4:
                    raise input_error(regions, f"row {i}", "\t".join(row), "chrom, start, end, weight (tab-separated)")
                by.setdefault(row[0], []).append((int(row[1]), int(row[2]), _number(regions, i, "weight", row[3])))
            for c, items in by.items():
                items.sort()
                w.regions[c] = tuple(np.array(x) for x in zip(*items))
        w.sources["regions"] = str(regions)
    if gene_weights:
        for i, row in enumerate(_rows(Path(gene_weights), "gene weight table"), start=1):
            if row[0] == "gene":
                continue
            w.genes[row[0]] = _number(gene_weights, i, "weight", row[1] if len(row) > 1 else "")
        w.sources["genes"] = str(gene_weights)
    return w
