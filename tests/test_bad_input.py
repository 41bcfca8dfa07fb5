"""Bad input, second round (docs/errors.md): each case a user met, fed through the CLI in-process where it can be.

Every case ends in exit 2 and one line naming the file or option, the value and the fix, no traceback, no
output left behind and no input changed; or, for "refuse what cannot be right" cases, the honest answer
(exons derived from CDS, TMB NA) instead of a confident wrong one.
"""

from __future__ import annotations

import gzip
import hashlib
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import FIXTURES, REPO, cli
from oncorisk.cli import main
from oncorisk.errors import UserError


def _refused(capsys, *argv, out: Path | None = None) -> str:
    """Run `oncorisk ARGV` in-process: exit 2, one line on stderr (log lines aside), ``out`` not created."""
    code = main([str(a) for a in argv])
    err = capsys.readouterr().err.strip().splitlines()
    lines = [ln for ln in err if " INFO " not in ln and " WARNING " not in ln]
    assert code == 2 and len(lines) == 1 and "Traceback" not in "\n".join(err), err
    if out is not None:
        assert not out.exists()
    return lines[0]


def _digest(*paths: Path) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


# --- the caller's VCF: names that would corrupt it ---------------------------------------------------------------

@pytest.mark.parametrize("name", ["A\tB", "A B", "A\nB", ""])
def test_sample_name_that_would_corrupt_the_vcf(name, pileup_data, tmp_path, capsys):
    out = tmp_path / "calls.vcf.gz"
    line = _refused(capsys, "call", "--bam", pileup_data["bam"], "--ref", pileup_data["fasta"], "--model",
                    "germline-illumina", "--sample-name", name, "--out", out, out=out)
    assert "--sample-name" in line and "VCF sample name" in line


def test_contig_name_not_allowed_in_a_vcf():
    from oncorisk.caller.vcf import check_vcf_names

    check_vcf_names([("S1", "--sample-name")], ["chr1", "HLA-A*01:01", "chrUn_KI270302v1"], "ref.fa")
    with pytest.raises(UserError, match=r"contig name 'bad,name'.*VCF 4.3"):
        check_vcf_names([("S1", "--sample-name")], ["chr1", "bad,name"], "ref.fa")


def test_command_line_with_control_characters_stays_one_header_line():
    from oncorisk.caller.vcf import vcf_header

    header = vcf_header([("chr1", 10)], ["S1"], False, "ref.fa", "m", "oncorisk call --x 'a\tb\nc'", 10)
    assert sum(ln.startswith("##oncoriskCommand=") for ln in header.splitlines()) == 1
    assert header.splitlines()[-1] == "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1"


# --- impact: silent wrong science refused ------------------------------------------------------------------------

def _gtf_without_exons(path: Path) -> Path:
    lines = [ln for ln in (FIXTURES / "tiny.gtf").read_text().splitlines() if "\texon\t" not in ln]
    lines += ['ctgA\ttiny\tCDS\t61\t150\t.\t+\t0\tgene_id "G1"; gene_name "KRAS"; transcript_id "T1";',
              'ctgA\ttiny\tCDS\t301\t390\t.\t+\t0\tgene_id "G1"; gene_name "KRAS"; transcript_id "T1";',
              'ctgA\ttiny\tfive_prime_utr\t51\t60\t.\t+\t.\tgene_id "G1"; gene_name "KRAS"; transcript_id "T1";']
    path.write_text("\n".join(lines) + "\n")
    return path


def test_gtf_gene_with_cds_but_no_exon_lines_gets_exons_from_cds_and_utr(tmp_path, caplog):
    from oncorisk.impact.annotation import load_annotation

    with caplog.at_level("WARNING"):
        ann = load_annotation(_gtf_without_exons(tmp_path / "g.gtf"))
    assert list(ann.gene_name) == ["KRAS"] and bool(ann.coding[0])
    assert list(zip(ann.exon_start, ann.exon_end)) == [(50, 150), (300, 390)]  # UTR + CDS joined, 0-based
    assert "exons derived from CDS, stop codon and UTRs (KRAS)" in caplog.text


