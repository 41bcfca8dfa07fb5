"""Gene-gene interactions from WikiPathways GPML diagrams.

Each Interaction joins the DataNodes (or Groups, expanded to their member DataNodes) its two end points refer
to; only GeneProduct, Protein and Rna nodes count, named by their TextLabel (the symbol in WikiPathways'
human diagrams).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from oncorisk.errors import UserError

GENE_TYPES = {"GeneProduct", "Protein", "Rna"}


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def gpml_edges(path: str | Path) -> list[tuple[str, str]]:
    """Undirected gene pairs from one GPML file."""
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise UserError(f"{path}: not valid GPML/XML ({exc}): give a WikiPathways .gpml file") from None
    genes_by_id: dict[str, str] = {}
    group_members: dict[str, list[str]] = {}
    group_graph_to_id: dict[str, str] = {}
    for el in root.iter():
        tag = _local(el.tag)
        if tag == "DataNode" and el.get("Type") in GENE_TYPES and el.get("TextLabel"):
            label = el.get("TextLabel").strip().split()[0]
            if el.get("GraphId"):
                genes_by_id[el.get("GraphId")] = label
            if el.get("GroupRef"):
                group_members.setdefault(el.get("GroupRef"), []).append(label)
        elif tag == "Group" and el.get("GraphId") and el.get("GroupId"):
            group_graph_to_id[el.get("GraphId")] = el.get("GroupId")

    def resolve(ref: str | None) -> list[str]:
        if ref in genes_by_id:
            return [genes_by_id[ref]]
        if ref in group_graph_to_id:
            return group_members.get(group_graph_to_id[ref], [])
        return []

    edges = []
    for el in root.iter():
        if _local(el.tag) != "Interaction":
            continue
        points = [p for p in el.iter() if _local(p.tag) == "Point"]
        if len(points) < 2:
            continue
        src, dst = resolve(points[0].get("GraphRef")), resolve(points[-1].get("GraphRef"))
        edges += [(a, b) for a in src for b in dst if a != b]
    return edges
