"""VCF 4.2 writing for the caller: one function builds the header, one formats the records.

Germline: one sample column. Somatic: the normal's then the tumour's column (Mutect2 order, with
``##normal_sample`` and ``##tumor_sample`` naming them), a SOMATIC flag and the somatic score SS = P(somatic).

QUAL is phred-scaled: -10 log10 P(no variant) (germline), -10 log10 (1 - P(somatic)) (somatic), capped
at 99. FILTER:

- PASS: called, QUAL >= the minimum (``--min-qual``; else the model's recorded threshold, else 10:
  caller.defaults.model_min_qual);
- LowQual: called, QUAL below the minimum;
- RefCall: the model says the candidate is not a variant (GT 0/0);
- GERMLINE (somatic mode): the model says the allele is germline, present in the normal.

AD and VAF of indels count reads by haplotype comparison (tensors/haplotype.py), so reads the aligner
clipped inside a repeat still count; DP is at least AD's sum.

Every candidate is written (RefCall too, as DeepVariant), so a site can be traced from the VCF back to its
tensor row. Candidate alleles that overlap (the same anchor, or overlapping REF spans) form one **locus**
(``group_loci``); germline loci are genotyped jointly (``locus_genotypes``): the model's per-allele genotype
probabilities are combined into a posterior over every diploid genotype of the locus, and the locus is written
as one record, multi-allelic where the called genotype holds two alternate alleles (GT 1/2, PL for every
genotype in VCF order, AD per allele). A called record keeps only the alleles of its genotype (as GATK and
DeepVariant trim); a RefCall record lists every candidate allele. Somatic records stay one per allele, and at
most two alleles of a locus are called (the others are written RefCall), so no locus has more than two
alternate alleles in a genotype.
"""

from __future__ import annotations

import os
import re

import numpy as np
import pandas as pd

from oncorisk import __version__
from oncorisk.errors import UserError
from oncorisk.genome.alleles import overlapping_alleles
from oncorisk.io.atomic import write_bgzip_vcf as write_vcf

MAX_PHRED = 99.0
# VCF 4.3 section 1.4.7: contig names; sample names may hold no whitespace (the columns are tab-separated)
CONTIG_NAME = re.compile(r"[0-9A-Za-z!#$%&+./:;?@^_|~-][0-9A-Za-z!#$%&*+./:;=?@^_|~-]*")
SAMPLE_NAME = re.compile(r"\S+")


def check_vcf_names(samples: list[tuple[str, str]], contigs: list[str], reference: str) -> None:
    """Refuse names that would make the VCF unreadable, before anything is written.

    Args:
        samples: (name, where it came from) pairs, e.g. ("A B", "--sample-name").
        contigs: the reference's contig names.
        reference: the reference FASTA, named in the error.

    Raises:
        UserError: naming the value, where it came from and the fix.
    """
    for name, source in samples:
        if not SAMPLE_NAME.fullmatch(name or ""):
            raise UserError(f"{source}: bad value {name!r}: a VCF sample name may not be empty or hold spaces, tabs "
                            f"or newlines: give another name with --sample-name / --normal-sample-name")
    for c in contigs:
        if not CONTIG_NAME.fullmatch(c):
            raise UserError(f"{reference}: contig name {c!r} is not allowed in a VCF (VCF 4.3, 1.4.7: no spaces, "
                            f"commas, quotes, brackets; not starting with '*' or '='): rename it in the FASTA and "
                            f"its index")


def phred(p_wrong: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p_wrong, dtype=np.float64), 10 ** (-MAX_PHRED / 10), 1.0)
    return np.minimum(-10 * np.log10(p), MAX_PHRED)


def _reference_uri(reference: str) -> str:
    """The reference as the command named it: a file URI for an absolute path, the relative path as given
    otherwise, so the same command in another folder writes the same bytes."""
    return f"file://{reference}" if os.path.isabs(reference) else str(reference)


