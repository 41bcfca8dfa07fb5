"""Sequence helpers of the simulator: run-length tables, and the genome tables (oncorisk.genome.codes)."""

from __future__ import annotations

import numpy as np

from oncorisk.genome.codes import (  # noqa: F401 - the simulator's names for the one set of tables
    BASE_CODE,
    BASES,
    COMPLEMENT_TABLE,
    GENETIC_CODE,
    SENSE_CODONS,
    STOP_CODONS,
    revcomp,
    revcomp_str,
)


def run_table(seq: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Run-length encode a sequence.

    Returns:
        (starts, lengths) of every run of identical bases (a single base is a run of length 1).
    """
    if len(seq) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    change = np.flatnonzero(seq[1:] != seq[:-1]) + 1
    starts = np.concatenate(([0], change)).astype(np.int64)
    lengths = np.diff(np.concatenate((starts, [len(seq)]))).astype(np.int64)
    return starts, lengths
