"""Simulated reference genome and gene models.

The background sequence has GC isochores, CpG depletion, homopolymers and short tandem repeats. Genes
from the bundled catalogue are laid out on both strands as multi-exon protein-coding models whose
coding sequences start with ATG, end with a stop codon, carry no internal stop, keep GT..AG splice
signals, and carry the real reference codon at each bundled hotspot.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from oncorisk.errors import UserError
from oncorisk.resources import gene_catalogue, read_tsv_comments, resource_path
from oncorisk.simulate.sequence import BASES, GENETIC_CODE, SENSE_CODONS, STOP_CODONS, revcomp

LINE_WIDTH = 60
EXON_LENGTH = (120, 400)  # bp, uniform, of each internal exon in transcript coordinates
INTRON_LENGTH = (100, 500)  # bp, uniform
UTR5_LENGTH = (40, 150)
UTR3_LENGTH = (100, 400)
MIN_GAP = 1500  # bp of intergenic sequence kept before the first gene and between genes


@dataclass(frozen=True)
class GeneInfo:
    """One catalogue entry (resources/genes/cancer_genes.tsv)."""

    name: str
    role: str
    protein_length: int
    driver_pathway: str | None


@dataclass(frozen=True)
class Hotspot:
    """A recurrent missense hotspot (resources/genes/hotspots.tsv)."""

    gene: str
    codon: int
    ref_codon: str
    alt_codon: str

    @property
    def protein_change(self) -> str:
        return f"p.{GENETIC_CODE[self.ref_codon]}{self.codon}{GENETIC_CODE[self.alt_codon]}"


@dataclass
class GeneModel:
    """A placed gene with one transcript. Coordinates are 0-based, half-open, on the + strand."""

    info: GeneInfo
    gene_id: str
    transcript_id: str
    contig: str
    strand: str
    start: int
    end: int
    exons: list[tuple[int, int]]  # genomic, sorted by position
    cds_positions: np.ndarray  # genomic position of each CDS base (stop codon included), transcript order
    utr5_length: int
    utr3_length: int
    codons: list[str] = field(repr=False, default_factory=list)

    @property
    def name(self) -> str:
        return self.info.name

    def codon_positions(self, codon_number: int) -> np.ndarray:
        """Genomic positions of the three bases of codon ``codon_number`` (1-based), transcript order."""
        i = 3 * (codon_number - 1)
        return self.cds_positions[i : i + 3]


def load_catalogue() -> tuple[list[GeneInfo], dict[str, list[Hotspot]]]:
    """Load the bundled gene catalogue (cancer genes, then background housekeeping genes) and hotspot table."""
    genes = [
        GeneInfo(r["gene"], r["role"], int(r["protein_length"]), None if r["driver_pathway"] == "-" else r["driver_pathway"])
        for r in gene_catalogue()
    ]
    hotspots: dict[str, list[Hotspot]] = {}
    for r in read_tsv_comments(resource_path("genes", "hotspots.tsv")):
        hs = Hotspot(r["gene"], int(r["codon"]), r["ref_codon"], r["alt_codon"])
        hotspots.setdefault(hs.gene, []).append(hs)
    return genes, hotspots


def background_sequence(rng: np.random.Generator, length: int) -> np.ndarray:
    """Random genomic background with GC isochores, CpG depletion, homopolymers and STRs (ASCII uint8)."""
    seq = np.empty(length, dtype=np.uint8)
    pos = 0
    while pos < length:
        seg = min(int(rng.integers(20_000, 80_000)), length - pos)
        gc = rng.uniform(0.35, 0.60)
        probs = np.array([(1 - gc) / 2, gc / 2, gc / 2, (1 - gc) / 2])
        seq[pos : pos + seg] = BASES[rng.choice(4, size=seg, p=probs)]
        pos += seg
    # CpG depletion: most CG dinucleotides decay to TG or CA, as methylated CpGs do in real genomes.
    cg = np.flatnonzero((seq[:-1] == ord("C")) & (seq[1:] == ord("G")))
    decay = cg[rng.random(len(cg)) < 0.75]
    to_tg = rng.random(len(decay)) < 0.5
    seq[decay[to_tg]] = ord("T")
    seq[decay[~to_tg] + 1] = ord("A")
    # Homopolymers, mostly A/T, about one per 1.5 kb.
    for start in rng.integers(0, length - 40, size=length // 1500):
        run = min(6 + int(rng.geometric(0.18)), 30)
        base = int(rng.choice(BASES, p=[0.4, 0.1, 0.1, 0.4]))
        seq[start : start + run] = base
    # Short tandem repeats (unit 2-6 bp, 4-15 copies), about one per 3 kb.
    for start in rng.integers(0, length - 120, size=length // 3000):
        unit = BASES[rng.integers(0, 4, size=int(rng.integers(2, 7)))]
        if len(set(unit.tolist())) == 1:
            unit[-1] = BASES[(int(np.flatnonzero(BASES == unit[0])[0]) + 1) % 4]
        copies = int(rng.integers(4, 16))
        rep = np.tile(unit, copies)
        seq[start : start + len(rep)] = rep
    return seq


def _random_cds(rng: np.random.Generator, info: GeneInfo, hotspots: list[Hotspot], max_codons: int) -> list[str]:
    n = min(info.protein_length, max_codons)
    codons = ["ATG"] + [SENSE_CODONS[i] for i in rng.integers(0, len(SENSE_CODONS), size=n - 1)]
    for hs in hotspots:
        if hs.codon <= n:
            codons[hs.codon - 1] = hs.ref_codon
    codons.append(STOP_CODONS[int(rng.integers(0, 3))])
    return codons


def _exon_lengths(rng: np.random.Generator, mrna_length: int) -> list[int]:
    lengths = []
    remaining = mrna_length
    while remaining > EXON_LENGTH[1] + EXON_LENGTH[0]:
        ex = int(rng.integers(*EXON_LENGTH))
        lengths.append(ex)
        remaining -= ex
    lengths.append(remaining)
    if len(lengths) == 1:  # every gene is multi-exon
        lengths = [remaining // 2, remaining - remaining // 2]
    return lengths


def _gene_span(rng: np.random.Generator, info: GeneInfo, hotspots: list[Hotspot], max_codons: int) -> dict:
    codons = _random_cds(rng, info, hotspots, max_codons)
    utr5 = int(rng.integers(*UTR5_LENGTH))
    utr3 = int(rng.integers(*UTR3_LENGTH))
    cds = "".join(codons)
    mrna_length = utr5 + len(cds) + utr3
    exon_lengths = _exon_lengths(rng, mrna_length)
    introns = [int(rng.integers(*INTRON_LENGTH)) for _ in exon_lengths[1:]]
    return dict(codons=codons, utr5=utr5, utr3=utr3, exon_lengths=exon_lengths, introns=introns,
                span=sum(exon_lengths) + sum(introns))


def _random_utr(rng: np.random.Generator, n: int) -> np.ndarray:
    utr = BASES[rng.integers(0, 4, size=n)]
    # no ATG in the 5' UTR, so the annotated start is the first start codon
    for i in range(n - 2):
        if utr[i] == ord("A") and utr[i + 1] == ord("T") and utr[i + 2] == ord("G"):
            utr[i + 2] = ord("C")
    return utr


def build_genome(
    rng: np.random.Generator, genome_size: int, n_contigs: int, max_codons: int
) -> tuple[dict[str, np.ndarray], list[GeneModel]]:
    """Simulate contigs and place every catalogue gene on them.

    Returns:
        ({contig: sequence}, gene models sorted by contig and position).
    Raises:
        UserError: when the genome is too small for the gene panel.
    """
    catalogue, hotspots = load_catalogue()
    spans = [_gene_span(rng, g, hotspots.get(g.name, []), max_codons) for g in catalogue]
    needed = sum(s["span"] for s in spans) + MIN_GAP * (len(catalogue) + n_contigs)
    if needed > genome_size:
        raise UserError(
            f"simulate.genome_size: bad value {genome_size}: the {len(catalogue)}-gene panel needs at least "
            f"{needed} bp; raise genome_size or lower max_protein_length"
        )
    # contig lengths: the first contig is the largest, as in real karyotypes
    weights = np.linspace(1.0, 0.6, n_contigs)
    lengths = np.floor(weights / weights.sum() * genome_size).astype(int)
    lengths[0] += genome_size - lengths.sum()
    names = [f"chr{i + 1}" for i in range(n_contigs)]
    contigs = {name: background_sequence(rng, int(n)) for name, n in zip(names, lengths)}

    # assign genes to contigs in a seeded order, proportional to contig length
    order = rng.permutation(len(catalogue))
    share = np.cumsum(lengths) / lengths.sum()
    models: list[GeneModel] = []
    cumulative = 0
    per_contig: dict[str, list[int]] = {n: [] for n in names}
    total_span = sum(s["span"] for s in spans)
    for idx in order:
        cumulative += spans[idx]["span"]
        ci = int(np.searchsorted(share, cumulative / total_span - 1e-12))
        per_contig[names[min(ci, n_contigs - 1)]].append(int(idx))
    for name, idxs in per_contig.items():
        free = len(contigs[name]) - sum(spans[i]["span"] for i in idxs) - MIN_GAP * (len(idxs) + 1)
        if free < 0:
            raise UserError(
                f"simulate.genome_size: bad value {genome_size}: contig {name} cannot hold its genes; "
                f"raise genome_size or use fewer contigs"
            )
        gaps = rng.dirichlet(np.ones(len(idxs) + 1)) * free if idxs else []
        pos = 0
        for k, idx in enumerate(idxs):
            pos += MIN_GAP + int(gaps[k])
            strand = "+" if rng.random() < 0.5 else "-"
            models.append(_place_gene(rng, contigs[name], name, pos, strand, catalogue[idx], spans[idx], len(models)))
            pos += spans[idx]["span"]
    models.sort(key=lambda m: (names.index(m.contig), m.start))
    for i, m in enumerate(models):
        m.gene_id = f"ORG{i + 1:05d}"
        m.transcript_id = f"ORT{i + 1:05d}"
    return contigs, models


def _place_gene(rng, contig_seq: np.ndarray, contig: str, start: int, strand: str, info: GeneInfo,
                span: dict, index: int) -> GeneModel:
    """Write one gene into ``contig_seq`` (in place) and return its model."""
    length = span["span"]
    pre = contig_seq[start : start + length].copy()
    if strand == "-":
        pre = revcomp(pre)
    cds = np.frombuffer("".join(span["codons"]).encode(), dtype=np.uint8)
    mrna = np.concatenate((_random_utr(rng, span["utr5"]), cds, BASES[rng.integers(0, 4, size=span["utr3"])]))
    # lay exons and introns out in transcript orientation
    t_exons = []
    pos = 0
    m = 0
    for k, ex_len in enumerate(span["exon_lengths"]):
        pre[pos : pos + ex_len] = mrna[m : m + ex_len]
        t_exons.append((pos, pos + ex_len))
        pos += ex_len
        m += ex_len
        if k < len(span["introns"]):
            il = span["introns"][k]
            intron = pre[pos : pos + il]
            intron[:6] = np.frombuffer(b"GTAAGT", dtype=np.uint8)
            tract = BASES[np.where(rng.random(16) < 0.5, 1, 3)]  # polypyrimidine tract (C/T)
            intron[-18:-2] = tract
            intron[-3:] = np.frombuffer(b"CAG", dtype=np.uint8)
            pos += il
    # transcript coordinate -> pre-mRNA offset of each mRNA base
    offsets = np.concatenate([np.arange(a, b) for a, b in t_exons])
    cds_offsets = offsets[span["utr5"] : span["utr5"] + len(cds)]
    if strand == "-":
        contig_seq[start : start + length] = revcomp(pre)
        cds_positions = start + length - 1 - cds_offsets
        exons = sorted((start + length - b, start + length - a) for a, b in t_exons)
    else:
        contig_seq[start : start + length] = pre
        cds_positions = start + cds_offsets
        exons = [(start + a, start + b) for a, b in t_exons]
    return GeneModel(info, "", "", contig, strand, start, start + length, exons, cds_positions.astype(np.int64),
                     span["utr5"], span["utr3"], span["codons"])


def write_fasta(path: Path, contigs: dict[str, np.ndarray]) -> None:
    """Write contigs as FASTA with 60-column lines."""
    with open(path, "w") as fh:
        for name, seq in contigs.items():
            fh.write(f">{name}\n")
            raw = seq.tobytes().decode()
            fh.write("\n".join(raw[i : i + LINE_WIDTH] for i in range(0, len(raw), LINE_WIDTH)))
            fh.write("\n")


def _segments(positions: np.ndarray) -> list[tuple[int, int]]:
    """Contiguous genomic segments (0-based half-open) covered by a set of positions."""
    pos = np.sort(positions)
    breaks = np.flatnonzero(np.diff(pos) != 1) + 1
    return [(int(p[0]), int(p[-1]) + 1) for p in np.split(pos, breaks)]


def gtf_lines(models: list[GeneModel], source: str = "oncorisk_sim") -> list[str]:
    """Ensembl-style GTF lines (gene, transcript, exon, CDS, start/stop codon, UTRs) for the models."""
    out = []
    for m in models:
        attrs_gene = f'gene_id "{m.gene_id}"; gene_name "{m.name}"; gene_biotype "protein_coding";'
        attrs_tx = (f'{attrs_gene} transcript_id "{m.transcript_id}"; transcript_name "{m.name}-201"; '
                    f'transcript_biotype "protein_coding"; tag "Ensembl_canonical";')

        def rec(feature, a, b, frame=".", extra=""):
            out.append("\t".join([m.contig, source, feature, str(a + 1), str(b), ".", m.strand, frame,
                                  attrs_tx + extra if feature != "gene" else attrs_gene]))

        rec("gene", m.start, m.end)
        rec("transcript", m.start, m.end)
        exons_t = m.exons if m.strand == "+" else m.exons[::-1]
        for k, (a, b) in enumerate(exons_t, start=1):
            rec("exon", a, b, extra=f' exon_number "{k}"; exon_id "{m.transcript_id}.e{k}";')
        coding = m.cds_positions[:-3]
        stop = m.cds_positions[-3:]
        segs = _segments(coding)
        segs_t = segs if m.strand == "+" else segs[::-1]
        done = 0
        for a, b in segs_t:
            phase = (3 - done % 3) % 3
            exon_no = 1 + next(k for k, (ea, eb) in enumerate(exons_t) if ea <= a and b <= eb)
            rec("CDS", a, b, str(phase), f' exon_number "{exon_no}";')
            done += b - a
        for a, b in _segments(m.cds_positions[:3]):
            rec("start_codon", a, b, "0")
        for a, b in _segments(stop):
            rec("stop_codon", a, b, "0")
        cds_lo, cds_hi = int(m.cds_positions.min()), int(m.cds_positions.max()) + 1
        for a, b in m.exons:
            for ua, ub in ((a, min(b, cds_lo)), (max(a, cds_hi), b)):
                if ua < ub:
                    five = (ub <= cds_lo) == (m.strand == "+")
                    rec("five_prime_utr" if five else "three_prime_utr", ua, ub)
    return out


def panel_intervals(models: list[GeneModel], padding: int, contig_lengths: dict[str, int]) -> list[tuple[str, int, int]]:
    """Merged capture targets: every exon plus ``padding`` bp on each side (0-based half-open)."""
    from oncorisk.io.intervals import merge_intervals

    by: dict[str, list[tuple[int, int]]] = {}
    for m in models:
        for a, b in m.exons:
            by.setdefault(m.contig, []).append((max(0, a - padding), min(contig_lengths[m.contig], b + padding)))
    return [(c, a, b) for c in contig_lengths for a, b in merge_intervals(by.get(c, []))]