def test_gzipped_annotation_and_maf_without_gz_suffix_are_read(tmp_path):
    from oncorisk.impact.annotation import load_annotation
    from oncorisk.impact.inputs import VariantTable, read_maf

    gtf = tmp_path / "genes.gtf"  # gzipped, but named .gtf
    gtf.write_bytes(gzip.compress((FIXTURES / "tiny.gtf").read_bytes().replace(b"\texon\t", b"\texon\t") +
                                  b'ctgA\ttiny\tCDS\t61\t150\t.\t+\t0\tgene_id "G1"; gene_name "KRAS"; '
                                  b'transcript_id "T1";\n'))
    assert list(load_annotation(gtf).gene_name) == ["KRAS"]
    maf = tmp_path / "cohort.maf"
    maf.write_bytes(gzip.compress(b"Hugo_Symbol\tChromosome\tStart_Position\tReference_Allele\tTumor_Seq_Allele2\t"
                                  b"Variant_Classification\tTumor_Sample_Barcode\n"
                                  b"KRAS\t12\t25398284\tC\tT\tMissense_Mutation\tS1\n"))
    assert read_maf(maf, VariantTable()) == ["S1"]


def test_tmb_of_a_sample_without_calls_is_na_not_zero(small_cohort, tmp_path, caplog):
    out = tmp_path / "imp"
    with caplog.at_level("WARNING"):
        assert main(["impact", "--samples", str(small_cohort / "samples.tsv"), "--gtf", str(small_cohort / "genes.gtf"),
                     "--ref", str(small_cohort / "reference.fa"), "--callable", str(small_cohort / "panel.bed"),
                     "--out", str(out)]) == 0
    tmb = pd.read_csv(out / "tmb.tsv", sep="\t").set_index("sample")
    bam_only = ["P0001", "P0002"]  # the sheet's BAM patients, who come without calls
    assert tmb.loc[bam_only, "tmb"].isna().all() and tmb.loc[bam_only, "nonsynonymous"].isna().all()
    assert (tmb.loc[bam_only, "callable_source"].str.startswith("not measured")).all()
    assert tmb.drop(index=bam_only)["tmb"].notna().all()
    assert "their TMB is NA, not 0 (e.g. P0001, P0002)" in caplog.text


def _one_vcf(path: Path, records: list[str], fmt: str = "") -> Path:
    header = ["##fileformat=VCFv4.2", "##contig=<ID=ctgA,length=600>"]
    cols = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO" + ("\tFORMAT\tS1" if fmt else "")
    path.write_text("\n".join(header + [cols] + records) + "\n")
    return path


def test_position_beyond_the_contig_end(tmp_path, tiny_data, capsys):
    vcf = _one_vcf(tmp_path / "v.vcf", ["ctgA\t100\t.\tG\tA\t50\tPASS\t.", "ctgA\t900\t.\tA\tT\t50\tPASS\t."])
    out = tmp_path / "o"
    line = _refused(capsys, "impact", "--vcf", vcf, "--gtf", _gtf_without_exons(tmp_path / "g.gtf"), "--ref",
                    tiny_data["fasta"], "--out", out, out=out)
    assert "ctgA:900" in line and "beyond the end of ctgA" in line and "600 bp" in line


def test_non_numeric_format_af(tmp_path, tiny_data, capsys):
    vcf = _one_vcf(tmp_path / "v.vcf", ["ctgA\t100\t.\tG\tA\t50\tPASS\t.\tGT:AF\t0/1:high"], fmt="GT:AF")
    out = tmp_path / "o"
    line = _refused(capsys, "impact", "--vcf", vcf, "--gtf", FIXTURES / "tiny.gtf", "--ref", tiny_data["fasta"],
                    "--out", out, out=out)
    assert "FORMAT AF" in line and "'high'" in line and "ctgA:100" in line


def test_chrom_alias_typo_is_not_read_as_a_path(tmp_path, tiny_data, capsys):
    out = tmp_path / "o"
    line = _refused(capsys, "impact", "--vcf", tiny_data["vcf"], "--gtf", FIXTURES / "tiny.gtf", "--ref",
                    tiny_data["fasta"], "--chrom-alias", "Auto", "--out", out, out=out)
    assert "--chrom-alias" in line and "'Auto'" in line and "auto, none" in line


