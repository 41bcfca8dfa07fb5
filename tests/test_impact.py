"""Impact stage: consequences on hand-built transcripts (both strands), Σ f·w on a hand-computed case, inputs."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pysam
import pytest

from oncorisk.errors import UserError
from oncorisk.impact.run import ImpactOptions, run_impact
from oncorisk.impact.scores import load_weights

COMP = str.maketrans("ACGT", "TGCA")


def rc(s: str) -> str:
    return s.translate(COMP)[::-1]


# ---- a hand-built contig with one plus-strand and one minus-strand gene -----------------------------------
# Plus gene GP (transcript = genome orientation), 0-based coordinates:
#   exon1 [1000,1020): 5'UTR 10 bp + CDS "ATGGCCAAAG"  (M1 A2 K3, first base of G4)
#   intron1 [1020,1100): GTAAGT ... CAG
#   exon2 [1100,1111): CDS "GTTGGCAGTAC"             (rest of G4 = GGT, W5 TGG, Q6 CAG, Y7 TAC)
#   intron2 [1111,1200)
#   exon3 [1200,1223): "TAA" stop + 20 bp 3'UTR
GP_CDS = "ATGGCCAAAGGTTGGCAGTACTAA"  # M A K G W Q Y *
# Minus gene GM, built in transcript orientation then reverse-complemented into [20000, 20000 + len):
#   exon1: 8 bp 5'UTR + CDS "ATGTGGC"     (M1 W2, first base of R3 CGA)
#   intron: 60 bp GTAAGT ... CAG
#   exon2: CDS "GAAAGGGCTTTTAG" + 10 bp 3'UTR  (rest of R3, K4 AAG, G5 GGC, F6 TTT, stop TAG)
GM_CDS = "ATGTGGCGAAAGGGCTTTTAG"  # M W R K G F *
GM_START = 20000


def _filler(n: int, seed: int) -> str:
    rng = np.random.default_rng(seed)
    return "".join(rng.choice(list("ACGT"), size=n))


def _intron(n: int, seed: int) -> str:
    return "GTAAGT" + _filler(n - 6 - 3, seed).replace("AG", "AC") + "CAG"


def build_contig() -> tuple[str, dict]:
    seq = list(_filler(30000, 1))
    exon1 = _filler(10, 2).replace("ATG", "ACG") + GP_CDS[:10]
    exon2 = GP_CDS[10:21]
    exon3 = GP_CDS[21:] + _filler(20, 3)
    seq[1000:1020] = exon1
    seq[1020:1100] = _intron(80, 4)
    seq[1100:1111] = exon2
    seq[1111:1200] = _intron(89, 5)
    seq[1200:1223] = exon3
    t_exon1 = _filler(8, 6).replace("ATG", "ACG") + GM_CDS[:7]
    t_intron = _intron(60, 7)
    t_exon2 = GM_CDS[7:] + _filler(10, 8)
    transcript = t_exon1 + t_intron + t_exon2
    seq[GM_START : GM_START + len(transcript)] = rc(transcript)
    gm = dict(len=len(transcript), exon1=(0, len(t_exon1)), exon2=(len(t_exon1) + 60, len(transcript)),
              utr5=8, intron=(len(t_exon1), len(t_exon1) + 60))
    return "".join(seq), gm


def gm_genomic(x: int, gm: dict) -> int:
    """Genomic 0-based position of transcript-orientation offset x of the minus gene."""
    return GM_START + gm["len"] - 1 - x


def gm_cds(i: int, gm: dict) -> int:
    """Genomic position of CDS index i (0-based) of the minus gene."""
    x = gm["utr5"] + i if i < 7 else gm["exon2"][0] + (i - 7)
    return gm_genomic(x, gm)


def write_gtf(path, gm: dict) -> None:
    def line(feature, a, b, strand, gene, tx, extra=""):
        return (f"ctg\ttest\t{feature}\t{a + 1}\t{b}\t.\t{strand}\t.\tgene_id \"{gene}\"; gene_name \"{gene}\"; "
                f"transcript_id \"{tx}\"; tag \"Ensembl_canonical\";{extra}")

    rows = [line("transcript", 1000, 1223, "+", "GP", "GP-201")]
    rows += [line("exon", a, b, "+", "GP", "GP-201") for a, b in ((1000, 1020), (1100, 1111), (1200, 1223))]
    rows += [line("CDS", a, b, "+", "GP", "GP-201") for a, b in ((1010, 1020), (1100, 1111))]
    rows += [line("stop_codon", 1200, 1203, "+", "GP", "GP-201")]
    lo = GM_START
    hi = GM_START + gm["len"]
    rows += [line("transcript", lo, hi, "-", "GM", "GM-201")]
    for a, b in (gm["exon1"], gm["exon2"]):
        rows.append(line("exon", gm_genomic(b - 1, gm), gm_genomic(a, gm) + 1, "-", "GM", "GM-201"))
    # CDS without the stop codon, as in Ensembl GTFs; then the stop codon
    rows.append(line("CDS", gm_cds(6, gm), gm_cds(0, gm) + 1, "-", "GM", "GM-201"))
    rows.append(line("CDS", gm_cds(17, gm), gm_cds(7, gm) + 1, "-", "GM", "GM-201"))
    rows.append(line("stop_codon", gm_cds(20, gm), gm_cds(18, gm) + 1, "-", "GM", "GM-201"))
    path.write_text("\n".join(rows) + "\n")


@pytest.fixture(scope="module")
def genome(tmp_path_factory):
    d = tmp_path_factory.mktemp("impact")
    seq, gm = build_contig()
    (d / "ref.fa").write_text(">ctg\n" + "\n".join(seq[i : i + 60] for i in range(0, len(seq), 60)) + "\n")
    pysam.faidx(str(d / "ref.fa"))
    write_gtf(d / "genes.gtf", gm)
    return dict(dir=d, seq=seq, gm=gm)


def _snv(seq, pos0, alt):
    return (pos0 + 1, seq[pos0], alt)


def _write_vcf(path, records, sample="S1", vaf=None):
    header = ["##fileformat=VCFv4.2", "##contig=<ID=ctg,length=30000>",
              '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
              '##FORMAT=<ID=AF,Number=A,Type=Float,Description="Allele fraction">',
              "\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT", sample])]
    lines = []
    for i, (pos, ref, alt) in enumerate(sorted(records)):
        af = vaf[i] if vaf else 0.5
        lines.append(f"ctg\t{pos}\t.\t{ref}\t{alt}\t50\tPASS\t.\tGT:AF\t0/1:{af}")
    path.write_text("\n".join(header + lines) + "\n")


def _annotate(genome, records, tmp_path, **kw):
    tmp_path.mkdir(parents=True, exist_ok=True)
    vcf = tmp_path / "v.vcf"
    _write_vcf(vcf, records)
    opts = ImpactOptions(out=str(tmp_path / "out"), vcfs=[str(vcf)], gtf=str(genome["dir"] / "genes.gtf"),
                         ref=str(genome["dir"] / "ref.fa"), **kw)
    run_impact(opts)
    return pd.read_csv(tmp_path / "out" / "variants.tsv", sep="\t", keep_default_na=False)


def test_plus_strand_consequences_match_hand_derivations(genome, tmp_path):
    s = genome["seq"]
    cases = {
        _snv(s, 1013, "C"): ("GP", "missense_variant", "p.A2P", "missense_variant"),  # GCC -> CCC
        _snv(s, 1100, "A"): ("GP", "missense_variant", "p.G4D", "missense_variant&splice_region_variant"),  # G|GT -> G|AT across the exon boundary
        _snv(s, 1103, "A"): ("GP", "stop_gained", "p.W5*", "stop_gained"),  # TGG -> TAG
        _snv(s, 1015, "A"): ("GP", "synonymous_variant", "p.A2=", "synonymous_variant"),  # GCC -> GCA
        _snv(s, 1011, "C"): ("GP", "start_lost", "p.M1?", "start_lost"),  # ATG -> ACG
        _snv(s, 1200, "C"): ("GP", "stop_lost", "p.*8Qext*", "stop_lost&splice_region_variant"),  # TAA -> CAA
        _snv(s, 1021, "C"): ("GP", "splice_donor_variant", "", "splice_donor_variant"),  # intron +2 (VEP: region is +3..+8)
        _snv(s, 1098, "G"): ("GP", "splice_acceptor_variant", "", "splice_acceptor_variant"),  # intron -2
        _snv(s, 1024, "G" if s[1024] != "G" else "C"): ("GP", "splice_region_variant", "", "splice_region_variant&intron_variant"),  # +5
        _snv(s, 1060, "G" if s[1060] != "G" else "C"): ("GP", "intron_variant", "", "intron_variant"),
        _snv(s, 1005, "G" if s[1005] != "G" else "C"): ("GP", "5_prime_UTR_variant", "", "5_prime_UTR_variant"),
        _snv(s, 1210, "G" if s[1210] != "G" else "C"): ("GP", "3_prime_UTR_variant", "", "3_prime_UTR_variant"),
        _snv(s, 500, "G" if s[500] != "G" else "C"): ("GP", "upstream_gene_variant", "", "upstream_gene_variant"),
        _snv(s, 1400, "G" if s[1400] != "G" else "C"): ("GP", "downstream_gene_variant", "", "downstream_gene_variant"),
        _snv(s, 12000, "G" if s[12000] != "G" else "C"): ("", "intergenic_variant", "", "intergenic_variant"),
        # deletion of one A of K3 (AAA): ...AAG GTT GGC AGT ACT AA: first change at codon 4, no new stop
        (1016, "CA", "C"): ("GP", "frameshift_variant", "p.G4fs", "frameshift_variant"),
        # deletion of codon 6 (CAG)
        (1105, "GCAG", "G"): ("GP", "inframe_deletion", "p.Q6del", "inframe_deletion"),
        # insertion of GCA after codon 2: A2 and K3 get an extra Ala between them
        (1016, "C", "CGCA"): ("GP", "inframe_insertion", "p.A2_K3insA", "inframe_insertion"),
    }
    df = _annotate(genome, list(cases), tmp_path)
    got = {(r.pos, r.ref, r.alt): r for r in df.itertuples()}
    for key, (gene, term, short, all_terms) in cases.items():
        r = got[key]
        assert (r.gene, r.consequence, r.hgvsp_short, r.all_terms) == (gene, term, short, all_terms), (key, r)
    fs = got[(1016, "CA", "C")]
    assert fs.hgvsp == "p.Gly4ValfsTer?"
    assert got[_snv(s, 1013, "C")].hgvsp == "p.Ala2Pro" and got[_snv(s, 1013, "C")].codons == "GCC/CCC"
    assert got[(1016, "C", "CGCA")].hgvsp == "p.Ala2_Lys3insAla"


def test_minus_strand_consequences_match_hand_derivations(genome, tmp_path):
    s, gm = genome["seq"], genome["gm"]
    comp = {"A": "T", "C": "G", "G": "C", "T": "A"}

    def tx_snv(cds_index, new_base_transcript):
        g = gm_cds(cds_index, gm)
        return (g + 1, s[g], comp[new_base_transcript])

    donor_g = gm_genomic(gm["intron"][0], gm)  # intron +1, transcript orientation G -> A
    ins_anchor = gm_cds(14, gm)  # transcript insertion between CDS 13 and 14 = genomic after CDS 14's base
    cases = {
        tx_snv(5, "A"): ("stop_gained", "p.W2*"),  # TGG -> TGA
        tx_snv(7, "A"): ("missense_variant", "p.R3Q"),  # C|GA -> C|AA across the exon boundary
        tx_snv(11, "A"): ("synonymous_variant", "p.K4="),  # AAG -> AAA
        tx_snv(0, "C"): ("start_lost", "p.M1?"),  # ATG -> CTG
        (donor_g + 1, s[donor_g], comp["A"]): ("splice_donor_variant", ""),
        # insert T after GG of GGC: GGT CTT TTA G... -> first change F6L, no stop in the CDS
        (ins_anchor + 1, s[ins_anchor], s[ins_anchor] + "A"): ("frameshift_variant", "p.F6fs"),
    }
    df = _annotate(genome, list(cases), tmp_path)
    got = {(r.pos, r.ref, r.alt): r for r in df.itertuples()}
    for key, (term, short) in cases.items():
        r = got[key]
        assert (r.gene, r.consequence, r.hgvsp_short) == ("GM", term, short), (key, r)
    assert got[tx_snv(7, "A")].codons == "CGA/CAA"
    assert got[(ins_anchor + 1, s[ins_anchor], s[ins_anchor] + "A")].hgvsp == "p.Phe6LeufsTer?"


def test_impact_sum_f_times_w_by_hand(genome, tmp_path):
    """Gene GP weight 2; hotspot at residue A2 (w = 3); f: missense 0.5, stop_gained 1.0, synonymous 0.02."""
    s = genome["seq"]
    (tmp_path / "genes.tsv").write_text("gene\tweight\nGP\t2\n")
    (tmp_path / "hot.tsv").write_text("ctg\t99999\tA\tC\tGP\tMissense_Mutation\tA2P\tnote\n")
    records = [_snv(s, 1013, "C"), _snv(s, 1103, "A"), _snv(s, 1015, "A"), _snv(s, 1060, "G" if s[1060] != "G" else "C")]
    weights = load_weights(hotspots=str(tmp_path / "hot.tsv"), gene_weights=str(tmp_path / "genes.tsv"))
    df = _annotate(genome, records, tmp_path, weights=weights)
    by = {r.hgvsp_short or r.consequence: r for r in df.itertuples()}
    assert by["p.A2P"].f_w == pytest.approx(0.5 * 2 * 3) and by["p.A2P"].hotspot
    assert by["p.W5*"].f_w == pytest.approx(1.0 * 2)
    assert by["p.A2="].f_w == pytest.approx(0.02 * 2 * 3)
    assert by["intron_variant"].f_w == pytest.approx(0.01 * 2)
    matrix = pd.read_csv(tmp_path / "out" / "impact_matrix.tsv", sep="\t", index_col=0)
    assert matrix.loc["GP", "S1"] == pytest.approx(3.0 + 2.0 + 0.12 + 0.02)
    assert matrix.loc["GM", "S1"] == 0
    parquet = pd.read_parquet(tmp_path / "out" / "impact_matrix.parquet").set_index("gene")
    assert parquet.loc["GP", "S1"] == pytest.approx(matrix.loc["GP", "S1"])
    tmb = pd.read_csv(tmp_path / "out" / "tmb.tsv", sep="\t")
    assert tmb.loc[0, "nonsynonymous"] == 2  # missense + stop_gained
    # callable size: the annotation's coding length (24 + 21 bp) is below 0.2 Mb, so TMB is not given
    assert tmb.loc[0, "callable_mb"] == pytest.approx(45e-6) and math.isnan(tmb.loc[0, "tmb"])


def test_vaf_scaling(genome, tmp_path):
    s = genome["seq"]
    vcf = tmp_path / "v.vcf"
    _write_vcf(vcf, [_snv(s, 1013, "C")], vaf=[0.2])
    opts = ImpactOptions(out=str(tmp_path / "o"), vcfs=[f"P1={vcf}"], gtf=str(genome["dir"] / "genes.gtf"),
                         ref=str(genome["dir"] / "ref.fa"), weights=load_weights(vaf_scaling=True), callable_mb=1.0)
    run_impact(opts)
    df = pd.read_csv(tmp_path / "o" / "variants.tsv", sep="\t")
    assert df.loc[0, "sample"] == "P1" and df.loc[0, "f_w"] == pytest.approx(0.5 * 0.4)
    assert pd.read_csv(tmp_path / "o" / "tmb.tsv", sep="\t").loc[0, "tmb"] == pytest.approx(1.0)


def test_ref_mismatch_skip_or_fail(genome, tmp_path):
    s = genome["seq"]
    wrong = "A" if s[1013] != "A" else "C"
    records = [(1014, wrong, "T" if wrong != "T" else "G"), _snv(s, 1103, "A")]
    df = _annotate(genome, records, tmp_path)
    assert len(df) == 1
    skipped = pd.read_csv(tmp_path / "out" / "skipped.tsv", sep="\t")
    assert skipped.loc[0, "pos"] == 1014 and "REF differs" in skipped.loc[0, "reason"]
    with pytest.raises(UserError, match=r"ctg:1014: REF '.' but .*ref.fa has"):
        _annotate(genome, records, tmp_path / "f", ref_mismatch="fail")
    assert not (tmp_path / "f" / "out").exists()


def test_chromosome_alias(genome, tmp_path):
    s = genome["seq"]
    vcf = tmp_path / "v.vcf"
    _write_vcf(vcf, [_snv(s, 1013, "C")])
    text = vcf.read_text().replace("ID=ctg", "ID=chrctg").replace("\nctg\t", "\nchrctg\t")
    vcf.write_text(text)
    common = dict(gtf=str(genome["dir"] / "genes.gtf"), ref=str(genome["dir"] / "ref.fa"))
    run_impact(ImpactOptions(out=str(tmp_path / "a"), vcfs=[str(vcf)], **common))
    assert pd.read_csv(tmp_path / "a" / "variants.tsv", sep="\t").loc[0, "hgvsp_short"] == "p.A2P"
    with pytest.raises(UserError, match=r"contig 'chrctg' is not in .*ref.fa \(its contigs: ctg\): use --chrom-alias auto"):
        run_impact(ImpactOptions(out=str(tmp_path / "b"), vcfs=[str(vcf)], chrom_alias="none", **common))


def test_gtf_without_cds_or_transcripts_is_refused(genome, tmp_path):
    from oncorisk.impact.annotation import load_annotation

    gtf = (genome["dir"] / "genes.gtf").read_text().splitlines()
    (tmp_path / "nocds.gtf").write_text("\n".join(l for l in gtf if "\tCDS\t" not in l and "stop_codon" not in l))
    with pytest.raises(UserError, match="no CDS features"):
        load_annotation(tmp_path / "nocds.gtf")
    (tmp_path / "genes_only.gtf").write_text(
        "ctg\tx\tgene\t1\t100\t.\t+\t.\tgene_id \"G\"; gene_name \"G\";\n")
    with pytest.raises(UserError, match="no transcripts with exons"):
        load_annotation(tmp_path / "genes_only.gtf")


def test_gff3_gives_the_same_consequences(genome, tmp_path):
    """The same gene models as GFF3 (CDS includes the stop codon there) annotate identically."""
    gm = genome["gm"]
    rows = ["##gff-version 3",
            "ctg\tt\tgene\t1001\t1223\t.\t+\t.\tID=gene:GP;Name=GP;biotype=protein_coding",
            "ctg\tt\tmRNA\t1001\t1223\t.\t+\t.\tID=transcript:GP-201;Parent=gene:GP;tag=Ensembl_canonical"]
    rows += [f"ctg\tt\texon\t{a + 1}\t{b}\t.\t+\t.\tParent=transcript:GP-201" for a, b in ((1000, 1020), (1100, 1111), (1200, 1223))]
    rows += [f"ctg\tt\tCDS\t{a + 1}\t{b}\t.\t+\t0\tParent=transcript:GP-201" for a, b in ((1010, 1020), (1100, 1111), (1200, 1203))]
    (tmp_path / "g.gff3").write_text("\n".join(rows) + "\n")
    s = genome["seq"]
    vcf = tmp_path / "v.vcf"
    _write_vcf(vcf, [_snv(s, 1100, "A"), _snv(s, 1200, "C")])
    run_impact(ImpactOptions(out=str(tmp_path / "o"), vcfs=[str(vcf)], gtf=str(tmp_path / "g.gff3"),
                             ref=str(genome["dir"] / "ref.fa")))
    df = pd.read_csv(tmp_path / "o" / "variants.tsv", sep="\t")
    assert df["hgvsp_short"].tolist() == ["p.G4D", "p.*8Qext*"]
    assert gm  # the minus gene is not in this GFF3


def test_maf_input_uses_its_classification(tmp_path):
    maf = tmp_path / "m.maf"
    maf.write_text("\n".join([
        "#version 2.4",
        "Hugo_Symbol\tChromosome\tStart_Position\tEnd_position\tVariant_Classification\tReference_Allele\t"
        "Tumor_Seq_Allele2\tTumor_Sample_Barcode\tProtein_Change\ti_TumorVAF_WU",
        "KRAS\t12\t25398284\t25398284\tMissense_Mutation\tC\tT\tT1\tp.G12D\t40",
        "TP53\t17\t7577120\t7577120\tNonsense_Mutation\tC\tA\tT1\tp.R213*\t30",
        "TP53\t17\t7577121\t7577121\tSilent\tG\tA\tT2\tp.R213R\t30",
        "DNMT3A\t2\t25457242\t25457242\tSplice_Site\tC\tT\tT2\t\t20",
    ]) + "\n")
    (tmp_path / "hot.tsv").write_text("12\t25398284\tC\tT\tKRAS\tMissense_Mutation\tG12D\tx\n")
    info = run_impact(ImpactOptions(out=str(tmp_path / "o"), maf=str(maf), callable_mb=30.0,
                                    weights=load_weights(hotspots=str(tmp_path / "hot.tsv"))))
    assert info["samples"] == 2
    df = pd.read_csv(tmp_path / "o" / "variants.tsv", sep="\t", keep_default_na=False)
    assert df["consequence"].tolist() == ["missense_variant", "stop_gained", "synonymous_variant", "splice_site_variant"]
    m = pd.read_csv(tmp_path / "o" / "impact_matrix.tsv", sep="\t", index_col=0)
    assert m.loc["KRAS", "T1"] == pytest.approx(0.5 * 3) and m.loc["TP53", "T1"] == pytest.approx(1.0)
    assert m.loc["DNMT3A", "T2"] == pytest.approx(0.95)
    tmb = pd.read_csv(tmp_path / "o" / "tmb.tsv", sep="\t").set_index("sample")
    assert tmb.loc["T1", "tmb"] == pytest.approx(2 / 30) and tmb.loc["T2", "nonsynonymous"] == 1


def test_maf_with_missing_columns(tmp_path):
    maf = tmp_path / "m.maf"
    maf.write_text("Hugo_Symbol\tChromosome\tStart_Position\nKRAS\t12\t1\n")
    res = subprocess.run([sys.executable, "-m", "oncorisk", "impact", "--maf", str(maf), "--out", str(tmp_path / "o")],
                         capture_output=True, text=True)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "missing MAF columns Reference_Allele, Tumor_Seq_Allele2, Variant_Classification, Tumor_Sample_Barcode" in res.stderr
    assert not (tmp_path / "o").exists()


def test_existing_vep_csq_is_used_when_asked(tmp_path):
    vcf = tmp_path / "csq.vcf"
    vcf.write_text("\n".join([
        "##fileformat=VCFv4.2", "##contig=<ID=1,length=1000>",
        '##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations from Ensembl VEP. '
        'Format: Allele|Consequence|IMPACT|SYMBOL|Gene|Feature|HGVSp|CANONICAL">',
        "\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO"]),
        "1\t100\t.\tC\tT\t.\tPASS\tCSQ=T|intron_variant|MODIFIER|ABC|G1|T1||,T|missense_variant|MODERATE|ABC|G1|T2|"
        "ENSP1:p.Gly12Asp|YES,T|upstream_gene_variant|MODIFIER|XYZ|G2|T3||YES",
    ]) + "\n")
    run_impact(ImpactOptions(out=str(tmp_path / "o"), vcfs=[f"S={vcf}"], use_existing="csq", callable_mb=1))
    df = pd.read_csv(tmp_path / "o" / "variants.tsv", sep="\t", keep_default_na=False)
    assert df[["gene", "consequence", "hgvsp_short"]].values.tolist() == [["ABC", "missense_variant", "p.Gly12Asp"]]


def test_vectorised_path_agrees_with_exact_path(small_cohort):
    """Random SNVs and indels over the simulated genes: the vectorised classification equals the exact one."""
    from oncorisk.impact.annotation import load_annotation
    from oncorisk.genome.alleles import trim_alleles as normalise
    from oncorisk.impact.consequence import Annotator

    ann = load_annotation(small_cohort / "genes.gtf")
    annotator = Annotator(ann)
    fa = pysam.FastaFile(str(small_cohort / "reference.fa"))
    rng = np.random.default_rng(0)
    for contig in fa.references:
        seq = fa.fetch(contig).upper()
        tx = np.flatnonzero(ann.contig == contig)
        # positions in and around coding exons, plus random ones
        pos = np.concatenate([rng.integers(ann.cds_start[ann.cds_off[t]] - 20, ann.cds_end[ann.cds_off[t + 1] - 1] + 20,
                                           size=40) for t in tx] + [rng.integers(100, len(seq) - 100, size=300)])
        starts, refs, alts = [], [], []
        for p in pos.tolist():
            kind = rng.random()
            if kind < 0.8:
                ref, alt = seq[p], "ACGT"[("ACGT".index(seq[p]) + int(rng.integers(1, 4))) % 4]
            elif kind < 0.9:
                ref, alt = seq[p : p + 3], seq[p]
            else:
                ref, alt = seq[p], seq[p] + "T"
            s, r, a = normalise(p, ref, alt)
            starts.append(s)
            refs.append(r)
            alts.append(a)
        table = annotator.annotate(contig, seq, np.array(starts), refs, alts)
        assert len(table) > len(pos)
        compared = 0
        for e in table.effects():
            if e.terms[0] in ("upstream_gene_variant", "downstream_gene_variant"):
                continue  # outside the transcript: the exact path is never asked about these
            exact = annotator.classify(e.var, e.tx, seq, starts[e.var], refs[e.var], alts[e.var])
            assert (exact.terms, exact.hgvsp_short) == (e.terms, e.hgvsp_short), (e, exact)
            compared += 1
        assert compared > 1000


@pytest.mark.realdata
def test_tcga_laml_ranks_known_aml_drivers_first(tmp_path):
    from conftest import SHARED_DATA

    maf = SHARED_DATA / "tcga_laml" / "tcga_laml.maf.gz"
    hot = SHARED_DATA / "cancer_genes" / "cancerhotspots_v2_GRCh37.tsv"
    if not maf.exists():
        pytest.skip(f"{maf} is absent (real data only in the team's CI)")
    run_impact(ImpactOptions(out=str(tmp_path / "o"), maf=str(maf), callable_mb=35.0,
                             weights=load_weights(hotspots=str(hot))))
    m = pd.read_parquet(tmp_path / "o" / "impact_matrix.parquet").set_index("gene")
    assert m.shape[1] == 193
    top = m.sum(axis=1).sort_values(ascending=False).index[:10].tolist()
    assert {"FLT3", "DNMT3A", "NPM1", "IDH2", "TP53"} <= set(top)
    v = pd.read_csv(tmp_path / "o" / "variants.tsv", sep="\t", keep_default_na=False)
    assert v[(v["gene"] == "IDH1")]["hotspot"].astype(str).str.lower().eq("true").all()  # R132 is a hotspot


def test_tmb_figure_with_and_without_a_callable_size(tmp_path):
    from oncorisk.impact.run import tmb_figure

    t = pd.DataFrame({"sample": ["A", "B", "C"], "nonsynonymous": [1, 12, 30], "callable_mb": [1.0] * 3,
                      "tmb": [1.0, 12.0, 30.0], "callable_source": ["given (--callable-mb)"] * 3})
    tmb_figure(t, tmp_path / "a.png")
    t["tmb"] = np.nan
    tmb_figure(t, tmp_path / "b.png")
    import matplotlib.image as mpimg

    images = [mpimg.imread(tmp_path / name)[..., :3] for name in ("a.png", "b.png")]
    for img in images:  # a drawn figure: a good share of non-white pixels (bars, axes, labels), not a blank page
        assert 0.02 < float((img.mean(axis=2) < 0.9).mean()) < 0.9
    assert images[0].shape != images[1].shape or not np.array_equal(*images)  # per Mb vs counts: not one figure
