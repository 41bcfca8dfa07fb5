"""Regions of a reference: BED files and CONTIG[:START-END] strings as merged 0-based half-open intervals."""

from __future__ import annotations

import re
from pathlib import Path

import pysam

from oncorisk.errors import UserError
from oncorisk.io.intervals import merge_intervals

REGION_RE = re.compile(r"^(?P<contig>[^:]+)(?::(?P<start>\d[\d,]*)-(?P<end>\d[\d,]*))?$")


def parse_regions(items: list[str] | None, fasta: pysam.FastaFile) -> list[tuple[str, int, int]]:
    """Regions (BED files, CONTIG, CONTIG:START-END) as sorted, merged 0-based half-open intervals."""
    lengths = dict(zip(fasta.references, fasta.lengths))
    raw: list[tuple[str, int, int]] = []
    if not items:
        raw = [(c, 0, n) for c, n in lengths.items()]
    for item in items or []:
        if Path(item).is_file():
            from oncorisk.io.intervals import read_bed

            for contig, ivs in read_bed(item).items():
                if contig not in lengths:
                    raise UserError(f"{item}: contig {contig!r} is not in the reference: use the reference's "
                                    f"names ({', '.join(list(lengths)[:4])}...)")
                raw += [(contig, a, min(b, lengths[contig])) for a, b in ivs]
            continue
        m = REGION_RE.match(item.strip())
        if not m or m["contig"] not in lengths:
            raise UserError(f"--regions: bad value {item!r}: give a BED file, or CONTIG or CONTIG:START-END with a "
                            f"contig of the reference ({', '.join(list(lengths)[:4])}...)")
        c = m["contig"]
        if m["start"] is None:
            raw.append((c, 0, lengths[c]))
        else:
            s, e = int(m["start"].replace(",", "")), int(m["end"].replace(",", ""))
            if s < 1 or e < s:
                raise UserError(f"--regions: bad value {item!r}: START must be >= 1 and END >= START (1-based, inclusive)")
            raw.append((c, s - 1, min(e, lengths[c])))
    order = {c: i for i, c in enumerate(lengths)}
    out = []
    for c in sorted({r[0] for r in raw}, key=order.get):
        out += [(c, a, b) for a, b in merge_intervals([(a, b) for cc, a, b in raw if cc == c]) if b > a]
    return out
