"""Gene sets from GMT files (symbols, or Entrez ids with a mapping table)."""

from __future__ import annotations

from pathlib import Path

from oncorisk.errors import UserError, input_error


def load_gmt(path: str | Path, id_map: str | Path | None = None) -> dict[str, tuple[str, list[str]]]:
    """Read a GMT: name<TAB>description<TAB>gene...; with ``id_map`` (TSV id<TAB>symbol) ids become symbols.

    Returns:
        {name: (description, genes)} in file order.
    Raises:
        UserError: a line with no genes, a duplicate set name, or an unreadable file.
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: gene-set file not found: give a GMT (name, description, genes, tab-separated)")
    mapping = None
    if id_map:
        mapping = {}
        for line in Path(id_map).read_text().splitlines():
            f = line.split("\t")
            if len(f) >= 2 and not line.startswith("#"):
                mapping[f[0].strip()] = f[1].strip()
    sets: dict[str, tuple[str, list[str]]] = {}
    for n, line in enumerate(path.read_text().splitlines(), start=1):
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
    return sets