def vcf_header(contigs: list[tuple[str, int]], samples: list[str], somatic: bool, reference: str, model: str,
               command: str, min_qual: float, extra: list[str] | None = None) -> str:
    command = command.encode("unicode_escape").decode("ascii")  # one header line, whatever the arguments hold
    lines = ["##fileformat=VCFv4.2", f"##source=oncorisk-{__version__}", f"##oncoriskCommand={command}",
             f"##oncoriskModel={model}", f"##reference={_reference_uri(reference)}"]
    lines += [f"##contig=<ID={c},length={n}>" for c, n in contigs]
    lines += [
        '##FILTER=<ID=PASS,Description="All filters passed">',
        f'##FILTER=<ID=LowQual,Description="Called by the model, but QUAL < {min_qual:g}">',
        '##FILTER=<ID=RefCall,Description="Candidate allele the model calls not a variant (genotype 0/0)">',
    ]
    lines += list(extra or [])
    if somatic:
        lines += [
            '##FILTER=<ID=GERMLINE,Description="The model calls the allele germline (present in the normal)">',
            '##INFO=<ID=SOMATIC,Number=0,Type=Flag,Description="Somatic call: the allele is in the tumour, not the normal">',
            '##INFO=<ID=SS,Number=1,Type=Float,Description="Somatic score: the model\'s P(somatic)">',
            '##INFO=<ID=PGERM,Number=1,Type=Float,Description="The model\'s P(germline)">',
            f"##normal_sample={samples[0]}",
            f"##tumor_sample={samples[1]}",
        ]
    lines += [
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        '##FORMAT=<ID=GQ,Number=1,Type=Integer,Description="Genotype quality, phred-scaled P(genotype wrong)">',
        '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Read depth at the anchor (counted bases and deletions)">',
        '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Reads supporting the reference and each alternate allele">',
        '##FORMAT=<ID=VAF,Number=A,Type=Float,Description="Alternate allele fractions, AD[alt] / DP">',
        '##FORMAT=<ID=PL,Number=G,Type=Integer,Description="Phred-scaled genotype likelihoods, normalised to 0">',
    ]
    if not somatic:
        lines.append('##FORMAT=<ID=PS,Number=1,Type=Integer,Description="Phase set: records with the same PS and a '
                     'phased GT (0|1) are on one haplotype, by the reads that carry their alleles together (local '
                     'haplotype realignment)">')
    cols = ["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT"] + list(samples)
    return "\n".join(lines + ["\t".join(cols)]) + "\n"


def _sample_field(gt: str, gq: int, dp: int, ref_n: int, alt_n: int, pl: np.ndarray) -> str:
    vaf = alt_n / dp if dp else 0.0
    return f"{gt}:{gq}:{dp}:{ref_n},{alt_n}:{vaf:.4g}:{','.join(str(int(v)) for v in pl)}"


GT_STRINGS = ("0/0", "0/1", "1/1")
MAX_LOCUS_ALLELES = 6  # alleles genotyped jointly at one locus (28 genotypes); weaker candidates are written RefCall


def group_loci(sites: pd.DataFrame) -> list[np.ndarray]:
    """Row indices of ``sites`` per locus (``genome.alleles.overlapping_alleles``)."""
    return overlapping_alleles(sites["contig"].to_numpy(), sites["pos"].to_numpy(), sites["ref"].str.len().to_numpy())


def diploid_genotypes(n_alts: int) -> list[tuple[int, int]]:
    """Every diploid genotype (j, k), j <= k, of alleles 0..n_alts, in VCF order (PL: index k(k+1)/2 + j)."""
    return [(j, k) for k in range(n_alts + 1) for j in range(k + 1)]


def locus_genotypes(g: np.ndarray) -> tuple[list[tuple[int, int]], np.ndarray]:
    """Joint genotype posteriors of one locus from the model's per-allele genotype probabilities.

    ``g`` is (alleles, 3): each candidate allele's P(0, 1 or 2 copies). A diploid genotype gives every allele a
    copy number (0, 1 or 2, summing to at most 2), and its likelihood is the product of the alleles'
    probabilities of those copy numbers (the model scored each allele against all other reads, so the alleles'
    outputs are taken as independent evidence), under a flat prior. With one allele this is the model's output.

    Returns:
        (genotypes in VCF order, their posterior probabilities).
    """
    n = len(g)
    gts = diploid_genotypes(n)
    logg = np.log(np.clip(g, 1e-12, 1.0))
    logl = np.empty(len(gts))
    for i, (j, k) in enumerate(gts):
        copies = np.zeros(n + 1, dtype=int)
        copies[j] += 1
        copies[k] += 1
        logl[i] = logg[np.arange(n), copies[1:]].sum()
    post = np.exp(logl - logl.max())
    return gts, post / post.sum()


