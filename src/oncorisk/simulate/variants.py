"""Germline and somatic variants for the simulated cohort, and truth VCFs.

Positions are 0-based internally; a variant is stored in VCF form (anchor base included for indels),
left-aligned, so that the reads and the truth agree with what aligners and ``bcftools norm`` produce.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from oncorisk.genome.alleles import left_align
from oncorisk.genome.vcf import write_vcf  # noqa: F401 - the simulator's truth and call files
from oncorisk.simulate.genome import GeneModel, Hotspot
from oncorisk.simulate.sequence import GENETIC_CODE, STOP_CODONS

MIN_SPACING = 15  # bp between any two variants of one patient, so that each is a clean, separate site
_COMP = {"A": "T", "C": "G", "G": "C", "T": "A"}
TRANSITION = {"A": "G", "G": "A", "C": "T", "T": "C"}


@dataclass(frozen=True)
class Variant:
    """One variant. ``pos`` is 0-based (the VCF POS minus 1); ``hap`` is 0 or 1 (germline: bitmask of carrying haplotypes)."""

    contig: str
    pos: int
    ref: str
    alt: str
    hap: int = 1
    ccf: float = 1.0
    vaf: float = 0.5
    gene: str = ""
    driver: str = ""
    protein_change: str = ""

    @property
    def kind(self) -> str:
        if len(self.ref) == len(self.alt) == 1:
            return "SNV"
        return "DEL" if len(self.ref) > len(self.alt) else "INS"

    @property
    def end(self) -> int:
        return self.pos + len(self.ref)


class Occupancy:
    """Keeps variants of one patient at least MIN_SPACING bp apart."""

    def __init__(self, contig_lengths: dict[str, int]):
        self.masks = {c: np.zeros(n, dtype=bool) for c, n in contig_lengths.items()}

    def free(self, contig: str, start: int, end: int) -> bool:
        mask = self.masks[contig]
        lo, hi = max(0, start - MIN_SPACING), min(len(mask), end + MIN_SPACING)
        return hi - lo > 0 and start >= 1 and end < len(mask) - 1 and not mask[lo:hi].any()

    def take(self, v: Variant) -> None:
        self.masks[v.contig][v.pos : v.end] = True


def random_snv(rng: np.random.Generator, seq: np.ndarray, contig: str, pos: int) -> Variant:
    """An SNV at ``pos`` with a realistic spectrum: transitions 2:1 over transversions, CpG C>T favoured."""
    ref = chr(seq[pos])
    cpg = (ref == "C" and chr(seq[pos + 1]) == "G") or (ref == "G" and chr(seq[pos - 1]) == "C")
    if rng.random() < (0.9 if cpg else 0.67):
        alt = TRANSITION[ref]
    else:
        alt = str(rng.choice([b for b in "ACGT" if b != ref and b != TRANSITION[ref]]))
    return Variant(contig, pos, ref, alt)


def random_indel(rng: np.random.Generator, seq: np.ndarray, contig: str, pos: int) -> Variant:
    """A 1-4 bp insertion or deletion anchored at ``pos`` (then left-aligned)."""
    size = int(min(1 + rng.geometric(0.55) - 1, 4)) or 1
    if rng.random() < 0.55:
        ref = seq[pos : pos + size + 1].tobytes().decode()
        alt = ref[0]
    else:
        ref = chr(seq[pos])
        # insertions often copy the neighbouring sequence (duplications), otherwise random bases
        ins = seq[pos + 1 : pos + 1 + size].tobytes().decode() if rng.random() < 0.6 else "".join(
            rng.choice(list("ACGT"), size=size))
        alt = ref + ins
    p, r, a = left_align(seq, pos, ref, alt)
    return Variant(contig, p, r, a)


def repeat_positions(seq: np.ndarray, min_run: int = 5) -> np.ndarray:
    """Start positions of homopolymer runs of at least ``min_run`` bases (indel-prone sites)."""
    change = np.flatnonzero(seq[1:] != seq[:-1]) + 1
    starts = np.concatenate(([0], change))
    lengths = np.diff(np.concatenate((starts, [len(seq)])))
    return starts[lengths >= min_run]


def germline_pool(rng: np.random.Generator, contigs: dict[str, np.ndarray]) -> list[tuple[Variant, float]]:
    """Population germline sites with allele frequencies: SNVs ~1/1,200 bp, indels ~1/9,000 bp (40% at homopolymers)."""
    pool: list[tuple[Variant, float]] = []
    occ = Occupancy({c: len(s) for c, s in contigs.items()})
    for contig, seq in contigs.items():
        n = len(seq)
        candidates = []
        for pos in rng.integers(2, n - 20, size=n // 1200):
            candidates.append(random_snv(rng, seq, contig, int(pos)))
        runs = repeat_positions(seq)
        for _ in range(n // 9000):
            if rng.random() < 0.4 and len(runs):
                pos = int(runs[rng.integers(0, len(runs))]) - 1
            else:
                pos = int(rng.integers(2, n - 20))
            candidates.append(random_indel(rng, seq, contig, max(pos, 1)))
        for v in candidates:
            if v.ref == v.alt or "N" in v.ref or not occ.free(contig, v.pos, v.end):
                continue
            occ.take(v)
            pool.append((v, float(np.clip(rng.beta(0.4, 0.9), 0.01, 0.99))))
    pool.sort(key=lambda t: (list(contigs).index(t[0].contig), t[0].pos))
    return pool


def genotype_patient(rng: np.random.Generator, pool: list[tuple[Variant, float]]) -> list[Variant]:
    """Draw one patient's germline genotypes (Hardy-Weinberg); ``hap`` is a bitmask of carrying haplotypes."""
    afs = np.array([af for _, af in pool])
    haps = rng.random((len(pool), 2)) < afs[:, None]
    out = []
    for (v, _), (h0, h1) in zip(pool, haps):
        mask = int(h0) | (int(h1) << 1)
        if mask:
            out.append(Variant(v.contig, v.pos, v.ref, v.alt, hap=mask, vaf=1.0 if mask == 3 else 0.5))
    return out