def test_folder_given_as_a_vcf(tmp_path, tiny_data, capsys):
    folder = tmp_path / "calls.vcf"
    folder.mkdir()
    out = tmp_path / "o"
    line = _refused(capsys, "impact", "--vcf", folder, "--gtf", FIXTURES / "tiny.gtf", "--ref", tiny_data["fasta"],
                    "--out", out, out=out)
    assert "is a folder" in line and "VCF" in line


# --- pathways ----------------------------------------------------------------------------------------------------

def _pathway_inputs(d: Path) -> dict[str, Path]:
    genes = [f"G{i:02d}" for i in range(30)]
    rng = np.random.default_rng(1)
    m = pd.DataFrame(rng.poisson(1.0, size=(30, 12)).astype(float), index=pd.Index(genes, name="gene"),
                     columns=[f"S{i}" for i in range(12)])
    m.reset_index().to_parquet(d / "impact.parquet")
    (d / "net.tsv").write_text("".join(f"{genes[i]}\t{genes[(i + 1) % 30]}\n" for i in range(30)))
    (d / "sets.gmt").write_text("HIT\td\t" + "\t".join(genes[:10]) + "\n")
    (d / "entrez.gmt").write_text("WP1\td\t5290\t3845\t7157\t1956\n")
    return dict(impact=d / "impact.parquet", network=d / "net.tsv", gene_sets=d / "sets.gmt", entrez=d / "entrez.gmt")


def test_gmt_in_entrez_ids_without_a_mapping(tmp_path, capsys):
    inp = _pathway_inputs(tmp_path)
    out = tmp_path / "pw"
    line = _refused(capsys, "pathways", "--impact", inp["impact"], "--network", inp["network"], "--gene-sets",
                    inp["entrez"], "--permutations", 100, "--out", out, out=out)
    assert "0 of 1 sets" in line and "--gene-set-ids" in line


@pytest.mark.parametrize("option", ["--labels", "--gene-set-ids"])
def test_missing_files_named_by_pathway_options(option, tmp_path, capsys):
    inp = _pathway_inputs(tmp_path)
    out = tmp_path / "pw"
    line = _refused(capsys, "pathways", "--impact", inp["impact"], "--network", inp["network"], "--gene-sets",
                    inp["gene_sets"], option, tmp_path / "nope.tsv", "--out", out, out=out)
    assert option in line and "nope.tsv" in line and "not found" in line


def test_non_numeric_hotnet2_weight(tmp_path, capsys):
    from oncorisk.pathways.network import load_hotnet2

    (tmp_path / "i.txt").write_text("1 TP53\n2 KRAS\n")
    (tmp_path / "e.txt").write_text("1 2 strong\n")
    with pytest.raises(UserError, match=r"line 1, column 3 \(weight\).*'strong'"):
        load_hotnet2(tmp_path / "i.txt", tmp_path / "e.txt")


