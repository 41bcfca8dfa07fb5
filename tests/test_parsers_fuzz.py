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

    from oncorisk.genome.regions import parse_regions

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


# --- random bytes and truncations: every reader of a user's file (gzip by magic bytes, any encoding) -----------

VALID_TEXTS = {
    "s.tsv": "sample\tvcf\tlabel\nS1\tx.vcf\t1\n",
    "sets.gmt": "SET_A\tdesc\tTP53\tKRAS\tPIK3CA\n",
    "net.tsv": "gene_a\tgene_b\tweight\nTP53\tKRAS\t0.5\nKRAS\tPIK3CA\t1\n",
    "regions.bed": "ctgA\t0\t100\nctgA\t200\t300\n",
    "genes.gtf": ('ctgA\tt\ttranscript\t51\t400\t.\t+\t.\tgene_id "G1"; gene_name "KRAS"; transcript_id "T1";\n'
                  'ctgA\tt\tCDS\t61\t120\t.\t+\t0\tgene_id "G1"; gene_name "KRAS"; transcript_id "T1";\n'),
    "m.maf": ("Hugo_Symbol\tChromosome\tStart_Position\tReference_Allele\tTumor_Seq_Allele2\tVariant_Classification"
              "\tTumor_Sample_Barcode\nKRAS\t1\t100\tA\tT\tMissense_Mutation\tS1\n"),
    "v.vcf": "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\nctgA\t10\t.\tA\tT\t50\tPASS\t.\n",
    "labels.tsv": "gene\tlabel\nTP53\t1\nACTB\t0\n",
    "table.tsv": "sample\tnonsynonymous\nS1\t3\n",
}


def _readers():
    from oncorisk.config import load_samples
    from oncorisk.impact.annotation import load_annotation
    from oncorisk.impact.inputs import VariantTable, read_maf, read_vcf
    from oncorisk.io.intervals import read_bed
    from oncorisk.io.tables import read_table
    from oncorisk.pathways.genesets import load_gmt
    from oncorisk.pathways.network import load_edge_list
    from oncorisk.pathways.run import load_impact_matrix, load_labels

    return {
        "s.tsv": lambda p: load_samples(p, "germline", check_files=False),
        "sets.gmt": load_gmt,
        "net.tsv": load_edge_list,
        "regions.bed": read_bed,
        "genes.gtf": load_annotation,
        "m.maf": lambda p: read_maf(p, VariantTable()),
        "v.vcf": lambda p: read_vcf(str(p), VariantTable()),
        "labels.tsv": lambda p: load_labels(str(p), {"TP53", "ACTB"}),
        "table.tsv": read_table,
        "matrix.parquet": load_impact_matrix,
    }


def _parse_bytes(name: str, data: bytes):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / name
        path.write_bytes(data)
        try:
            _readers()[name](path)
        except UserError as exc:
            assert "\n" not in str(exc)


def _gzip(data: bytes) -> bytes:
    import gzip

    return gzip.compress(data, mtime=0)


@SETTINGS
@given(st.sampled_from(sorted(VALID_TEXTS)), st.binary(max_size=64), st.integers(0, 400), st.booleans())
def test_readers_take_random_bytes_and_truncations(name, noise, cut, compress):
    """Random bytes, a valid file cut short, a valid file with noise appended, each plain or gzipped (a gzipped
    file cut short is a truncated gzip stream): parsed or one line, never a traceback."""
    valid = VALID_TEXTS[name].encode()
    _parse_bytes(name, noise)
    for data in (valid[:cut], valid + noise, noise + valid):
        _parse_bytes(name, _gzip(data) if compress else data)
    _parse_bytes(name, _gzip(valid)[:cut])


@SETTINGS
@given(st.binary(max_size=200), st.integers(0, 4000))
def test_parquet_reader_takes_corrupt_and_truncated_files(noise, cut):
    import io

    import pandas as pd

    buf = io.BytesIO()
    pd.DataFrame({"gene": ["TP53", "KRAS"], "S1": [1.0, 0.0]}).to_parquet(buf, index=False)
    valid = buf.getvalue()
    for data in (noise, valid[:cut], b"PAR1" + noise):
        _parse_bytes("matrix.parquet", data)


@SETTINGS
@given(st.binary(max_size=300), st.sampled_from([".npy", ".pt", ".h5", ".csv", ".parquet"]))
def test_embedding_reader_takes_random_bytes(noise, suffix):
    from oncorisk.fusion.bags import read_slide

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / f"e{suffix}"
        path.write_bytes(noise)
        try:
            read_slide(path)
        except UserError as exc:
            assert "\n" not in str(exc)
