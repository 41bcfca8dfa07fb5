"""Locate the resources bundled with oncorisk (gene catalogue, pathways, network, error profiles)."""

from __future__ import annotations

from pathlib import Path


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
