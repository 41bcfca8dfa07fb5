"""Interval helpers shared by the stages: merging, BED reading and sizes."""

from __future__ import annotations

from pathlib import Path


def merge_intervals(items) -> list[tuple[int, int]]:
    """Sorted, merged half-open intervals (overlapping or touching ones joined)."""
    out: list[list[int]] = []
    for a, b in sorted(items):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def read_bed(path: str | Path) -> dict[str, list[tuple[int, int]]]:
    """Merged intervals of a BED file by contig (header, track and browser lines skipped)."""
    from oncorisk.errors import UserError

    from oncorisk.io.text import read_text

    path = Path(path)
    text = read_text(path, "a BED file (chrom, start, end; tab-separated)")
    by: dict[str, list[tuple[int, int]]] = {}
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith(("#", "track", "browser")):
            continue
        f = line.split("\t")
        try:
            a, b = int(f[1]), int(f[2])
        except (IndexError, ValueError):
            raise UserError(f"{path}: line {n}: {line[:40]!r} is not a BED record: give chrom, start, end "
                            f"(0-based, tab-separated)") from None
        if a < 0 or b < a:
            raise UserError(f"{path}: line {n}: start {a} and end {b}: need 0 <= start <= end")
        by.setdefault(f[0], []).append((a, b))
    return {c: merge_intervals(v) for c, v in by.items()}


def total_size(intervals: dict[str, list[tuple[int, int]]]) -> int:
    """Bases covered by merged intervals."""
    return sum(b - a for items in intervals.values() for a, b in items)
