#!/usr/bin/env bash
# Recipe of the shipped caller models (resources/models/germline-illumina-v1.3.1, somatic-illumina-v1.3.1).
# Needs ../shared/data (real GIAB reads); about 25 minutes on 2 CPU cores; steps whose output exists are skipped
# (a rerun resumes). Usage:
#   bash workflow/scripts/train_shipped_models.sh WORKDIR [MODELS_OUT]
# Documented in docs/caller.md (model cards). NA12878 chr20:10,000,000-10,050,000 is reserved for independent
# evaluation: no model reads it. The germline model learns from spike-ins into HG002 and into NA12878's truth half
# (chr20:10,050,001-10,100,000; its real variants unlabelled there), and from that half's own candidates labelled
# by GIAB (step 3b). Its figures on that half come from block-wise
# cross-validation: the half is cut into 10-kb blocks, fold A (blocks 1, 3, 5) and fold B (2, 4); WORKDIR/cv holds
# a model trained without fold A's blocks and one without fold B's, each evaluated on the blocks it did not see
# (benchmarks/caller.py --cv WORKDIR/cv). The somatic model sees NA12878's truth half as pseudo-tumour/normal
# spike-ins (germline variants labelled by GIAB). (v1.0.0's germline model was trained on spike-ins into the
# reserved 10.00-10.05 Mb.)
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
WORK=${1:?give a work folder}
OUT=${2:-$REPO/resources/models}
VERSION=1.3.1
D=$REPO/../shared/data/giab_hg001_chr20
H=$REPO/../shared/data/giab_hg002_chr20
mkdir -p "$WORK" && cd "$WORK"

# 1. simulated tumour/normal WGS (4 patients, 2 Mb, 1000 passengers each, purity 0.3-1.0), seed 101
[ -d sim_train ] || oncorisk -q simulate --out sim_train --seed 101 --patients 4 --bam-patients 4 \
    --genome-size 2000000 --capture wgs --set passenger_rate=1000 --set 'purity=[0.3,1.0]'
for p in P0001 P0002 P0003 P0004; do
  [ -d ts_$p ] || oncorisk -q tensors --bam sim_train/bams/$p.tumor.bam --normal-bam sim_train/bams/$p.normal.bam \
      --ref sim_train/reference.fa --truth-vcf sim_train/truth/$p.somatic.vcf.gz \
      --germline-truth-vcf sim_train/truth/$p.germline.vcf.gz --confident-bed sim_train/truth/confident.bed \
      --out ts_$p --threads 2
done

# 2. germline spike-ins into real reads: HG002 20:10.0-10.1 Mb (30x, 148-150 bp), 100 SNVs and 100 indels per
#    seed, het or hom-alt; HG002's own variants are unknown: candidates at AF >= 0.3 (pileup or haplotype) that
#    were not planted are left unlabelled
for s in $(seq 11 50); do
  [ -d t_hg_g$s ] && continue
  oncorisk -q spike-in --bam $H/HG002_NIST_150bp_downsampled_30x.chr20.10_10p1mb.bam --ref $H/hs37d5.chr20.fa.gz \
      --regions 20:10000001-10099000 --out hg_g$s.bam --truth-out hg_g$s.vcf.gz --germline --snvs 100 --indels 100 --seed $s
  oncorisk -q tensors --bam hg_g$s.bam --ref $H/hs37d5.chr20.fa.gz --regions 20:10000001-10099000 \
      --truth-vcf hg_g$s.vcf.gz --unknown-af-above 0.3 --out t_hg_g$s
done

# 3. germline spike-ins into NA12878's truth half (~50x, 101 bp), 60 SNVs + 60 indels per seed; its real variants
#    unlabelled (AF >= 0.3); tensors per fold of 10-kb blocks
printf "chr20\t10050000\t10060000\nchr20\t10070000\t10080000\nchr20\t10090000\t10100000\n" > foldA.bed
printf "chr20\t10060000\t10070000\nchr20\t10080000\t10090000\n" > foldB.bed
for s in $(seq 11 30); do
  [ -d t_na_gB$s ] && continue
  oncorisk -q spike-in --bam $D/NA12878_S1.chr20.10_10p1mb.bam --ref $D/ucsc.hg19.chr20.unittest.fasta.gz \
      --regions $D/truth_region.bed --out na_g$s.bam --truth-out na_g$s.vcf.gz --germline --snvs 60 --indels 60 --seed $s
  for f in A B; do
    oncorisk -q tensors --bam na_g$s.bam --ref $D/ucsc.hg19.chr20.unittest.fasta.gz --regions fold$f.bed \
        --truth-vcf na_g$s.vcf.gz --unknown-af-above 0.3 --out t_na_g$f$s
  done
