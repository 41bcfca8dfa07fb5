#!/usr/bin/env python
"""Benchmark the impact stage.

1. Speed and memory: a simulated 1,000,000-variant VCF against a simulated annotation of >= 20,000 transcripts
   (Ensembl-style GFF3 on a 100 Mb random genome), timed for `oncorisk impact` and, on the same files, for
   the peer `bcftools csq` (Debian's bcftools) when installed.
2. Real data: the TCGA LAML MAF in ../shared/data (GRCh37), with the cancerhotspots.org v2 table as hotspot
   weights; the top 20 genes by impact beside the MAF's own per-gene mutation counts.

Usage: python benchmarks/impact.py [--variants N] [--genes N] [--skip-speed] [--skip-real]
"""

from __future__ import annotations

import argparse
import datetime
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pysam

from oncorisk import __version__

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import timed  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
CONTIGS = {f"chr{i}": 25_000_000 for i in range(1, 5)}


def write_genome(d: Path, rng) -> dict[str, np.ndarray]:
    seqs = {}
    with open(d / "ref.fa", "w") as fh:
        for c, n in CONTIGS.items():
            s = np.frombuffer(b"ACGT", dtype=np.uint8)[rng.integers(0, 4, size=n)]
            seqs[c] = s
            fh.write(f">{c}\n")
            raw = s.tobytes().decode()
            fh.write("\n".join(raw[i : i + 60] for i in range(0, n, 60)) + "\n")
    pysam.faidx(str(d / "ref.fa"))
    return seqs


def write_gff3(d: Path, rng, n_genes: int, seqs) -> int:
    """Ensembl-style GFF3: genes with 1-3 protein-coding isoforms (exon skipping), CDS with phases."""
    lines = ["##gff-version 3"]
    n_tx = 0
    per_contig = n_genes // len(CONTIGS)
    for c, n in CONTIGS.items():
        starts = np.sort(rng.choice(np.arange(10_000, n - 100_000, 50), size=per_contig, replace=False))
        for gi, gs in enumerate(starts):
            n_exons = int(rng.integers(3, 12))
            exon_len = rng.integers(80, 300, size=n_exons)
            intron_len = rng.integers(200, 3000, size=n_exons - 1)
            ex = []
            p = int(gs)
            for k in range(n_exons):
                ex.append((p, p + int(exon_len[k])))
                p += int(exon_len[k]) + (int(intron_len[k]) if k < n_exons - 1 else 0)
            strand = "+" if rng.random() < 0.5 else "-"
            gid = f"{c}G{gi}"
            lines.append(f"{c}\tsim\tgene\t{ex[0][0] + 1}\t{ex[-1][1]}\t.\t{strand}\t.\t"
                         f"ID=gene:{gid};Name={gid};biotype=protein_coding")
            n_iso = int(rng.integers(1, 4))
            for iso in range(n_iso):
                keep = ex if iso == 0 else [e for j, e in enumerate(ex) if j in (0, n_exons - 1) or rng.random() < 0.7]
                tid = f"{gid}T{iso}"
                n_tx += 1
                tag = ";tag=Ensembl_canonical" if iso == 0 else ""
                lines.append(f"{c}\tsim\tmRNA\t{keep[0][0] + 1}\t{keep[-1][1]}\t.\t{strand}\t.\t"
                             f"ID=transcript:{tid};Parent=gene:{gid};biotype=protein_coding{tag}")
                for a, b in keep:
                    lines.append(f"{c}\tsim\texon\t{a + 1}\t{b}\t.\t{strand}\t.\tParent=transcript:{tid}")
                # CDS from 30 bp into the first exon to 30 bp before the end of the last, trimmed to whole codons
                cds = [(max(a, keep[0][0] + 30), min(b, keep[-1][1] - 30)) for a, b in keep]
                cds = [(a, b) for a, b in cds if b > a]
                total = sum(b - a for a, b in cds)
                cut = total % 3
                if strand == "+":
                    cds[-1] = (cds[-1][0], cds[-1][1] - cut)
                else:
                    cds[0] = (cds[0][0] + cut, cds[0][1])
                done = 0
                for a, b in (cds if strand == "+" else cds[::-1]):
                    phase = (3 - done % 3) % 3
                    lines.append(f"{c}\tsim\tCDS\t{a + 1}\t{b}\t.\t{strand}\t{phase}\tID=CDS:{tid};Parent=transcript:{tid}")
                    done += b - a
    (d / "genes.gff3").write_text("\n".join(lines) + "\n")
    return n_tx


def write_vcf(d: Path, rng, n: int, seqs) -> None:
    per = n // len(CONTIGS)
    out = ["##fileformat=VCFv4.2", *[f"##contig=<ID={c},length={L}>" for c, L in CONTIGS.items()],
           '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
           "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1"]
    for c, L in CONTIGS.items():
        s = seqs[c]
        pos = np.unique(rng.integers(100, L - 100, size=per))
        kind = rng.random(len(pos))
        alt_base = rng.integers(1, 4, size=len(pos))
        raw = s.tobytes().decode()
        for p, k, a in zip(pos.tolist(), kind.tolist(), alt_base.tolist()):
            ref = raw[p]
            if k < 0.9:
                alt = "ACGT"[("ACGT".index(ref) + a) % 4]
                out.append(f"{c}\t{p + 1}\t.\t{ref}\t{alt}\t50\tPASS\t.\tGT\t0/1")
            elif k < 0.95:
                out.append(f"{c}\t{p + 1}\t.\t{raw[p:p + 3]}\t{ref}\t50\tPASS\t.\tGT\t0/1")
            else:
                out.append(f"{c}\t{p + 1}\t.\t{ref}\t{ref}A\t50\tPASS\t.\tGT\t0/1")
    (d / "v.vcf").write_text("\n".join(out) + "\n")
    pysam.tabix_compress(str(d / "v.vcf"), str(d / "v.vcf.gz"), force=True)
    pysam.tabix_index(str(d / "v.vcf.gz"), preset="vcf", force=True)
    (d / "v.vcf").unlink()


