"""Property-based tests: every parser of user text either parses or stops with a UserError, never anything else."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oncorisk.errors import UserError

FIELD = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12)
LINE = st.lists(FIELD, min_size=0, max_size=6).map("\t".join)
TEXT = st.lists(LINE, min_size=0, max_size=8).map("\n".join)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _parse(parser, text: str, name: str):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / name
        path.write_text(text)
        try:
            parser(path)
        except UserError as exc:
            assert "\n" not in str(exc)


@SETTINGS
@given(TEXT)
def test_sample_sheet_parser(text):
    from oncorisk.config import load_samples

    _parse(lambda p: load_samples(p, "somatic"), "sample\ttumor_bam\tnormal_bam\tvcf\tlabel\n" + text, "s.tsv")
    _parse(lambda p: load_samples(p, "somatic"), text, "s.tsv")


@SETTINGS
@given(TEXT)
def test_gmt_parser(text):
    from oncorisk.pathways.genesets import load_gmt

    _parse(load_gmt, text, "sets.gmt")


@SETTINGS
@given(TEXT)
def test_edge_list_parser(text):
    from oncorisk.pathways.network import load_edge_list

    _parse(load_edge_list, text, "net.tsv")


@SETTINGS
@given(TEXT)
def test_bed_parser(text):
    from oncorisk.io.intervals import read_bed

    _parse(read_bed, text, "regions.bed")


@SETTINGS
@given(st.lists(st.lists(st.one_of(FIELD, st.floats(allow_nan=True).map(str)), min_size=1, max_size=4),
                max_size=6))
def test_embedding_table_parser(rows):
    from oncorisk.fusion.inputs import load_embedding_table

    text = "sample,a,b\n" + "\n".join(",".join(r) for r in rows)
    _parse(load_embedding_table, text, "emb.csv")


@SETTINGS
@given(st.lists(st.one_of(FIELD, st.from_regex(r"\Actg[AB](:[0-9,]{0,7}-[0-9,]{0,7})?\Z")), min_size=1, max_size=3))
def test_region_strings(items):
    """--regions values: parse into intervals inside the contigs, or stop with a one-line UserError."""
    from conftest import FIXTURES

    import pysam

    from oncorisk.tensors.run import parse_regions

    fasta = pysam.FastaFile(str(FIXTURES / "tiny.fa")) if Path(str(FIXTURES / "tiny.fa") + ".fai").exists() else None
    if fasta is None:
        with tempfile.TemporaryDirectory() as d:
            import shutil

            shutil.copy(FIXTURES / "tiny.fa", Path(d) / "tiny.fa")
            pysam.faidx(str(Path(d) / "tiny.fa"))
            fasta = pysam.FastaFile(str(Path(d) / "tiny.fa"))
            _check_regions(parse_regions, items, fasta)
    else:
        _check_regions(parse_regions, items, fasta)


def _check_regions(parse_regions, items, fasta):
    items = [i for i in items if not Path(i).exists()]  # random text that names a real file is not a region
    if not items:
        return
    lengths = dict(zip(fasta.references, fasta.lengths))
    try:
        out = parse_regions(items, fasta)
    except UserError as exc:
        assert "\n" not in str(exc)
        return
    for contig, a, b in out:
        assert contig in lengths and 0 <= a < b <= lengths[contig]
