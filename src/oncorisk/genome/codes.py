"""Base codes, the complement and the genetic code: the one table of each, for every stage and the simulator."""

from __future__ import annotations

import numpy as np

BASES = np.frombuffer(b"ACGT", dtype=np.uint8)

COMPLEMENT_TABLE = np.zeros(256, dtype=np.uint8)  # ASCII -> ASCII complement (A<->T, C<->G, N->N; others 0)
for _a, _b in zip(b"ACGTN", b"TGCAN"):
    COMPLEMENT_TABLE[_a] = _b

BASE_CODE = np.full(256, 4, dtype=np.int8)  # ASCII -> 0..3 (A, C, G, T, either case), 4 for anything else
for _i, _b in enumerate(b"ACGT"):
    BASE_CODE[_b] = _i
    BASE_CODE[_b + 32] = _i

GENETIC_CODE = {
    "TTT": "F", "TTC": "F", "TTA": "L", "TTG": "L", "CTT": "L", "CTC": "L", "CTA": "L", "CTG": "L",
    "ATT": "I", "ATC": "I", "ATA": "I", "ATG": "M", "GTT": "V", "GTC": "V", "GTA": "V", "GTG": "V",
    "TCT": "S", "TCC": "S", "TCA": "S", "TCG": "S", "CCT": "P", "CCC": "P", "CCA": "P", "CCG": "P",
    "ACT": "T", "ACC": "T", "ACA": "T", "ACG": "T", "GCT": "A", "GCC": "A", "GCA": "A", "GCG": "A",
    "TAT": "Y", "TAC": "Y", "TAA": "*", "TAG": "*", "CAT": "H", "CAC": "H", "CAA": "Q", "CAG": "Q",
    "AAT": "N", "AAC": "N", "AAA": "K", "AAG": "K", "GAT": "D", "GAC": "D", "GAA": "E", "GAG": "E",
    "TGT": "C", "TGC": "C", "TGA": "*", "TGG": "W", "CGT": "R", "CGC": "R", "CGA": "R", "CGG": "R",
    "AGT": "S", "AGC": "S", "AGA": "R", "AGG": "R", "GGT": "G", "GGC": "G", "GGA": "G", "GGG": "G",
}
STOP_CODONS = ("TAA", "TAG", "TGA")
SENSE_CODONS = tuple(sorted(c for c, aa in GENETIC_CODE.items() if aa != "*"))


def revcomp(seq: np.ndarray) -> np.ndarray:
    """Reverse complement of an ASCII uint8 array."""
    return COMPLEMENT_TABLE[seq[::-1]]


def revcomp_str(seq: str) -> str:
    """Reverse complement of a string."""
    return revcomp(np.frombuffer(seq.encode(), dtype=np.uint8)).tobytes().decode()
