"""Gene sets from GMT files (symbols, or Entrez ids with a mapping table)."""

from __future__ import annotations

from pathlib import Path

from oncorisk.errors import UserError, input_error
from oncorisk.io.text import read_text


def load_gmt(path: str | Path, id_map: str | Path | None = None) -> dict[str, tuple[str, list[str]]]:
    """Read a GMT: name<TAB>description<TAB>gene...; with ``id_map`` (TSV id<TAB>symbol) ids become symbols.

    Returns:
        {name: (description, genes)} in file order.
    Raises:
        UserError: a line with no genes, a duplicate set name, or an unreadable file.
    """
    path = Path(path)
    text = read_text(path, "a GMT gene-set file (name, description, genes, tab-separated)", "--gene-sets")
    mapping = None
    if id_map:
        mapping = {}
        for line in read_text(id_map, "a TSV id<TAB>symbol", "--gene-set-ids").splitlines():
            f = line.split("\t")
            if len(f) >= 2 and not line.startswith("#"):
                mapping[f[0].strip()] = f[1].strip()
    sets: dict[str, tuple[str, list[str]]] = {}
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        f = line.rstrip("\n").split("\t")
        name = f[0].strip()
        genes = [g.strip() for g in f[2:] if g.strip()]
        if not genes:
            raise input_error(path, f"line {n} (set {name!r})", line[:60], "a GMT line needs at least one gene after "
                              "the name and description, tab-separated")
        if name in sets:
            raise input_error(path, f"line {n}", name, "duplicate gene-set name: each set needs a unique name")
        if mapping is not None:
            genes = [mapping[g] for g in genes if g in mapping]
        sets[name] = (f[1] if len(f) > 1 else "", list(dict.fromkeys(genes)))
    if not sets:
        raise UserError(f"{path}: no gene sets: give a GMT with one set per line")
    if mapping is not None and not any(genes for _, genes in sets.values()):
        raise UserError(f"--gene-set-ids {id_map}: none of the ids in {path} is in the mapping: give a table "
                        f"id<TAB>symbol for the GMT's ids")
    return sets


def looks_like_ids(sets: dict[str, tuple[str, list[str]]]) -> bool:
    """True when (nearly) every member is a number: a GMT in Entrez ids, which needs --gene-set-ids."""
    members = [g for _, genes in sets.values() for g in genes]
    return bool(members) and sum(g.isdigit() for g in members) >= 0.9 * len(members)
