"""Where ``oncorisk simulate --out DIR`` writes each file, in one place.

The simulator writes by these names (``simulate.cohort``), ``manifest.json`` lists what it wrote with each
file's checksum, and the workflow takes the demo's paths from here (``workflow/rules/common.smk``), so the
layout is written once. Paths are relative to the simulator's output folder. No imports: the workflow reads
this module while it builds the DAG.
"""

from __future__ import annotations

SHEET = "samples.tsv"
REFERENCE = "reference.fa"
ANNOTATION = "genes.gtf"
PANEL = "panel.bed"
HOTSPOTS = "hotspots.tsv"
LABELS = "known_cancer_genes.tsv"  # the GNN's known cancer genes
MANIFEST = "manifest.json"
CONFIDENT = "truth/confident.bed"
PATIENTS = "truth/patients.tsv"
LATENT_MODEL = "truth/latent_model.json"
SIGNAL_PATCHES = "truth/signal_patches.tsv"  # sample, patch: the tumour-focus patches that carry the imaging latent
SLIDES = "embeddings/h5_files"  # CLAM's folder of per-slide bags
FOLDERS = ("bams", "vcfs", "truth", "embeddings")


def bam(patient: str, kind: str) -> str:
    """A BAM patient's reads; ``kind`` tumor or normal."""
    return f"bams/{patient}.{kind}.bam"


def called_vcf(patient: str) -> str:
    """The somatic calls "made elsewhere" of a patient who enters at the impact stage."""
    return f"vcfs/{patient}.somatic.vcf.gz"


def truth_vcf(patient: str, kind: str) -> str:
    """A patient's truth; ``kind`` somatic or germline."""
    return f"truth/{patient}.{kind}.vcf.gz"


def embedding(patient: str, bags: bool = False) -> str:
    """A patient's slide: a CLAM-layout bag (``bags``), else one embedding vector."""
    return f"{SLIDES}/{patient}.h5" if bags else f"embeddings/{patient}.npy"