done

# 3b. NA12878's truth half itself, per fold, labelled by GIAB (its real variants; every other candidate hom-ref, as
#     the truth region is the whole half): the block-CV models see the other fold's, the shipped model both
for f in A B; do
  [ -d t_na_real$f ] || oncorisk -q tensors --bam $D/NA12878_S1.chr20.10_10p1mb.bam \
      --ref $D/ucsc.hg19.chr20.unittest.fasta.gz --regions fold$f.bed \
      --truth-vcf $D/truth.chr20_10050001-10100000.vcf.gz --confident-bed $D/truth_region.bed --out t_na_real$f
done

# 4. somatic spike-ins into real reads: NA12878's truth region split by read name into pseudo-tumour and
#    pseudo-normal (~25x each); 100 SNVs + 60 indels at VAF 0.05-0.5 planted in the tumour; germline labels
#    from the GIAB truth
for s in $(seq 41 52); do
  [ -d t_na_s$s ] && continue
  oncorisk -q spike-in --bam $D/NA12878_S1.chr20.10_10p1mb.bam --ref $D/ucsc.hg19.chr20.unittest.fasta.gz \
      --regions $D/truth_region.bed --out na_s$s.tumor.bam --normal-out na_s$s.normal.bam --truth-out na_s$s.vcf.gz \
      --snvs 100 --indels 60 --vaf 0.05 0.5 --seed $s
  oncorisk -q tensors --bam na_s$s.tumor.bam --normal-bam na_s$s.normal.bam --ref $D/ucsc.hg19.chr20.unittest.fasta.gz \
      --regions $D/truth_region.bed --truth-vcf na_s$s.vcf.gz --germline-truth-vcf $D/truth.chr20_10050001-10100000.vcf.gz \
      --confident-bed $D/truth_region.bed --out t_na_s$s
done

# 5. train: 3 members each (seeds 1-3), probabilities averaged; the two cross-validation germline models first
#    (the shipped germline model in step 6, with its PASS threshold)
[ -d cv/germline-cvA-v$VERSION ] || oncorisk train-caller --tensors t_hg_g* t_na_gB* t_na_realB --name germline-cvA --version $VERSION \
    --members 3 --out cv  # never saw fold A
[ -d cv/germline-cvB-v$VERSION ] || oncorisk train-caller --tensors t_hg_g* t_na_gA* t_na_realA --name germline-cvB --version $VERSION \
    --members 3 --out cv  # never saw fold B
cp foldA.bed cv/germline-cvA.bed && cp foldB.bed cv/germline-cvB.bed

# 6. the PASS threshold (QUAL) of the germline model, by block CV on the truth half (GIAB's labels; never the reserved
#    stretch): each fold model calls the blocks it never saw, scored at several QUAL thresholds. Nested: the block-CV
#    figure scores fold A's calls at the threshold best on fold B and vice versa (cv/germline-cvX.min_qual, which
#    benchmarks/caller.py --cv applies); the shipped model records the threshold best over both folds.
for f in A B; do
  [ -f cv/eval$f.json ] && continue
  oncorisk -q call --bam $D/NA12878_S1.chr20.10_10p1mb.bam --ref $D/ucsc.hg19.chr20.unittest.fasta.gz \
      --regions fold$f.bed --model cv/germline-cv$f-v$VERSION --min-qual 0 --out cv/calls$f.vcf.gz
  oncorisk -q evaluate --truth $D/truth.chr20_10050001-10100000.vcf.gz --query cv/calls$f.vcf.gz \
      --ref $D/ucsc.hg19.chr20.unittest.fasta.gz --bed fold$f.bed --qual-thresholds 10 15 20 25 30 35 40 45 50 \
      --out cv/eval$f.json > /dev/null
done
python "$REPO/workflow/scripts/choose_min_qual.py" cv/evalB.json > cv/germline-cvA.min_qual
python "$REPO/workflow/scripts/choose_min_qual.py" cv/evalA.json > cv/germline-cvB.min_qual
MIN_QUAL=$(python "$REPO/workflow/scripts/choose_min_qual.py" cv/evalA.json cv/evalB.json)
oncorisk train-caller --tensors t_hg_g* t_na_gA* t_na_gB* t_na_realA t_na_realB --name germline-illumina --version $VERSION --members 3 \
    --min-qual "$MIN_QUAL" --out "$OUT"
[ -d "$OUT/somatic-illumina-v$VERSION" ] || oncorisk train-caller --tensors ts_P000* t_na_s* --name somatic-illumina \
    --version $VERSION --members 3 --out "$OUT"
