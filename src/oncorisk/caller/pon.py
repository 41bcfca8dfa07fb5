"""Panel of normals: alleles seen in the normals of other people are artefacts or germline, not somatic.

``build_pon`` counts, over normal samples' VCFs (any caller), in how many samples each allele is present
(non-reference GT; a VCF without genotypes counts as one sample carrying every PASS record), after splitting
multi-allelic records, trimming and left-aligning against the reference, and keeps the alleles seen in at
least ``min_samples`` samples: a sites-only VCF with INFO NSAMPLES and FRACTION (as GATK's
CreateSomaticPanelOfNormals). ``PonFilter`` then gives calls whose allele is in the panel FILTER ``PON``
(a PASS call only; its INFO gains PON=NSAMPLES), so the call stays in the VCF, traceable, but is not used
downstream (the impact stage reads PASS records by default).
"""

from __future__ import annotations

from pathlib import Path

import pysam

from oncorisk import __version__
from oncorisk.errors import UserError
from oncorisk.io.atomic import write_bgzip_vcf
from oncorisk.genome.alleles import normalise_allele
from oncorisk.tensors.labels import genotype_class, open_vcf
from oncorisk.genome.fasta import open_reference

PON_FILTER = '##FILTER=<ID=PON,Description="The allele is in the panel of normals">'
PON_INFO = '##INFO=<ID=PON,Number=1,Type=Integer,Description="Normal samples of the panel carrying the allele">'


def _check_contigs(vf: pysam.VariantFile, path, fasta: pysam.FastaFile, ref: str) -> None:
    names = set(vf.header.contigs)
    if names and not names & set(fasta.references):
        raise UserError(f"{path}: no contig in common with the reference {ref} (VCF: {', '.join(sorted(names)[:3])}; "
                        f"FASTA: {', '.join(fasta.references[:3])}): rename the contigs "
                        f"(bcftools annotate --rename-chrs)")


def build_pon(vcfs: list[str], ref: str, out: str, min_samples: int = 2, include_filtered: bool = False) -> dict:
    """Write the panel (bgzipped, indexed, sites-only VCF) and return a summary."""
    if min_samples < 1:
        raise UserError(f"--min-samples: bad value {min_samples}: at least 1")
    if not out.endswith(".vcf.gz"):
        raise UserError(f"--out: bad value {out!r}: the panel is bgzipped and indexed: name it *.vcf.gz")
    fasta = open_reference(ref)  # one-line errors for a missing, gzipped or unindexable FASTA
    order = {c: i for i, c in enumerate(fasta.references)}
    holders: dict[tuple[str, int, str, str], set[int]] = {}  # allele -> the normal samples carrying it
    n_samples = 0
    for path in vcfs:
        vf = open_vcf(path, "normal VCF")
        _check_contigs(vf, path, fasta, ref)
        columns = list(vf.header.samples) or [None]
        first = n_samples
        n_samples += len(columns)
        for rec in vf:
            if rec.chrom not in order:
                continue
            if not include_filtered and "PASS" not in rec.filter.keys() and len(rec.filter.keys()) > 0:
                continue
            for k, alt in enumerate(rec.alts or (), start=1):
                carried = {first + j for j, c in enumerate(columns)
                           if genotype_class(rec.samples[c].get("GT") if c is not None else None, k) > 0}
                if not carried:
                    continue
                for pos, r, a in normalise_allele(fasta, rec.chrom, rec.pos - 1, rec.ref, alt):
                    holders.setdefault((rec.chrom, pos, r, a), set()).update(carried)
    carriers = {k: len(v) for k, v in holders.items()}  # a sample listing an allele twice counts once
    kept = sorted((k for k, n in carriers.items() if n >= min_samples), key=lambda k: (order[k[0]], k[1], k[2], k[3]))
    header = "\n".join([
        "##fileformat=VCFv4.2", f"##source=oncorisk-make-pon-{__version__}",
        f"##reference=file://{Path(ref).resolve()}",
        f"##oncorisk_pon=<normals={n_samples},min_samples={min_samples},vcfs={len(vcfs)}>",
        *[f"##contig=<ID={c},length={n}>" for c, n in zip(fasta.references, fasta.lengths)],
        '##INFO=<ID=NSAMPLES,Number=1,Type=Integer,Description="Normal samples carrying the allele">',
        '##INFO=<ID=FRACTION,Number=1,Type=Float,Description="Fraction of the normal samples carrying the allele">',
        "\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO"]),
    ]) + "\n"
    lines = (f"{c}\t{p + 1}\t.\t{r}\t{a}\t.\tPASS\tNSAMPLES={carriers[(c, p, r, a)]};"
             f"FRACTION={carriers[(c, p, r, a)] / n_samples:.4g}" for c, p, r, a in kept)
    write_bgzip_vcf(out, header, lines)
    return dict(normals=n_samples, vcfs=len(vcfs), alleles_seen=len(carriers), kept=len(kept))


class PonFilter:
    """Alleles of a panel of normals, looked up by normalised (contig, 0-based pos, ref, alt)."""

    def __init__(self, path: str, fasta: pysam.FastaFile, ref: str):
        vf = open_vcf(path, "panel of normals")
        _check_contigs(vf, path, fasta, ref)
        self.fasta = fasta
        self.path = path
        self.alleles: dict[tuple[str, int, str, str], int] = {}
        known = set(fasta.references)
        for rec in vf:
            if rec.chrom not in known:
                continue
            n = rec.info.get("NSAMPLES", 1)
            for alt in rec.alts or ():
                for pos, r, a in normalise_allele(fasta, rec.chrom, rec.pos - 1, rec.ref, alt):
                    self.alleles[(rec.chrom, pos, r, a)] = max(n, self.alleles.get((rec.chrom, pos, r, a), 0))

    def __len__(self) -> int:
        return len(self.alleles)

    def apply(self, line: str) -> str:
        """A VCF record line, with FILTER PON (and INFO PON=n) when it PASSed and one of its alleles is in the panel."""
        f = line.split("\t")
        if f[6] != "PASS":
            return line
        hits = [self.alleles.get((f[0], pos, r, a), 0) for alt in f[4].split(",")
                for pos, r, a in normalise_allele(self.fasta, f[0], int(f[1]) - 1, f[3], alt)]
        n = max(hits, default=0)
        if n == 0:
            return line
        f[6] = "PON"
        f[7] = f"PON={n}" if f[7] in (".", "") else f"{f[7]};PON={n}"
        return "\t".join(f)
