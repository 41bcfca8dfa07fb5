"""Count reads supporting a variant's alt allele in a BAM, independently of the simulator's code (pysam pileup)."""

from __future__ import annotations

import pysam


def allele_counts(bam: pysam.AlignmentFile, contig: str, pos0: int, ref: str, alt: str) -> tuple[int, int]:
    """(alt-supporting reads, depth) at a VCF-style variant; duplicates and secondary reads are skipped.

    SNV: the read's base at pos0. Insertion/deletion: the read has exactly that indel right after the anchor.
    """
    alt_n = depth = 0
    for col in bam.pileup(contig, pos0, pos0 + 1, truncate=True, stepper="all", ignore_orphans=False,
                          min_base_quality=0, ignore_overlaps=False, flag_filter=0x400 | 0x100 | 0x800 | 0x4):
        for pr in col.pileups:
            depth += 1
            if len(ref) == len(alt):
                if not pr.is_del and not pr.is_refskip and pr.alignment.query_sequence[pr.query_position] == alt:
                    alt_n += 1
            elif len(alt) > len(ref):
                ins = alt[1:]
                if pr.indel == len(ins) and not pr.is_del:
                    q = pr.query_position
                    if pr.alignment.query_sequence[q + 1 : q + 1 + len(ins)] == ins:
                        alt_n += 1
            elif pr.indel == -(len(ref) - len(alt)):
                alt_n += 1
    return alt_n, depth