def speed(args) -> None:
    d = Path(tempfile.mkdtemp(prefix="oncorisk-impact-bench-"))
    rng = np.random.default_rng(7)
    seqs = write_genome(d, rng)
    n_tx = write_gff3(d, rng, args.genes, seqs)
    write_vcf(d, rng, args.variants, seqs)
    n_var = sum(1 for line in pysam.BGZFile(str(d / "v.vcf.gz")) if not line.startswith(b"#"))
    print(f"inputs: {n_var:,} variants (90% SNVs, 5% 2-bp deletions, 5% 1-bp insertions) in a 100 Mb random "
          f"genome; {args.genes:,} genes / {n_tx:,} transcripts (Ensembl-style GFF3)")
    ours = ["oncorisk", "-q", "impact", "--vcf", str(d / "v.vcf.gz"), "--gtf", str(d / "genes.gff3"),
            "--ref", str(d / "ref.fa"), "--out", str(d / "out")]
    wall, rss = timed(ours)
    print("| tool | wall (s) | variants/s | peak RSS (MB) |\n|---|---|---|---|")
    print(f"| oncorisk impact (1 core) | {wall:.1f} | {n_var / wall:,.0f} | {rss:.0f} |")
    if shutil.which("bcftools"):
        peer = ["bcftools", "csq", "-f", str(d / "ref.fa"), "-g", str(d / "genes.gff3"), "-p", "a", "--force",
                "-Ou", "-o", "/dev/null", str(d / "v.vcf.gz")]
        try:
            wall_b, rss_b = timed(peer)
            print(f"| bcftools csq {subprocess.run(['bcftools', '--version'], capture_output=True, text=True).stdout.split()[1]} "
                  f"(1 core) | {wall_b:.1f} | {n_var / wall_b:,.0f} | {rss_b:.0f} |")
        except RuntimeError as exc:
            print(f"| bcftools csq | failed: {str(exc).splitlines()[-1][:120]} | | |")
    counts = pd.read_csv(d / "out" / "variants.tsv", sep="\t", usecols=["consequence"])["consequence"].value_counts()
    print("consequences (rows):", ", ".join(f"{k} {v:,}" for k, v in counts.head(8).items()))
    print(f"command: {' '.join(ours)}")
    shutil.rmtree(d)


def real(args) -> None:
    maf = DATA / "tcga_laml" / "tcga_laml.maf.gz"
    hot = DATA / "cancer_genes" / "cancerhotspots_v2_GRCh37.tsv"
    if not maf.exists():
        print(f"{maf} absent: real-data run skipped")
        return
    d = Path(tempfile.mkdtemp(prefix="oncorisk-laml-"))
    cmd = ["oncorisk", "-q", "impact", "--maf", str(maf), "--hotspots", str(hot), "--callable-mb", "35",
           "--out", str(d / "out")]
    wall, rss = timed(cmd)
    m = pd.read_parquet(d / "out" / "impact_matrix.parquet").set_index("gene")
    v = pd.read_csv(d / "out" / "variants.tsv", sep="\t", keep_default_na=False)
    raw = pd.read_csv(maf, sep="\t", comment="#", usecols=["Hugo_Symbol", "Tumor_Sample_Barcode"])
    n_mut = raw.groupby("Hugo_Symbol").size()
    n_samples = raw.groupby("Hugo_Symbol")["Tumor_Sample_Barcode"].nunique()
    hot_hits = v[v["hotspot"].astype(str).str.lower() == "true"].groupby("gene").size()
    total = m.sum(axis=1).sort_values(ascending=False)
    print(f"\nTCGA LAML ({maf.name}: {len(raw):,} mutations, {raw['Tumor_Sample_Barcode'].nunique()} tumours; "
          f"w: cancerhotspots v2 x3): {wall:.1f} s, peak {rss:.0f} MB")
    print(f"command: {' '.join(cmd)}")
    print("| rank | gene | impact (sum over tumours) | mutations in MAF | tumours mutated | hotspot hits | rank by MAF count |")
    print("|---|---|---|---|---|---|---|")
    by_count = n_mut.sort_values(ascending=False)
    count_rank = {g: i + 1 for i, g in enumerate(by_count.index)}
    for i, (g, val) in enumerate(total.head(20).items(), start=1):
        print(f"| {i} | {g} | {val:.2f} | {n_mut.get(g, 0)} | {n_samples.get(g, 0)} | {hot_hits.get(g, 0)} | {count_rank.get(g)} |")
    tmb = pd.read_csv(d / "out" / "tmb.tsv", sep="\t")
    print(f"TMB (nonsynonymous / 35 Mb): median {tmb['tmb'].median():.3f}, max {tmb['tmb'].max():.3f} per Mb")
    shutil.rmtree(d)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variants", type=int, default=1_000_000)
    ap.add_argument("--genes", type=int, default=12_000)
    ap.add_argument("--skip-speed", action="store_true")
    ap.add_argument("--skip-real", action="store_true")
    args = ap.parse_args()
    print(f"# oncorisk {__version__} impact benchmark, {datetime.date.today()}, {platform.machine()}, "
          f"python {platform.python_version()}")
    if not args.skip_speed:
        speed(args)
    if not args.skip_real:
        real(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