def _locus_record(cols: dict[str, np.ndarray], rows: np.ndarray, g: np.ndarray, ref_n: np.ndarray,
                  alt_n: np.ndarray, depth: np.ndarray, min_qual: float, refcall: bool = False) -> str:
    """One germline VCF record for the candidate rows of a locus (``cols``: the block's contig, pos, ref and alt
    columns as arrays). ``refcall``: written as RefCall with genotype 0/0 whatever the evidence (an allele demoted
    from a locus of more than ``MAX_LOCUS_ALLELES``: never a second call at the locus)."""
    if len(rows) > MAX_LOCUS_ALLELES:
        raise ValueError("locus too large")  # the caller splits off the weakest alleles first
    gts, post = locus_genotypes(g[rows])
    best = 0 if refcall else int(post.argmax())  # gts[0] is 0/0
    called = sorted({a for a in gts[best] if a})
    keep = called or list(range(1, len(rows) + 1))  # a RefCall record lists every allele
    # the record's REF spans the kept alleles; each ALT is its allele with the reference around it
    contig = cols["contig"][rows[0]]
    pos, ref, alt = (cols[c][rows] for c in ("pos", "ref", "alt"))
    idx = [a - 1 for a in keep]
    start, stop = min(pos[i] for i in idx), max(pos[i] + len(ref[i]) for i in idx)
    bases = dict()
    for i in range(len(rows)):
        bases.update({pos[i] + k: b for k, b in enumerate(ref[i])})
    rec_ref = "".join(bases[x] for x in range(start, stop))
    alts = [rec_ref[: pos[i] - start] + alt[i] + rec_ref[pos[i] - start + len(ref[i]):] for i in idx]
    while len(rec_ref) > 1 and all(len(a) > 1 and a[-1] == rec_ref[-1] for a in alts):  # shared suffix
        rec_ref, alts = rec_ref[:-1], [a[:-1] for a in alts]
    # genotype, qualities and PL over the kept alleles (a subset of the locus: GATK's allele subsetting)
    sub = {a: n for n, a in enumerate([0] + keep)}
    sub_gts = [(j, k) for j, k in gts if j in sub and k in sub]
    pl_raw = phred(np.array([post[gts.index(x)] for x in sub_gts]))
    pl = np.rint(pl_raw - pl_raw.min()).astype(int)
    gt = "/".join(str(sub[a]) for a in gts[best])
    ps = int(cols["hap_phase"][rows[idx[0]]]) if gt == "0/1" and len(idx) == 1 else 0  # a called het of one allele
    gt = "0|1" if ps else gt
    qual = float(phred(post[0]))
    gq = int(np.rint(phred(1 - post[best])))
    filt = "RefCall" if not called else ("PASS" if qual >= min_qual else "LowQual")
    ads = [int(alt_n[rows[i]]) for i in idx]
    ref_count = int(min(ref_n[rows[i]] for i in idx))
    dp = int(max(depth[rows].max(), ref_count + sum(ads)))
    vaf = ",".join(f"{(a / dp if dp else 0.0):.4g}" for a in ads)
    sample = f"{gt}:{gq}:{dp}:{ref_count},{','.join(map(str, ads))}:{vaf}:{','.join(str(int(v)) for v in pl)}"
    fmt = "GT:GQ:DP:AD:VAF:PL"
    if ps:
        sample, fmt = f"{sample}:{ps}", f"{fmt}:PS"
    return f"{contig}\t{start}\t.\t{rec_ref}\t{','.join(alts)}\t{qual:.2f}\t{filt}\t.\t{fmt}\t{sample}"


def _germline_records(sites: pd.DataFrame, g: np.ndarray, ref_n, alt_n, dp, min_qual: float) -> list[str]:
    """One record per locus (``group_loci``); a locus of more than ``MAX_LOCUS_ALLELES`` candidates keeps the
    most likely variant alleles and writes the others as their own RefCall records."""
    out: list[tuple[int, str]] = []  # (first row of the contig's block, line)
    cols = {c: sites[c].to_numpy() for c in ("contig", "pos", "ref", "alt")}
    cols["hap_phase"] = sites["hap_phase"].to_numpy() if "hap_phase" in sites else np.zeros(len(sites), dtype=int)
    for rows in group_loci(sites):
        if len(rows) > MAX_LOCUS_ALLELES:
            order = rows[np.argsort(g[rows, 0], kind="stable")]  # lowest P(0 copies) first
            rows, rest = np.sort(order[:MAX_LOCUS_ALLELES]), np.sort(order[MAX_LOCUS_ALLELES:])
            for r in rest:
                out.append((int(r), _locus_record(cols, np.array([r]), g, ref_n, alt_n, dp, min_qual, refcall=True)))
        out.append((int(rows[0]), _locus_record(cols, rows, g, ref_n, alt_n, dp, min_qual)))
    rank = {c: i for i, c in enumerate(dict.fromkeys(sites["contig"]))}

    def key(item):
        f = item[1].split("\t", 2)
        return rank[f[0]], int(f[1]), item[0]

    return [line for _, line in sorted(out, key=key)]


