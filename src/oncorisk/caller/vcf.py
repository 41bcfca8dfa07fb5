"""VCF 4.2 writing for the caller: one function builds the header, one formats the records.

Germline: one sample column. Somatic: the normal's then the tumour's column (Mutect2 order, with
``##normal_sample`` and ``##tumor_sample`` naming them), a SOMATIC flag and the somatic score SS = P(somatic).

QUAL is phred-scaled: -10 log10 P(no variant) (germline), -10 log10 (1 - P(somatic)) (somatic), capped
at 99. FILTER:

- PASS: called, QUAL >= the minimum (default 10);
- LowQual: called, QUAL below the minimum;
- RefCall: the model says the candidate is not a variant (GT 0/0);
- GERMLINE (somatic mode): the model says the allele is germline, present in the normal.

AD and VAF of indels count reads by haplotype comparison (tensors/haplotype.py), so reads the aligner
clipped inside a repeat still count; DP is at least AD's sum.

Every candidate gets a record (RefCall too, as DeepVariant), so a site can be traced from the VCF back
to its tensor row. Candidates at one position with several alleles are written one record per allele.
"""

from __future__ import annotations

import os
import re

import numpy as np
import pandas as pd

from oncorisk import __version__
from oncorisk.errors import UserError
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


def vcf_header(contigs: list[tuple[str, int]], samples: list[str], somatic: bool, reference: str, model: str,
               command: str, min_qual: float, extra: list[str] | None = None) -> str:
    command = command.encode("unicode_escape").decode("ascii")  # one header line, whatever the arguments hold
    lines = ["##fileformat=VCFv4.2", f"##source=oncorisk-{__version__}", f"##oncoriskCommand={command}",
             f"##oncoriskModel={model}", f"##reference=file://{os.path.abspath(reference)}"]
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
        '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Reads supporting the reference and the alternate allele">',
        '##FORMAT=<ID=VAF,Number=A,Type=Float,Description="Alternate allele fraction, AD[alt] / DP">',
        '##FORMAT=<ID=PL,Number=G,Type=Integer,Description="Phred-scaled genotype likelihoods, normalised to 0">',
    ]
    cols = ["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT"] + list(samples)
    return "\n".join(lines + ["\t".join(cols)]) + "\n"


def _sample_field(gt: str, gq: int, dp: int, ref_n: int, alt_n: int, pl: np.ndarray) -> str:
    vaf = alt_n / dp if dp else 0.0
    return f"{gt}:{gq}:{dp}:{ref_n},{alt_n}:{vaf:.4g}:{','.join(str(int(v)) for v in pl)}"


GT_STRINGS = ("0/0", "0/1", "1/1")


def format_records(sites: pd.DataFrame, probs: dict[str, np.ndarray], somatic: bool, min_qual: float) -> list[str]:
    """VCF lines (no newline) for candidate rows and the model's class probabilities."""
    if len(sites) == 0:
        return []
    g = probs["genotype"].astype(np.float64)
    gt_idx = g.argmax(1)
    gq = np.rint(phred(1 - g[np.arange(len(g)), gt_idx])).astype(int)
    pl_raw = phred(g)
    pl = np.rint(pl_raw - pl_raw.min(axis=1, keepdims=True)).astype(int)
    indel = (sites["kind"] != "SNV").to_numpy()
    # indels: reads assigned by haplotype comparison (tensors/haplotype.py), which counts reads the aligner
    # clipped or left unaligned through the indel; SNVs: the pileup's counts
    ref_n = np.where(indel, sites["hap_ref"], sites["ref_fwd"] + sites["ref_rev"])
    alt_n = np.where(indel, sites["hap_alt"], sites["alt_fwd"] + sites["alt_rev"])
    dp = np.maximum(sites["depth"].to_numpy(), ref_n + alt_n)
    lines = []
    if not somatic:
        qual = phred(g[:, 0])
        for i, r in enumerate(sites.itertuples(index=False)):
            filt = "RefCall" if gt_idx[i] == 0 else ("PASS" if qual[i] >= min_qual else "LowQual")
            sample = _sample_field(GT_STRINGS[gt_idx[i]], gq[i], dp[i], ref_n[i], alt_n[i], pl[i])
            lines.append(f"{r.contig}\t{r.pos}\t.\t{r.ref}\t{r.alt}\t{qual[i]:.2f}\t{filt}\t.\tGT:GQ:DP:AD:VAF:PL\t{sample}")
        return lines
    s = probs["somatic"].astype(np.float64)
    cls = s.argmax(1)
    qual = phred(1 - s[:, 2])
    n_ref = np.where(indel, sites["normal_hap_ref"], sites["normal_ref_fwd"] + sites["normal_ref_rev"])
    n_alt = np.where(indel, sites["normal_hap_alt"], sites["normal_alt_fwd"] + sites["normal_alt_rev"])
    n_dp = np.maximum(sites["normal_depth"].to_numpy(), n_ref + n_alt)
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
