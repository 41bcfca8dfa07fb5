"""Cohorts as they come: sheet column mapping, missing outcomes, cohort call files split by barcode."""

from __future__ import annotations

import numpy as np
import pytest

from oncorisk.config import default_config, load_samples, required_inputs
from oncorisk.errors import UserError
from oncorisk.impact.inputs import VariantTable, match_barcodes, read_sample_calls

MAF_HEADER = ("Hugo_Symbol\tChromosome\tStart_Position\tReference_Allele\tTumor_Seq_Allele2\tVariant_Classification\t"
              "Tumor_Sample_Barcode\n")


def test_a_clinical_table_is_read_as_it_comes_with_mapped_columns_and_missing_follow_up(tmp_path):
    (tmp_path / "c.maf").write_text(MAF_HEADER)
    sheet = tmp_path / "annot.tsv"
    sheet.write_text("Tumor_Sample_Barcode\tFAB\tdays\tOS\nA-1\tM1\t-Inf\t1\nA-2\tM2\t300\t0\nA-3\tM0\tNA\t.\n")
    rows = load_samples(sheet, "germline", columns=dict(sample="Tumor_Sample_Barcode", time="days", event="OS"),
                        calls=str(tmp_path / "c.maf"))
    assert [(s.sample, s.time, s.event) for s in rows] == [("A-1", None, 1), ("A-2", 300.0, 0), ("A-3", None, None)]
    assert all(s.vcf == str(tmp_path / "c.maf") for s in rows)
    with pytest.raises(UserError, match="unknown column 'Tumor_Sample_Barcode'"):  # without a mapping, an unknown column is a slip
        load_samples(sheet, "germline")
    with pytest.raises(UserError, match="no column 'days_to_last_followup'"):
        load_samples(sheet, "germline", columns=dict(sample="Tumor_Sample_Barcode", time="days_to_last_followup"))


def test_reference_and_annotation_are_asked_for_only_by_inputs_that_need_them(tmp_path):
    (tmp_path / "c.maf").write_text(MAF_HEADER)
    (tmp_path / "a.vcf").write_text("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
    sheet = tmp_path / "s.tsv"
    sheet.write_text("sample\tvcf\nA\tc.maf\nB\tc.maf\n")
    config = default_config() | {"samples": str(sheet)}
    assert required_inputs(config, load_samples(sheet, "germline")) == {"reference": False, "annotation": False}
    sheet.write_text("sample\tvcf\nA\tc.maf\nB\ta.vcf\n")
    with pytest.raises(UserError, match="reference: .*sample 'B' has a VCF"):
        required_inputs(config, load_samples(sheet, "germline"))
    config["impact"] = dict(config["impact"], use_existing_annotation="csq")
    assert required_inputs(config, load_samples(sheet, "germline")) == {"reference": False, "annotation": False}


def test_tcga_barcodes_meet_sheet_ids_by_patient_and_ambiguity_is_refused():
    names = ["TCGA-AB-2802-03A-01D-0739-09", "TCGA-AB-9999-03A-01D-0739-09"]
    assert match_barcodes(names, ["TCGA-AB-2802"], "exact", "m.maf") == {}
    assert match_barcodes(names, ["TCGA-AB-2802"], "patient", "m.maf") == {names[0]: "TCGA-AB-2802"}
    with pytest.raises(UserError, match="both match sheet sample 'TCGA-AB-2802'"):
        match_barcodes([names[0], "TCGA-AB-2802-04A-01D-0739-09"], ["TCGA-AB-2802"], "patient", "m.maf")


def test_a_cohort_maf_is_split_by_sample_with_both_mismatches_reported(tmp_path):
    maf = tmp_path / "cohort.maf"
    maf.write_text(MAF_HEADER + "TP53\t17\t7577120\tC\tT\tMissense_Mutation\tS1\n"
                   "KRAS\t12\t25398284\tC\tT\tMissense_Mutation\tS2\nKRAS\t12\t25398284\tC\tT\tMissense_Mutation\tX9\n")
    table = VariantTable()
    measured, (report,) = read_sample_calls([("S1", str(maf)), ("S2", str(maf)), ("S3", str(maf))], table)
    assert table.sample == ["S1", "S2"] and table.gene == ["TP53", "KRAS"]
    assert measured == {"S1", "S2", "S3"}  # S3: named with the MAF, no mutation in it
    assert report["in_file_not_in_sheet"] == ["X9"] and report["in_sheet_not_in_file"] == ["S3"]


def test_patients_without_an_outcome_are_left_out_of_the_outcome_model_only():
    from oncorisk.fusion.inputs import FusionData, select_outcome

    n = 5
    data = FusionData([f"P{i}" for i in range(n)], np.arange(n, dtype=float)[:, None], ["TMB"], np.zeros((n, 0)), [],
                      np.zeros(n, dtype=bool), None, np.array([1.0, np.nan, 3, 4, 5]), np.array([1.0, 1, np.nan, 0, 1]))
    sub, left_out = select_outcome(data)
    assert left_out == ["P1", "P2"] and sub.samples == ["P0", "P3", "P4"]
    assert sub.event.dtype.kind == "i" and sub.genomic[:, 0].tolist() == [0.0, 3.0, 4.0]


def test_gene_network_links_members_of_small_sets_weighted_by_sets_shared(tmp_path):
    from conftest import cli

    gmt = tmp_path / "s.gmt"
    gmt.write_text("A\tx\tTP53\tMDM2\tCDKN2A\nB\tx\tTP53\tMDM2\nBIG\tx\t" + "\t".join(f"G{i}" for i in range(60)) + "\n")
    out = tmp_path / "net.tsv"
    res = cli("gene-network", "--gene-sets", str(gmt), "--out", str(out))
    assert res.returncode == 0, res.stderr
    rows = [line.split("\t") for line in out.read_text().splitlines() if not line.startswith(("#", "gene_a"))]
    assert rows == [["CDKN2A", "MDM2", "1"], ["CDKN2A", "TP53", "1"], ["MDM2", "TP53", "2"]]  # BIG: > 50