def format_records(sites: pd.DataFrame, probs: dict[str, np.ndarray], somatic: bool, min_qual: float) -> list[str]:
    """VCF lines (no newline) for candidate rows and the model's class probabilities."""
    if len(sites) == 0:
        return []
    g = probs["genotype"].astype(np.float64)
    # reads assigned by haplotype comparison (tensors/haplotype.py) for indels and the SNVs of their windows, which
    # counts reads the aligner clipped or left unaligned through an indel; other SNVs: the pileup's counts (the
    # tensors' hap_* columns hold whichever applies)
    ref_n, alt_n = sites["hap_ref"].to_numpy(), sites["hap_alt"].to_numpy()
    if not somatic:
        return _germline_records(sites, g, ref_n, alt_n, sites["depth"].to_numpy(), min_qual)
    gt_idx = g.argmax(1)  # the normal's genotype, per allele
    gq = np.rint(phred(1 - g[np.arange(len(g)), gt_idx])).astype(int)
    pl_raw = phred(g)
    pl = np.rint(pl_raw - pl_raw.min(axis=1, keepdims=True)).astype(int)
    dp = np.maximum(sites["depth"].to_numpy(), ref_n + alt_n)
    s = probs["somatic"].astype(np.float64)
    cls = s.argmax(1)
    qual = phred(1 - s[:, 2])
    n_ref, n_alt = sites["normal_hap_ref"].to_numpy(), sites["normal_hap_alt"].to_numpy()
    n_dp = np.maximum(sites["normal_depth"].to_numpy(), n_ref + n_alt)
    for rows in group_loci(sites):  # at most two alleles of a locus called; the others RefCall
        called = rows[cls[rows] != 0]
        if len(called) > 2:
            weakest = called[np.argsort(-(1 - s[called, 0]), kind="stable")][2:]
            cls[weakest] = 0
    lines = []
    for i, r in enumerate(sites.itertuples(index=False)):
        if cls[i] == 2:
            filt, info = ("PASS" if qual[i] >= min_qual else "LowQual"), "SOMATIC;"
            tumour_gt = "0/1"
        elif cls[i] == 1:
            filt, info, tumour_gt = "GERMLINE", "", GT_STRINGS[max(gt_idx[i], 1)]
        else:
            filt, info, tumour_gt = "RefCall", "", "0/0"
        info += f"SS={s[i, 2]:.4f};PGERM={s[i, 1]:.4f}"
        normal = _sample_field(GT_STRINGS[gt_idx[i]], gq[i], n_dp[i], n_ref[i], n_alt[i], pl[i])
        t_gq = int(np.rint(phred(1 - s[i, cls[i]])))
        tumour = f"{tumour_gt}:{t_gq}:{dp[i]}:{ref_n[i]},{alt_n[i]}:{(alt_n[i] / dp[i] if dp[i] else 0):.4g}:."
        lines.append(f"{r.contig}\t{r.pos}\t.\t{r.ref}\t{r.alt}\t{qual[i]:.2f}\t{filt}\t{info}\tGT:GQ:DP:AD:VAF:PL\t"
                     f"{normal}\t{tumour}")
    return lines


def gather_vcfs(paths: list[str], out: str) -> int:
    """Concatenate shard VCFs of one sample (same samples, shards in genome order) into one indexed VCF.

    The header is the first shard's (its command line names that shard). Records must come out sorted
    by the FASTA's contig order and position; anything else is refused.
    """
    from oncorisk.io.text import open_text

    header, records, columns = None, [], None
    order: dict[str, int] = {}
    for path in paths:
        with open_text(path, "a shard VCF written by 'oncorisk call' (run that shard first)") as fh:
            lines = "".join(fh).splitlines()
        if not lines or not lines[-1:] or not any(ln.startswith("#CHROM") for ln in lines):
            raise UserError(f"{path}: no #CHROM header line: not a shard VCF written by 'oncorisk call'")
        head = [ln for ln in lines if ln.startswith("#")]
        if columns is None:
            header, columns = head, head[-1]
            order = {ln.split("ID=")[1].split(",")[0]: i for i, ln in enumerate(head) if ln.startswith("##contig=")}
        elif head[-1] != columns:
            raise UserError(f"{path}: sample columns differ from {paths[0]}: gather shards of one sample only")
        records += [ln for ln in lines if ln and not ln.startswith("#")]
    keys = [(order.get(r.split("\t", 2)[0], -1), int(r.split("\t", 2)[1])) for r in records]
    if any(a > b for a, b in zip(keys, keys[1:])):
        raise UserError(f"{out}: shard VCFs are not in genome order: give them in shard order")
    write_vcf(out, "\n".join(header or []) + "\n", records)
    return len(records)