def test_truncated_parquet_matrix(tmp_path, capsys):
    inp = _pathway_inputs(tmp_path)
    data = inp["impact"].read_bytes()
    inp["impact"].write_bytes(data[: len(data) // 2])
    out = tmp_path / "pw"
    line = _refused(capsys, "pathways", "--impact", inp["impact"], "--network", inp["network"], "--gene-sets",
                    inp["gene_sets"], "--out", out, out=out)
    assert "not a readable Parquet file" in line and "--impact" in line


def test_utf8_bom_is_not_part_of_a_gene_set_name(tmp_path):
    from oncorisk.pathways.genesets import load_gmt

    (tmp_path / "s.gmt").write_bytes(b"\xef\xbb\xbfPI3K_AKT\td\tPIK3CA\tAKT1\n")
    assert list(load_gmt(tmp_path / "s.gmt")) == ["PI3K_AKT"]


# --- fusion -------------------------------------------------------------------------------------------------------

def _fusion_inputs(d: Path, n: int, ids: str = "S") -> dict[str, Path]:
    rng = np.random.default_rng(2)
    (d / "x.vcf").write_text("")
    sheet = d / "s.tsv"
    sheet.write_text("sample\tvcf\tlabel\n" + "".join(f"S{i}\tx.vcf\t{i % 2}\n" for i in range(n)))
    pd.DataFrame({"sample": [f"{ids}{i}" for i in range(n)], "P1": rng.normal(size=n),
                  "P2": rng.normal(size=n)}).to_parquet(d / "ps.parquet")
    return dict(sheet=sheet, scores=d / "ps.parquet")


def test_fusion_refuses_pathway_scores_of_other_samples(tmp_path, capsys):
    inp = _fusion_inputs(tmp_path, 40, ids="OTHER")
    out = tmp_path / "fu"
    line = _refused(capsys, "fusion", "--samples", inp["sheet"], "--pathway-scores", inp["scores"], "--out", out,
                    out=out)
    assert "no sample of the sample sheet is in it" in line and "--pathway-scores" in line


def test_fusion_refuses_pathway_scores_covering_under_half_the_sheet(tmp_path, capsys):
    inp = _fusion_inputs(tmp_path, 40)
    scores = pd.read_parquet(inp["scores"])
    scores.iloc[:15].to_parquet(inp["scores"])  # 15 of 40 samples
    out = tmp_path / "fu"
    line = _refused(capsys, "fusion", "--samples", inp["sheet"], "--pathway-scores", inp["scores"], "--out", out,
                    out=out)
    assert "only 15 of the sheet's 40 samples" in line and "at least 50%" in line


def test_fusion_cohort_too_small_for_folds_and_inner_validation(tmp_path, capsys):
    inp = _fusion_inputs(tmp_path, 10)
    out = tmp_path / "fu"
    line = _refused(capsys, "fusion", "--samples", inp["sheet"], "--pathway-scores", inp["scores"], "--folds", 2,
                    "--bootstrap", 10, "--shap-samples", 0, "--out", out, out=out)
    assert "too few" in line and "lower fusion folds" in line


def test_fusion_of_a_cohort_without_images(tmp_path):
    """Genomics only (no image_embedding column): the genomic model is the result, its figures are drawn."""
    inp = _fusion_inputs(tmp_path, 40)
    out = tmp_path / "fu"
    assert main(["fusion", "--samples", str(inp["sheet"]), "--pathway-scores", str(inp["scores"]), "--folds", "3",
                 "--bootstrap", "20", "--shap-samples", "0", "--out", str(out)]) == 0
    risk = pd.read_csv(out / "risk.tsv", sep="\t")
    assert list(risk.columns) == ["sample", "risk", "fold", "predicted_class", "risk_genomic",
                                  "risk_baseline_linear_genomic"]
    assert (risk["risk"] == risk["risk_genomic"]).all() and (out / "calibration.png").stat().st_size > 1000


def test_fusion_tmb_table_without_its_column(tmp_path, capsys):
    inp = _fusion_inputs(tmp_path, 40)
    (tmp_path / "tmb.tsv").write_text("sample\ttmb_per_mb\n" + "".join(f"S{i}\t1\n" for i in range(40)))
    out = tmp_path / "fu"
    line = _refused(capsys, "fusion", "--samples", inp["sheet"], "--pathway-scores", inp["scores"], "--tmb",
                    tmp_path / "tmb.tsv", "--out", out, out=out)
    assert "no column nonsynonymous" in line and "--tmb" in line


def test_fusion_missing_pathway_scores(tmp_path, capsys):
    inp = _fusion_inputs(tmp_path, 40)
    out = tmp_path / "fu"
    line = _refused(capsys, "fusion", "--samples", inp["sheet"], "--pathway-scores", tmp_path / "nope.parquet",
                    "--out", out, out=out)
    assert "--pathway-scores" in line and "not found" in line


def test_slide_files_of_unexpected_rank_or_without_features(tmp_path):
    import h5py

    from oncorisk.fusion.bags import read_slide

    np.save(tmp_path / "cube.npy", np.ones((5, 8, 2)))
    with pytest.raises(UserError, match=r"cube.npy: field features: shape \(5, 8, 2\): not 2-D"):
        read_slide(tmp_path / "cube.npy")
    np.save(tmp_path / "row.npy", np.ones((1, 8)))
    assert read_slide(tmp_path / "row.npy").features.shape == (1, 8)
    np.save(tmp_path / "vec.npy", np.ones(8))
    assert read_slide(tmp_path / "vec.npy").features.shape == (1, 8)  # one slide-level vector: a bag of one
    with h5py.File(tmp_path / "two.h5", "w") as fh:
        fh["coords"] = np.zeros((1, 2), dtype=np.int32)
        fh["embedding"] = np.ones((1, 8), dtype=np.float32)
    with pytest.raises(UserError, match=r"two.h5: datasets coords, embedding: no 'features' dataset"):
        read_slide(tmp_path / "two.h5")
    with h5py.File(tmp_path / "clam.h5", "w") as fh:  # CLAM writes coords first: found by name, never by position
        fh["coords"] = np.array([[0, 0], [256, 0]], dtype=np.int32)
        fh["features"] = np.full((2, 8), 2.0, dtype=np.float32)
    slide = read_slide(tmp_path / "clam.h5")
    assert slide.features.tolist() == [[2.0] * 8] * 2 and slide.coords.tolist() == [[0, 0], [256, 0]]
    with h5py.File(tmp_path / "badc.h5", "w") as fh:
        fh["coords"] = np.zeros((3, 2), dtype=np.int32)
        fh["features"] = np.ones((2, 8), dtype=np.float32)
    with pytest.raises(UserError, match=r"badc.h5: field coords: shape \(3, 2\): must be \(N, 2\) with N = 2"):
        read_slide(tmp_path / "badc.h5")
    with h5py.File(tmp_path / "nan.h5", "w") as fh:
        fh["features"] = np.array([[1.0, 2.0], [np.nan, 0.0]], dtype=np.float16)
    with pytest.raises(UserError, match=r"nan.h5: field features: patch 1: NaN or infinite"):
        read_slide(tmp_path / "nan.h5")
    with h5py.File(tmp_path / "text.h5", "w") as fh:
        fh["features"] = np.array([b"a", b"b"])
    with pytest.raises(UserError, match=r"text.h5: field features: type .*not numeric"):
        read_slide(tmp_path / "text.h5")


# --- reads, shards, config, sheet ---------------------------------------------------------------------------------

def test_stale_bam_index(pileup_data, tmp_path):
    """An index made for another version of the BAM: one line naming re-indexing, no 'Closing failed' traceback."""
    import pysam

    bam = tmp_path / "r.bam"
    pysam.view("-b", "-o", str(bam), str(FIXTURES / "pileup.sam"), catch_stdout=False)
    other = tmp_path / "other.bam"
    text = (FIXTURES / "pileup.sam").read_text().splitlines()
    keep = [ln for ln in text if ln.startswith("@")] + [ln for ln in text if not ln.startswith("@")][::3]
    (tmp_path / "other.sam").write_text("\n".join(keep) + "\n")
    pysam.view("-b", "-o", str(other), str(tmp_path / "other.sam"), catch_stdout=False)
    pysam.index(str(other))
    shutil.copy(str(other) + ".bai", str(bam) + ".bai")
    # pad the BAM so the stale offsets point into the middle of a block
    out = tmp_path / "t"
    res = cli("tensors", "--bam", bam, "--ref", pileup_data["fasta"], "--out", out)
    if res.returncode == 0:
        pytest.skip("htslib read this stale index without error (offsets happened to fit)")
    lines = [ln for ln in res.stderr.splitlines() if ln.startswith("oncorisk:")]
    assert res.returncode == 2 and len(lines) == 1 and "Traceback" not in res.stderr, res.stderr
    assert "index is stale" in lines[0] and "samtools index" in lines[0]
    assert not out.exists()


def test_gather_vcf_with_a_missing_shard(tmp_path, capsys):
    out = tmp_path / "all.vcf.gz"
    line = _refused(capsys, "gather-vcf", tmp_path / "shard0.vcf.gz", "--out", out, out=out)
    assert "shard0.vcf.gz" in line and "not found" in line


def test_integer_config_value_written_as_a_float(tmp_path, capsys):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("tensors:\n  shards: 2.0\n")
    line = _refused(capsys, "validate", "--config", cfg)
    assert "tensors.shards" in line and "2.0" in line and "integer" in line


def test_sample_sheet_with_a_column_twice(tmp_path, capsys):
    (tmp_path / "x.vcf").write_text("")
    sheet = tmp_path / "s.tsv"
    sheet.write_text("sample\tvcf\tlabel\tlabel\nS1\tx.vcf\t0\t1\n")
    line = _refused(capsys, "validate", "--samples", sheet)
    assert "'label' appears 2 times" in line


def test_sample_sheet_tumour_bam_twice_is_warned_and_normal_equal_to_tumour_refused(tiny_data, tmp_path, caplog):
    from oncorisk.config import load_samples

    d = tiny_data["dir"]
    sheet = tmp_path / "s.tsv"
    sheet.write_text(f"sample\ttumor_bam\tnormal_bam\nA\t{d}/tiny.tumor.bam\t{d}/tiny.normal.bam\n"
                     f"B\t{d}/tiny.tumor.bam\t{d}/tiny.normal.bam\n")
    with caplog.at_level("WARNING"):
        assert len(load_samples(sheet, "somatic")) == 2
    assert "the tumor_bam of sample 'B' is also the tumor_bam of sample 'A'" in caplog.text
    sheet.write_text(f"sample\ttumor_bam\tnormal_bam\nA\t{d}/tiny.tumor.bam\t{d}/tiny.tumor.bam\n")
    with pytest.raises(UserError, match="the same file as tumor_bam"):
        load_samples(sheet, "somatic")


def test_bgzipped_fasta_without_gzi_writes_nothing_beside_it(tiny_data, tmp_path):
    import pysam

    from oncorisk.genome.fasta import open_reference

    ref = tmp_path / "ref.fa.gz"
    pysam.tabix_compress(str(tiny_data["fasta"]), str(ref))
    before = sorted(p.name for p in tmp_path.iterdir())
    with open_reference(ref) as fa:
        assert fa.fetch("ctgA", 0, 10) == Path(tiny_data["fasta"]).read_text().splitlines()[1][:10]
    assert sorted(p.name for p in tmp_path.iterdir()) == before == ["ref.fa.gz"]


# --- the workflow -------------------------------------------------------------------------------------------------

def _user_config(folder: Path, tiny_data, **extra) -> Path:
    data = folder / "my data"  # a space in every path
    data.mkdir()
    for name in ("tiny.tumor.bam", "tiny.tumor.bam.bai", "tiny.normal.bam", "tiny.normal.bam.bai"):
        shutil.copy(tiny_data["dir"] / name, data / name)
    shutil.copy(tiny_data["fasta"], data / "ref.fa")
    shutil.copy(FIXTURES / "tiny.gtf", data / "genes.gtf")
    (data / "samples.tsv").write_text("sample\ttumor_bam\tnormal_bam\nS1\ttiny.tumor.bam\ttiny.normal.bam\n")
    cfg = folder / "other config.yaml"
    cfg.write_text(yaml.safe_dump({"simulate": {"enabled": False}, "samples": str(data / "samples.tsv"),
                                   "reference": str(data / "ref.fa"), "annotation": str(data / "genes.gtf"),
                                   "cohort": "mine", **extra}))
    return cfg


def _snakemake(cfg: Path, cwd: Path, *extra) -> subprocess.CompletedProcess:
    return subprocess.run(["snakemake", "-n", "-p", "--snakefile", str(REPO / "Snakefile"), "--configfile", str(cfg),
                           *extra], capture_output=True, text=True, cwd=cwd)


def test_workflow_quotes_paths_with_spaces(tiny_data, tmp_path):
    cfg = _user_config(tmp_path, tiny_data)
    res = _snakemake(cfg, tmp_path)
    assert res.returncode == 0, res.stderr[-3000:]
    data = str(tmp_path / "my data")
    assert f"--bam '{data}/tiny.tumor.bam'" in res.stdout and f"--ref '{data}/ref.fa'" in res.stdout
    assert f"--gtf '{data}/genes.gtf'" in res.stdout


def test_workflow_config_error_names_the_file_that_set_it(tiny_data, tmp_path):
    cfg = _user_config(tmp_path, tiny_data, mode="tumour-only")
    res = _snakemake(cfg, tmp_path)
    assert res.returncode != 0 and "Traceback" not in res.stderr
    assert f"{cfg}: mode: bad value 'tumour-only'" in res.stderr, res.stderr[-2000:]


def test_workflow_results_folder_that_is_a_file(tiny_data, tmp_path):
    cfg = _user_config(tmp_path, tiny_data)
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "mine").write_text("not a folder\n")
    res = _snakemake(cfg, tmp_path)
    assert res.returncode != 0 and "Traceback" not in res.stderr
    assert "results/mine: is a file, where the workflow writes a folder" in res.stderr
    assert (tmp_path / "results" / "mine").read_text() == "not a folder\n"
