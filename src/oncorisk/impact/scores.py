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
import pandas as pd

from oncorisk.errors import UserError, input_error
from oncorisk.impact.terms import DEFAULT_WEIGHTS
from oncorisk.io.provenance import LOADED

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
    # read from the files named in ``sources`` (provenance records the files, not their contents)
    hotspot_positions: set = field(default_factory=set, metadata=LOADED)  # (contig, pos)
    hotspot_residues: set = field(default_factory=set, metadata=LOADED)  # (gene, residue)
    regions: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=dict, metadata=LOADED)
    domains: dict[str, list[tuple[int, int, float]]] = field(default_factory=dict, metadata=LOADED)
    genes: dict[str, float] = field(default_factory=dict, metadata=LOADED)
    sources: dict[str, str] = field(default_factory=dict)

    def f_array(self, consequence: np.ndarray, vaf: np.ndarray, qual: np.ndarray) -> np.ndarray:
        """f for each row: consequence weight, optionally scaled by VAF and by call confidence."""
        codes, uniques = pd.factorize(consequence)
        f = np.array([self.consequence.get(c, 0.0) for c in uniques] + [0.0], dtype=float)[codes]
        if self.vaf_scaling:
            f = f * np.where(np.isnan(vaf), 1.0, np.minimum(1.0, 2 * np.nan_to_num(vaf)))
        if self.confidence_scaling:
            f = f * np.where(np.isnan(qual), 1.0, 1 - 10 ** (-np.nan_to_num(qual) / 10))
        return f

    def w_array(self, gene: np.ndarray, contig: np.ndarray, pos: np.ndarray, residue: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
        """(w, is_hotspot) for each row: gene weight times the hotspot, region or domain weight."""
        n = len(gene)
        codes, uniques = pd.factorize(gene)
        gene_w = np.array([self.genes.get(g, 1.0) for g in uniques] + [1.0])[codes] if self.genes else np.ones(n)
        hot = np.zeros(n, dtype=bool)
        if self.hotspot_positions:
            cand = np.flatnonzero(np.isin(pos, np.array([p for _, p in self.hotspot_positions], dtype=np.int64)))
            hot[cand] = [(contig[x], int(pos[x])) in self.hotspot_positions for x in cand]
        if self.hotspot_residues:
            cand = np.flatnonzero(np.isin(residue, np.array([r for _, r in self.hotspot_residues], dtype=np.int64)) & ~hot)
            hot[cand] = [(gene[x], int(residue[x])) in self.hotspot_residues for x in cand]
        position_w = np.ones(n)
        for c, (starts, ends, weights) in self.regions.items():
            rows = np.flatnonzero(contig == c)
            k = np.searchsorted(starts, pos[rows] - 1, side="right") - 1
            inside = (k >= 0) & (pos[rows] - 1 < ends[np.maximum(k, 0)])
            position_w[rows[inside]] = weights[k[inside]]
        if self.domains:
            for x in np.flatnonzero(np.isin(gene, list(self.domains)) & (residue > 0)):
                hits = [wt for a, b, wt in self.domains[gene[x]] if a <= residue[x] <= b]
                position_w[x] = max(hits) if hits else 1.0
        return gene_w * np.where(hot, self.hotspot_weight, position_w), hot


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