def vaf_ccf(rng: np.random.Generator, purity: float, clonal: bool) -> tuple[float, float]:
    """Cancer-cell fraction and expected VAF (purity * ccf / 2, diploid, one mutated copy), VAF >= 0.05."""
    min_ccf = min(1.0, 0.1 / purity)
    ccf = 1.0 if clonal else float(rng.uniform(min_ccf, 1.0))
    return ccf, purity * ccf / 2


def hotspot_variant(seq: np.ndarray, gene: GeneModel, hs: Hotspot) -> Variant:
    """The genomic SNV that turns hotspot ``hs``'s ref codon into its alt codon."""
    diff = [i for i in range(3) if hs.ref_codon[i] != hs.alt_codon[i]]
    assert len(diff) == 1, f"hotspot {hs} must change one base"
    gpos = int(gene.codon_positions(hs.codon)[diff[0]])
    alt = hs.alt_codon[diff[0]] if gene.strand == "+" else _COMP[hs.alt_codon[diff[0]]]
    ref = chr(seq[gpos])
    assert (ref if gene.strand == "+" else _COMP[ref]) == hs.ref_codon[diff[0]]
    return Variant(gene.contig, gpos, ref, alt, gene=gene.name, protein_change=hs.protein_change)


def truncating_variant(rng: np.random.Generator, seq: np.ndarray, gene: GeneModel) -> Variant | None:
    """A stop-gained SNV or a frameshift indel in the first 80% of a tumour suppressor's coding sequence."""
    n_codons = len(gene.codons) - 1
    if rng.random() < 0.5:
        options = []
        for k in range(2, int(n_codons * 0.8)):
            codon = gene.codons[k - 1]
            for i in range(3):
                for b in "ACGT":
                    mutated = codon[:i] + b + codon[i + 1 :]
                    if b != codon[i] and mutated in STOP_CODONS:
                        options.append((k, i, b))
        if not options:
            return None
        k, i, b = options[int(rng.integers(0, len(options)))]
        gpos = int(gene.codon_positions(k)[i])
        alt = b if gene.strand == "+" else _COMP[b]
        return Variant(gene.contig, gpos, chr(seq[gpos]), alt, gene=gene.name,
                       protein_change=f"p.{GENETIC_CODE[gene.codons[k - 1]]}{k}*")
    k = int(rng.integers(2, max(3, int(n_codons * 0.8))))
    gpos = int(gene.codon_positions(k)[1])
    v = random_indel(rng, seq, gene.contig, gpos)
    if (len(v.ref) - len(v.alt)) % 3 == 0:
        return None
    cds = set(gene.cds_positions.tolist())
    if v.pos + 1 not in cds or v.end - 1 not in cds:  # stay inside one coding exon after left-alignment
        return None
    return Variant(v.contig, v.pos, v.ref, v.alt, gene=gene.name, protein_change=f"p.{GENETIC_CODE[gene.codons[k - 1]]}{k}fs")


