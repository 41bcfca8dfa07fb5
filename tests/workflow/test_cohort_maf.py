"""A cohort without reads: one MAF and a clinical table through the workflow to risk, with no reference or GTF."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
GENES = [("TP53", "17", 7577120, "Missense_Mutation", "p.R248Q"), ("KRAS", "12", 25398284, "Missense_Mutation", "p.G12D"),
         ("NRAS", "1", 115256529, "Missense_Mutation", "p.Q61R"), ("PIK3CA", "3", 178952085, "Missense_Mutation",
         "p.H1047R"), ("PTEN", "10", 89692904, "Nonsense_Mutation", "p.R130*"), ("BRAF", "7", 140453136,
         "Missense_Mutation", "p.V600E"), ("KIT", "4", 55599321, "Missense_Mutation", "p.D816V"),
         ("PTPN11", "12", 112888210, "Missense_Mutation", "p.E76K")]
MAF_COLUMNS = ["Hugo_Symbol", "Chromosome", "Start_Position", "End_Position", "Variant_Classification",
               "Variant_Type", "Reference_Allele", "Tumor_Seq_Allele1", "Tumor_Seq_Allele2", "Tumor_Sample_Barcode",
               "Protein_Change", "t_alt_count", "t_ref_count"]


def write_cohort(folder: Path, n: int = 24) -> tuple[list[str], str, str]:
    """A MAF (full TCGA barcodes, one tumour not in the sheet) and a maftools-style clinical table (-Inf, NA)."""
    rng = np.random.default_rng(7)
    patients = [f"TCGA-ZZ-{i:04d}" for i in range(1, n + 1)]
    rows = []
    for i, p in enumerate(patients):
        if i == 3:  # a tumour without mutations: in the sheet, absent from the MAF
            continue
        for gene, chrom, pos, cls, prot in [GENES[k] for k in rng.choice(len(GENES), size=1 + i % 3, replace=False)]:
            rows.append([gene, chrom, pos, pos, cls, "SNP", "C", "C", "T", f"{p}-03A-01D-0001-09", prot, 10, 20])
    rows.append(["TP53", "17", 7577120, 7577120, "Missense_Mutation", "SNP", "C", "C", "T",
                 "TCGA-ZZ-9999-03A-01D-0001-09", "p.R248Q", 5, 5])  # a barcode the sheet does not list
    maf = folder / "cohort.maf.gz"
    with gzip.open(maf, "wt") as fh:
        fh.write("#version 2.4\n" + "\t".join(MAF_COLUMNS) + "\n")
        for r in rows:
            fh.write("\t".join(map(str, r)) + "\n")
    risky = {p for p, r in zip(patients, rng.random(n)) if r < 0.5}
    clinical = ["Tumor_Sample_Barcode\tFAB_classification\tdays_to_last_followup\tOverall_Survival_Status"]
    for i, p in enumerate(patients):
        days = "-Inf" if i == 5 else "NA" if i == 6 else str(int(rng.integers(100, 400) if p in risky else rng.integers(300, 2000)))
        clinical.append(f"{p}\tM{i % 5}\t{days}\t{1 if (p in risky or i % 4 == 0) else 0}")
    (folder / "clinical.tsv").write_text("\n".join(clinical) + "\n")
    return patients, str(maf), str(folder / "clinical.tsv")


SETTINGS = """
mode: germline
impact:
  barcode_match: patient
  callable_mb: 1.5
pathways:
  permutations: 100
fusion:
  folds: 3
  bootstrap: 20
  shap_samples: 5
  hidden: 8
simulate:
  enabled: false
"""


def run(folder: Path, config: str) -> subprocess.CompletedProcess:
    (folder / "config.yaml").write_text(config + SETTINGS)
    cmd = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "--configfile", "config.yaml",
           "--cores", "2"]
    return subprocess.run(cmd, cwd=folder, capture_output=True, text=True)


@pytest.mark.slow
def test_cohort_maf_runs_to_risk_without_reference_or_gtf_and_is_the_same_named_once_or_per_row(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    patients, maf, clinical = write_cohort(data)
    once = tmp_path / "once"
    once.mkdir()
    res = run(once, f"cohort: c\nsamples: {clinical}\ncalls: {maf}\nsample_columns:\n  sample: Tumor_Sample_Barcode\n"
                    f"  time: days_to_last_followup\n  event: Overall_Survival_Status\n")
    assert res.returncode == 0, res.stderr[-3000:]
    out = once / "results" / "c"
    info = json.loads((out / "impact" / "run_info.json").read_text())
    (cohort,) = info["cohort_files"]
    assert cohort["in_file_not_in_sheet"] == ["TCGA-ZZ-9999-03A-01D-0001-09"]
    assert cohort["in_sheet_not_in_file"] == [patients[3]]
    tmb = pd.read_csv(out / "impact" / "tmb.tsv", sep="\t").set_index("sample")
    assert tmb.loc[patients[3], "nonsynonymous"] == 0 and tmb.loc[patients[3], "tmb"] == 0  # measured: no mutations
    assert tmb["tmb"].notna().all() and list(tmb.index) == patients
    risk = pd.read_csv(out / "fusion" / "risk.tsv", sep="\t")
    assert set(risk["sample"]) == set(patients) - {patients[5], patients[6]}  # -Inf and NA follow-up left out
    fusion_info = json.loads((out / "fusion" / "run_info.json").read_text())
    assert fusion_info["patients_without_outcome"] == [patients[5], patients[6]]
    metrics = json.loads((out / "fusion" / "metrics.json").read_text())
    assert metrics["mode"] == "survival" and {"genomic", "baseline_tmb", "baseline_best_gene"} <= set(metrics)
    assert (out / "fusion" / "kaplan_meier.png").is_file()
    pathways = json.loads((out / "pathways" / "run_info.json").read_text())
    assert pathways["gene_length_source"].startswith("coding length 3 x protein length")  # no GTF: documented

    # the same MAF on every row of a sheet in oncorisk's own columns: the same results
    per_row = tmp_path / "per_row"
    per_row.mkdir()
    sheet = pd.read_csv(clinical, sep="\t", keep_default_na=False).rename(columns={
        "Tumor_Sample_Barcode": "sample", "days_to_last_followup": "time", "Overall_Survival_Status": "event"})
    sheet["vcf"] = maf
    sheet[["sample", "vcf", "time", "event"]].to_csv(per_row / "samples.tsv", sep="\t", index=False)
    res = run(per_row, "cohort: c\nsamples: samples.tsv\n")
    assert res.returncode == 0, res.stderr[-3000:]
    for name in ("impact/impact_matrix.tsv", "impact/tmb.tsv", "pathways/pathway_ranking.tsv", "fusion/risk.tsv"):
        assert (out / name).read_bytes() == (per_row / "results" / "c" / name).read_bytes(), name
