"""Writing a small VCF 4.2 from text records: the simulator's truth and call files, spike-in's truth."""

from __future__ import annotations

from pathlib import Path

from oncorisk import __version__
from oncorisk.io.atomic import write_bgzip_vcf


def write_vcf(path: Path, contigs: dict[str, int], sample_columns: list[str], records: list[str],
              info_lines: list[str], format_lines: list[str], seed: int) -> None:
    """Write a VCF 4.2 as bgzip + tabix index, atomically (sorted records given as text lines)."""
    header = [
        "##fileformat=VCFv4.2",
        f"##source=oncorisk-simulate-{__version__}",
        f"##oncorisk_simulate_seed={seed}",
        *[f"##contig=<ID={c},length={n}>" for c, n in contigs.items()],
        *info_lines,
        *format_lines,
        "#" + "\t".join(["CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT", *sample_columns]),
    ]
    write_bgzip_vcf(path, "\n".join(header) + "\n", records)