GERMLINE_INFO = ['##INFO=<ID=AF_POP,Number=A,Type=Float,Description="Population allele frequency in the simulator">']
GT_FORMAT = ['##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">']
SOMATIC_INFO = [
    '##INFO=<ID=SOMATIC,Number=0,Type=Flag,Description="Somatic mutation">',
    '##INFO=<ID=EXPECTED_VAF,Number=A,Type=Float,Description="Expected tumour allele fraction: purity * CCF / 2">',
    '##INFO=<ID=CCF,Number=A,Type=Float,Description="Cancer cell fraction">',
    '##INFO=<ID=GENE,Number=1,Type=String,Description="Gene hit (simulator truth)">',
    '##INFO=<ID=DRIVER,Number=1,Type=String,Description="Driver pathway this mutation disrupts (simulator truth)">',
    '##INFO=<ID=PCHANGE,Number=1,Type=String,Description="Protein change (simulator truth)">',
]
SOMATIC_FORMAT = [
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
    '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Read depth">',
    '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths for the ref and alt alleles">',
    '##FORMAT=<ID=AF,Number=A,Type=Float,Description="Allele fraction of the alt allele">',
]


def germline_records(variants: list[Variant]) -> list[str]:
    """VCF lines for germline truth (GT phased by haplotype)."""
    gts = {1: "1|0", 2: "0|1", 3: "1|1"}
    return [f"{v.contig}\t{v.pos + 1}\t.\t{v.ref}\t{v.alt}\t.\tPASS\t.\tGT\t{gts[v.hap]}" for v in variants]


def somatic_records(variants: list[Variant], counts: list[tuple[int, int, int, int]] | None = None) -> list[str]:
    """VCF lines for somatic variants; NORMAL then TUMOR columns. ``counts`` gives (n_dp, n_alt, t_dp, t_alt)."""
    lines = []
    for i, v in enumerate(variants):
        info = f"SOMATIC;EXPECTED_VAF={v.vaf:.4f};CCF={v.ccf:.4f}"
        if v.gene:
            info += f";GENE={v.gene}"
        if v.driver:
            info += f";DRIVER={v.driver}"
        if v.protein_change:
            info += f";PCHANGE={v.protein_change}"
        if counts:
            n_dp, n_alt, t_dp, t_alt = counts[i]
            normal = f"0/0:{n_dp}:{n_dp - n_alt},{n_alt}:{n_alt / max(n_dp, 1):.4f}"
            tumour = f"0/1:{t_dp}:{t_dp - t_alt},{t_alt}:{t_alt / max(t_dp, 1):.4f}"
        else:
            normal = "0/0:.:.:."
            tumour = f"0/1:.:.:{v.vaf:.4f}"
        lines.append(f"{v.contig}\t{v.pos + 1}\t.\t{v.ref}\t{v.alt}\t.\tPASS\t{info}\tGT:DP:AD:AF\t{normal}\t{tumour}")
    return lines

