"""Locate the resources bundled with oncorisk (gene catalogue, pathways, network, error profiles)."""

from __future__ import annotations

import csv
from pathlib import Path

GENE_TABLES = ("cancer_genes.tsv", "background_genes.tsv")  # the gene catalogue: cancer genes, then background


def resources_dir() -> Path:
    """Return the bundled resources folder: inside the installed package, or the checkout's resources/."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "resources", here.parents[1] / "resources"):
        if (candidate / "genes" / "cancer_genes.tsv").is_file():
            return candidate
    raise FileNotFoundError(
        f"oncorisk's bundled resources were not found next to {here}; reinstall oncorisk (pip install -e .)"
    )


def resource_path(*parts: str) -> Path:
    """Path of one bundled resource, e.g. ``resource_path("pathways", "oncogenic_pathways.gmt")``."""
    return resources_dir().joinpath(*parts)


def read_tsv_comments(path: Path) -> list[dict]:
    """Rows of a TSV whose leading '#' lines are comments."""
    with open(path, newline="") as fh:
        rows = [line for line in fh if line.strip() and not line.startswith("#")]
    return list(csv.DictReader(rows, delimiter="\t"))


def gene_catalogue() -> list[dict]:
    """Rows of the bundled gene catalogue (gene, role, protein_length, driver_pathway): cancer genes, then the
    background housekeeping genes."""
    return [r for table in GENE_TABLES for r in read_tsv_comments(resource_path("genes", table))]
