"""The tensor layout, declared once: window, channels, dtype, classes and format version.

Everything that reads or writes tensors (encoder, caller, checkpoints, ``tensor_info.json``) takes its
layout from here, and a checkpoint records :func:`layout_info` so that a model is never applied to
tensors of another layout.
"""

from __future__ import annotations

FORMAT_VERSION = "1.0"
WINDOW = 16  # reference positions either side of the candidate's anchor
WIDTH = 2 * WINDOW + 1
DTYPE = "float16"

STRANDS = ("fwd", "rev")
# per-strand pileup counts, each divided by the column's depth
COUNT_FIELDS = ("A", "C", "G", "T", "ins", "del", "delbase", "clip")
# per-allele means: base quality / 40 and mapping quality / 60 of reference-matching and of other reads
QUALITY_FIELDS = ("bq_ref", "bq_alt", "mq_ref", "mq_alt")
# per-sample channels: counts by strand, qualities, depth / max depth, and the candidate allele's support
# at the anchor column only: fraction of reads carrying exactly this allele in their alignment, by strand,
# and (indels) fractions of reads that fit the alt / the reference haplotype better (haplotype.py)
SAMPLE_FIELDS = tuple(f"{s}_{f}" for s in STRANDS for f in COUNT_FIELDS) + QUALITY_FIELDS + (
    "depth", "cand_fwd", "cand_rev", "hap_alt", "hap_ref")
CANDIDATE_FIELDS = 4  # the last four sample fields are per-candidate, not per-position
# channels shared by the samples: reference one-hot, the columns the candidate spans, its type and length
SHARED_FIELDS = ("ref_A", "ref_C", "ref_G", "ref_T", "cand_span", "is_snv", "is_ins", "is_del", "indel_len")
MAX_INDEL_LEN_SCALE = 10.0

GENOTYPE_CLASSES = ("hom_ref", "het", "hom_alt")
SOMATIC_CLASSES = ("not_variant", "germline", "somatic")


def channel_names(mode: str) -> list[str]:
    """Channel names in order: shared, then the tumour's (or the one sample's), then the normal's."""
    if mode not in ("germline", "somatic"):
        raise ValueError(f"mode must be germline or somatic, not {mode!r}")
    names = list(SHARED_FIELDS)
    samples = ("tumor", "normal") if mode == "somatic" else ("sample",)
    for s in samples:
        names += [f"{s}.{f}" for f in SAMPLE_FIELDS]
    return names


def layout_info(mode: str) -> dict:
    """What ``tensor_info.json`` and checkpoints record about the layout."""
    names = channel_names(mode)
    return dict(format_version=FORMAT_VERSION, mode=mode, window=WINDOW, width=WIDTH, dtype=DTYPE,
                channels=len(names), channel_names=names, shape=["n_sites", WIDTH, len(names)],
                genotype_classes=list(GENOTYPE_CLASSES),
                somatic_classes=list(SOMATIC_CLASSES) if mode == "somatic" else None)


def same_layout(a: dict, b: dict) -> str | None:
    """None when two layout records agree, else what differs (for a one-line error)."""
    for key in ("format_version", "mode", "window", "channel_names"):
        if a.get(key) != b.get(key):
            shown = (lambda v: f"{len(v)} channels" if isinstance(v, list) else repr(v))
            return f"{key}: {shown(a.get(key))} vs {shown(b.get(key))}"
    return None
