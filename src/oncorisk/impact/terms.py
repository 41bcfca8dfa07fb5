"""Sequence Ontology consequence terms: VEP's severity ranking, IMPACT classes and default weights f.

One source of truth for everything that ranks or weighs a consequence.
"""

from __future__ import annotations

# (term, IMPACT class, default weight f) from most to least severe, in VEP's order.
# splice_site_variant (SO:0001629) is the parent of donor/acceptor: a MAF's Splice_Site maps to it.
CONSEQUENCES: tuple[tuple[str, str, float], ...] = (
    ("transcript_ablation", "HIGH", 1.0),
    ("splice_acceptor_variant", "HIGH", 0.95),
    ("splice_donor_variant", "HIGH", 0.95),
    ("splice_site_variant", "HIGH", 0.95),
    ("stop_gained", "HIGH", 1.0),
    ("frameshift_variant", "HIGH", 1.0),
    ("stop_lost", "HIGH", 0.8),
    ("start_lost", "HIGH", 0.9),
    ("transcript_amplification", "HIGH", 0.5),
    ("inframe_insertion", "MODERATE", 0.6),
    ("inframe_deletion", "MODERATE", 0.6),
    ("missense_variant", "MODERATE", 0.5),
    ("protein_altering_variant", "MODERATE", 0.5),
    ("splice_region_variant", "LOW", 0.2),
    ("incomplete_terminal_codon_variant", "LOW", 0.1),
    ("start_retained_variant", "LOW", 0.02),
    ("stop_retained_variant", "LOW", 0.02),
    ("synonymous_variant", "LOW", 0.02),
    ("coding_sequence_variant", "MODIFIER", 0.3),
    ("mature_miRNA_variant", "MODIFIER", 0.05),
    ("5_prime_UTR_variant", "MODIFIER", 0.05),
    ("3_prime_UTR_variant", "MODIFIER", 0.05),
    ("non_coding_transcript_exon_variant", "MODIFIER", 0.02),
    ("intron_variant", "MODIFIER", 0.01),
    ("NMD_transcript_variant", "MODIFIER", 0.01),
    ("non_coding_transcript_variant", "MODIFIER", 0.01),
    ("upstream_gene_variant", "MODIFIER", 0.01),
    ("downstream_gene_variant", "MODIFIER", 0.01),
    ("TFBS_ablation", "MODIFIER", 0.01),
    ("TFBS_amplification", "MODIFIER", 0.01),
    ("TF_binding_site_variant", "MODIFIER", 0.01),
    ("regulatory_region_ablation", "MODIFIER", 0.01),
    ("regulatory_region_amplification", "MODIFIER", 0.01),
    ("feature_elongation", "MODIFIER", 0.01),
    ("regulatory_region_variant", "MODIFIER", 0.01),
    ("feature_truncation", "MODIFIER", 0.01),
    ("intergenic_variant", "MODIFIER", 0.0),
)
RANK = {term: i for i, (term, _, _) in enumerate(CONSEQUENCES)}
IMPACT = {term: cls for term, cls, _ in CONSEQUENCES}
DEFAULT_WEIGHTS = {term: w for term, _, w in CONSEQUENCES}

# Nonsynonymous for TMB (cBioPortal's set: Frame_Shift, In_Frame, Missense, Nonsense, Splice_Site, Nonstop,
# Splice_Region, Translation_Start_Site)
NONSYNONYMOUS = frozenset({
    "splice_acceptor_variant", "splice_donor_variant", "splice_site_variant", "stop_gained", "frameshift_variant",
    "stop_lost", "start_lost", "inframe_insertion", "inframe_deletion", "missense_variant",
    "protein_altering_variant", "splice_region_variant",
})

# MAF Variant_Classification -> SO term
MAF_CLASSES = {
    "Missense_Mutation": "missense_variant",
    "Nonsense_Mutation": "stop_gained",
    "Nonstop_Mutation": "stop_lost",
    "Frame_Shift_Del": "frameshift_variant",
    "Frame_Shift_Ins": "frameshift_variant",
    "In_Frame_Del": "inframe_deletion",
    "In_Frame_Ins": "inframe_insertion",
    "Splice_Site": "splice_site_variant",
    "Splice_Region": "splice_region_variant",
    "Translation_Start_Site": "start_lost",
    "Silent": "synonymous_variant",
    "3'UTR": "3_prime_UTR_variant",
    "5'UTR": "5_prime_UTR_variant",
    "3'Flank": "downstream_gene_variant",
    "5'Flank": "upstream_gene_variant",
    "Intron": "intron_variant",
    "IGR": "intergenic_variant",
    "RNA": "non_coding_transcript_exon_variant",
    "lincRNA": "non_coding_transcript_exon_variant",
    "De_novo_Start_InFrame": "5_prime_UTR_variant",
    "De_novo_Start_OutOfFrame": "5_prime_UTR_variant",
    "Targeted_Region": "coding_sequence_variant",
}


def most_severe(terms: list[str] | tuple[str, ...]) -> str:
    """The most severe of several SO terms (unknown terms rank last)."""
    return min(terms, key=lambda t: RANK.get(t, len(RANK)))


AA3 = {
    "A": "Ala", "R": "Arg", "N": "Asn", "D": "Asp", "C": "Cys", "Q": "Gln", "E": "Glu", "G": "Gly", "H": "His",
    "I": "Ile", "L": "Leu", "K": "Lys", "M": "Met", "F": "Phe", "P": "Pro", "S": "Ser", "T": "Thr", "W": "Trp",
    "Y": "Tyr", "V": "Val", "*": "Ter", "X": "Xaa",
}
