"""Simulate a complete, seeded demo cohort (``oncorisk simulate``).

Latent model (documented in docs/simulator.md):
  for patient i, hit_p(i) = 1 when it carries a driver in driver pathway p (PI3K-Akt, MAPK), each with
  probability ``driver_rate``; genomic_score = sum_p hit_p; imaging latent z ~ N(0, 1);
  logit = B0 + B_GENOMIC * genomic_score + B_IMAGING * z; label ~ Bernoulli(sigmoid(logit));
  survival time ~ Exponential(rate = BASE_HAZARD * exp(SURVIVAL_SCALE * (logit - B0))), censored by
  Uniform(CENSOR_MIN, CENSOR_MAX) months; the imaging embedding x = IMAGING_SIGNAL * z * a + sum_k u_k b_k + e
  (a, b_k fixed random unit vectors, u_k ~ N(0, 1) nuisance factors such as stain or scanner, e ~ N(0, I)).
  Slides (``patches`` > 0, the default): each patient's slide is a bag of N ~ U(patches/2, 3*patches/2) patch
  features on a compact tissue blob (256-px grid, CLAM's layout). A tumour focus of s ~ U(SIGNAL_SHARE) of the
  patches (the ones nearest a random patch) carries the signal, x = TUMOUR_MARKER * t + IMAGING_SIGNAL * z * a +
  nuisance + e; every other patch is background tissue of one of TISSUE_TYPES kinds (mixture per slide),
  x = TISSUE_SCALE * c_j + nuisance + e. The slide's nuisance sum_k u_k b_k is shared by all its patches.
  Null mode: no drivers, label ~ Bernoulli(NULL_PREVALENCE) and survival independent of everything.
"""

from __future__ import annotations

import json
import logging
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pysam

from oncorisk import __version__
from oncorisk.config import default_config, patient_ids
from oncorisk.io.atomic import atomic_dir
from oncorisk.io.provenance import sha256
from oncorisk.simulate import layout
from oncorisk.simulate.genome import GeneModel, build_genome, gtf_lines, load_catalogue, panel_intervals, write_fasta
from oncorisk.simulate.profile import ErrorProfile
from oncorisk.simulate.reads import LibraryParams, write_bam
from oncorisk.simulate.variants import (
    GERMLINE_INFO, GT_FORMAT, SOMATIC_FORMAT, SOMATIC_INFO, Occupancy, Variant, genotype_patient, germline_pool,
    germline_records, hotspot_variant, random_indel, random_snv, somatic_records, truncating_variant, vaf_ccf, write_vcf,
)

log = logging.getLogger(__name__)

B0, B_GENOMIC, B_IMAGING = -1.8, 2.2, 1.8
BASE_HAZARD, SURVIVAL_SCALE, CENSOR_MIN, CENSOR_MAX = 1 / 60, 0.7, 6.0, 120.0
IMAGING_SIGNAL, NUISANCE_FACTORS = 3.0, 7
NULL_PREVALENCE = 0.4
SIGNAL_SHARE = (0.02, 0.06)  # share of a slide's patches in its tumour focus
TUMOUR_MARKER, TISSUE_SCALE, TISSUE_TYPES = 3.0, 3.0, 5
PATCH_PX = 256
IN_PANEL_FRACTION = 0.8  # share of passenger mutations drawn inside the sequenced panel
INDEL_FRACTION = 0.12
CLONAL_FRACTION = 0.5
DRIVER_PATHWAYS = ("PI3K-Akt", "MAPK")


@dataclass(frozen=True)
class SimulationConfig:
    """Parameters of one simulated cohort; defaults come from workflow/schemas/config.schema.yaml (simulate.*)."""

    seed: int
    patients: int
    bam_patients: int
    null: bool
    genome_size: int
    contigs: int
    capture: str
    panel_padding: int
    tumor_coverage: float
    normal_coverage: float
    purity: tuple[float, float]
    read_length: int
    insert_mean: float
    insert_sd: float
    duplicate_rate: float
    error_profile: str
    passenger_rate: float
    driver_rate: float
    embedding_dim: int
    max_protein_length: int
    patches: int

    @classmethod
    def from_config(cls, simulate: dict, seed: int) -> "SimulationConfig":
        """Build from the ``simulate`` section of a validated config (``enabled`` is ignored)."""
        fields = {k: v for k, v in {**default_config()["simulate"], **simulate}.items() if k != "enabled"}
        fields["purity"] = tuple(fields["purity"])
        return cls(seed=seed, **fields)


def _gene_at(models: list[GeneModel], contig: str, pos: int) -> str:
    for m in models:
        if m.contig == contig and m.start <= pos < m.end:
            return m.name
    return ""


def _draw_driver(rng, seq, pathway: str, models: list[GeneModel], hotspots: dict) -> Variant:
    """One driver mutation in ``pathway``: a hotspot missense in an oncogene or a truncation in a suppressor."""
    genes = [m for m in models if m.info.driver_pathway == pathway]
    weights = np.array([2.0 if m.info.role == "OG" else 1.0 for m in genes])
    while True:
        gene = genes[int(rng.choice(len(genes), p=weights / weights.sum()))]
        if gene.info.role == "OG":
            options = [h for h in hotspots.get(gene.name, []) if 3 * h.codon < len(gene.cds_positions)]
            if options:
                v = hotspot_variant(seq[gene.contig], gene, options[int(rng.integers(0, len(options)))])
                break
        else:
            v = truncating_variant(rng, seq[gene.contig], gene)
            if v is not None:
                break
    return v


def _random_position(rng, contigs: dict[str, np.ndarray], targets: list[tuple[str, int, int]]) -> tuple[str, int]:
    if rng.random() < IN_PANEL_FRACTION:
        lengths = np.array([b - a for _, a, b in targets], dtype=float)
        c, a, b = targets[int(rng.choice(len(targets), p=lengths / lengths.sum()))]
        return c, int(rng.integers(a, b))
    names = list(contigs)
    lengths = np.array([len(contigs[c]) for c in names], dtype=float)
    c = names[int(rng.choice(len(names), p=lengths / lengths.sum()))]
    return c, int(rng.integers(2, len(contigs[c]) - 30))


def simulate_patient(rng, cfg: SimulationConfig, contigs, models, hotspots, targets, pool, with_germline: bool) -> dict:
    """Draw one patient's purity, germline genotypes, driver and passenger somatic mutations."""
    purity = float(rng.uniform(*cfg.purity))
    occ = Occupancy({c: len(s) for c, s in contigs.items()})
    germline = genotype_patient(rng, pool) if with_germline else []
    for v in germline:
        occ.take(v)
    hits = {p: bool(not cfg.null and rng.random() < cfg.driver_rate) for p in DRIVER_PATHWAYS}
    somatic: list[Variant] = []
    for pathway, hit in hits.items():
        if not hit:
            continue
        for _ in range(20):
            v = _draw_driver(rng, contigs, pathway, models, hotspots)
            if occ.free(v.contig, v.pos, v.end):
                break
        else:
            hits[pathway] = False
            continue
        ccf, vaf = vaf_ccf(rng, purity, clonal=True)
        v = Variant(v.contig, v.pos, v.ref, v.alt, hap=int(rng.integers(0, 2)) + 1, ccf=ccf, vaf=vaf,
                    gene=v.gene, driver=pathway, protein_change=v.protein_change)
        occ.take(v)
        somatic.append(v)
    for _ in range(int(rng.poisson(cfg.passenger_rate))):
        for _attempt in range(20):
            contig, pos = _random_position(rng, contigs, targets)
            seq = contigs[contig]
            v = random_indel(rng, seq, contig, pos) if rng.random() < INDEL_FRACTION else random_snv(rng, seq, contig, pos)
            if v.ref != v.alt and "N" not in v.ref and occ.free(contig, v.pos, v.end):
                break
        else:
            continue
        clonal = rng.random() < CLONAL_FRACTION
        ccf, vaf = vaf_ccf(rng, purity, clonal)
        v = Variant(v.contig, v.pos, v.ref, v.alt, hap=int(rng.integers(0, 2)) + 1, ccf=ccf, vaf=vaf,
                    gene=_gene_at(models, contig, v.pos))
        occ.take(v)
        somatic.append(v)
    order = {c: i for i, c in enumerate(contigs)}
    somatic.sort(key=lambda v: (order[v.contig], v.pos))
    return dict(purity=purity, germline=germline, somatic=somatic, hits=hits)


def latent_outcomes(rng_cohort, cfg: SimulationConfig, hits: list[dict]) -> dict:
    """Labels, survival and imaging embeddings of all patients from the documented latent model."""
    n = len(hits)
    genomic = np.array([sum(h.values()) for h in hits], dtype=float)
    z = rng_cohort.normal(size=n)
    if cfg.null:
        logit = np.full(n, np.log(NULL_PREVALENCE / (1 - NULL_PREVALENCE)))
        hazard_term = np.zeros(n)
    else:
        logit = B0 + B_GENOMIC * genomic + B_IMAGING * z
        hazard_term = SURVIVAL_SCALE * (logit - B0)
    label = (rng_cohort.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    t_event = rng_cohort.exponential(1 / (BASE_HAZARD * np.exp(hazard_term)))
    t_censor = rng_cohort.uniform(CENSOR_MIN, CENSOR_MAX, size=n)
    time = np.minimum(t_event, t_censor)
    event = (t_event <= t_censor).astype(int)
    d = cfg.embedding_dim
    basis = rng_cohort.normal(size=(1 + NUISANCE_FACTORS, d))
    basis /= np.linalg.norm(basis, axis=1, keepdims=True)
    nuisance = rng_cohort.normal(size=(n, NUISANCE_FACTORS))
    emb = (IMAGING_SIGNAL * z[:, None] * basis[0] + nuisance @ basis[1:] + rng_cohort.normal(size=(n, d)))
    return dict(genomic=genomic, z=z, logit=logit, label=label, time=time, event=event,
                embedding=emb.astype(np.float32), basis=basis, nuisance=nuisance)


def slide_bag(rng, cfg: SimulationConfig, z: float, nuisance: np.ndarray, basis: np.ndarray, marker: np.ndarray,
              tissue: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One patient's slide: features float32 (N, D), coords int32 (N, 2) on a compact blob, and the indices of the
    tumour-focus patches that carry the imaging latent (the latent model above)."""
    n = int(rng.integers(cfg.patches // 2, cfg.patches * 3 // 2 + 1))
    side = int(np.ceil(np.sqrt(n) * 1.6))
    gy, gx = np.mgrid[0:side, 0:side]
    cells = np.stack([gx.ravel(), gy.ravel()], axis=1)
    centre = (side - 1) / 2 + rng.normal(scale=0.5, size=2)
    stretch = rng.uniform(0.7, 1.4)
    dist = ((cells[:, 0] - centre[0]) * stretch) ** 2 + ((cells[:, 1] - centre[1]) / stretch) ** 2
    cells = cells[np.sort(np.argsort(dist, kind="stable")[:n])]  # row-major order, as patching walks the slide
    k = max(1, int(round(rng.uniform(*SIGNAL_SHARE) * n)))
    seed_patch = cells[int(rng.integers(n))]
    focus = np.sort(np.argsort(((cells - seed_patch) ** 2).sum(axis=1), kind="stable")[:k])
    mixture = rng.dirichlet(np.ones(len(tissue)))
    kind = rng.choice(len(tissue), size=n, p=mixture)
    x = TISSUE_SCALE * tissue[kind] + nuisance @ basis[1:] + rng.normal(size=(n, basis.shape[1]))
    x[focus] = (TUMOUR_MARKER * marker + IMAGING_SIGNAL * z * basis[0] + nuisance @ basis[1:]
                + rng.normal(size=(k, basis.shape[1])))
    return x.astype(np.float32), (cells * PATCH_PX).astype(np.int32), focus


def tissue_prototypes(rng, basis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The tumour marker t (a unit vector orthogonal to the signal direction a = basis[0], so that marking a patch
    says nothing of z) and the background tissue kinds' centres c_j (unit vectors: stroma, fat, lymphocytes ...)."""
    v = rng.normal(size=(1 + TISSUE_TYPES, basis.shape[1]))
    v[0] -= (v[0] @ basis[0]) * basis[0]
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    return v[0], v[1:]


def write_slide(path: Path, features: np.ndarray, coords: np.ndarray) -> None:
    """A CLAM ``h5_files/<slide>.h5``: ``coords`` then ``features`` (CLAM's order), no timestamps."""
    import h5py

    with h5py.File(path, "w") as fh:
        fh.create_dataset("coords", data=coords, track_times=False)
        fh.create_dataset("features", data=features, track_times=False)
        fh["features"].attrs["encoder"] = "oncorisk-simulated"
        fh["coords"].attrs["patch_size"] = PATCH_PX


def _bam_job(args) -> dict:
    path, seed_key, sample, contigs, targets, variants, somatic_ids, lib, profile_name, seed = args
    rng = np.random.default_rng(seed_key)
    return write_bam(Path(path), rng, sample, contigs, targets, variants, somatic_ids, lib,
                     ErrorProfile.load(profile_name), seed)


def _write_bed(path: Path, intervals) -> None:
    path.write_text("".join(f"{c}\t{a}\t{b}\n" for c, a, b in intervals))


def run_simulation(cfg: SimulationConfig, out: str | os.PathLike, threads: int = 1, force: bool = False) -> dict:
    """Simulate the cohort into ``out`` (written atomically: a failed run leaves nothing behind).

    Returns:
        the manifest (also written as manifest.json).
    """
    ErrorProfile.load(cfg.error_profile)  # fail early on a bad profile name
    out = Path(out)
    with atomic_dir(out, "simulate", force) as tmp:
        manifest = _simulate_into(cfg, tmp, threads)
    return manifest


def _simulate_into(cfg: SimulationConfig, out: Path, threads: int) -> dict:
    rng_genome = np.random.default_rng([cfg.seed, 0])
    contigs, models = build_genome(rng_genome, cfg.genome_size, cfg.contigs, cfg.max_protein_length)
    _, hotspots = load_catalogue()
    lengths = {c: len(s) for c, s in contigs.items()}
    write_fasta(out / layout.REFERENCE, contigs)
    pysam.faidx(str(out / layout.REFERENCE))
    (out / layout.ANNOTATION).write_text(
        f"#!genome-build oncorisk-sim-seed{cfg.seed}\n#!genome-version {__version__}\n" + "\n".join(gtf_lines(models)) + "\n")
    panel = panel_intervals(models, cfg.panel_padding, lengths)
    targets = panel if cfg.capture == "panel" else [(c, 0, n) for c, n in lengths.items()]
    _write_bed(out / layout.PANEL, panel)
    for sub in layout.FOLDERS:
        (out / sub).mkdir()
    _write_bed(out / layout.CONFIDENT, targets)
    _write_hotspot_table(out / layout.HOTSPOTS, contigs, models, hotspots)
    # "known cancer genes" of the demo world: the genes drivers are drawn from (what CGC is for real data)
    (out / layout.LABELS).write_text("gene\tlabel\n" + "".join(
        f"{m.name}\t{int(m.info.driver_pathway is not None)}\n" for m in sorted(models, key=lambda m: m.name)))
    pool = germline_pool(np.random.default_rng([cfg.seed, 1]), contigs)
    ids = patient_ids(cfg.patients)
    patients = []
    for k, pid in enumerate(ids):
        rng = np.random.default_rng([cfg.seed, 2, k])
        patients.append(simulate_patient(rng, cfg, contigs, models, hotspots, targets, pool, k < cfg.bam_patients))
    latent = latent_outcomes(np.random.default_rng([cfg.seed, 3]), cfg, [p["hits"] for p in patients])
    _name_frameshifts(out, contigs, patients)

    jobs = []
    signal_rows: list[str] = []
    marker, tissue = tissue_prototypes(np.random.default_rng([cfg.seed, 8]), latent["basis"])
    if cfg.patches:
        (out / layout.SLIDES).mkdir()
    for k, (pid, p) in enumerate(zip(ids, patients)):
        write_vcf(out / layout.truth_vcf(pid, "somatic"), lengths, ["NORMAL", "TUMOR"], somatic_records(p["somatic"]),
                  SOMATIC_INFO, SOMATIC_FORMAT, cfg.seed)
        if cfg.patches:
            bag, coords, focus = slide_bag(np.random.default_rng([cfg.seed, 7, k]), cfg, float(latent["z"][k]),
                                           latent["nuisance"][k], latent["basis"], marker, tissue)
            write_slide(out / layout.embedding(pid, bags=True), bag, coords)
            signal_rows.extend(f"{pid}\t{i}\n" for i in focus)
        else:
            np.save(out / layout.embedding(pid), latent["embedding"][k])
        if k < cfg.bam_patients:
            write_vcf(out / layout.truth_vcf(pid, "germline"), lengths, [pid], germline_records(p["germline"]),
                      GERMLINE_INFO, GT_FORMAT, cfg.seed)
            variants = p["germline"] + p["somatic"]
            somatic_ids = set(range(len(p["germline"]), len(variants)))
            for kind, cov, purity, stream in (("tumor", cfg.tumor_coverage, p["purity"], 4),
                                              ("normal", cfg.normal_coverage, 0.0, 5)):
                lib = LibraryParams(cfg.read_length, cfg.insert_mean, cfg.insert_sd, cfg.duplicate_rate, cov, purity)
                jobs.append((str(out / layout.bam(pid, kind)), [cfg.seed, stream, k], f"{pid}-{kind}",
                             contigs, targets, variants, somatic_ids, lib, cfg.error_profile, cfg.seed))
        else:
            _write_called_vcf(out / layout.called_vcf(pid), np.random.default_rng([cfg.seed, 6, k]),
                              p["somatic"], cfg, lengths)
    if threads > 1 and len(jobs) > 1:
        with ProcessPoolExecutor(max_workers=threads) as pool_exec:
            bam_stats = list(pool_exec.map(_bam_job, jobs))
    else:
        bam_stats = [_bam_job(j) for j in jobs]

    if cfg.patches:
        (out / layout.SIGNAL_PATCHES).write_text("sample\tpatch\n" + "".join(signal_rows))
    _write_sample_sheet(out / layout.SHEET, ids, cfg, latent)
    _write_truth_table(out / layout.PATIENTS, ids, patients, latent)
    (out / layout.LATENT_MODEL).write_text(json.dumps(dict(
        description=__doc__.split("Latent model (documented in docs/simulator.md):")[1].strip(),
        B0=B0, B_GENOMIC=B_GENOMIC, B_IMAGING=B_IMAGING, BASE_HAZARD=BASE_HAZARD, SURVIVAL_SCALE=SURVIVAL_SCALE,
        CENSOR_MIN=CENSOR_MIN, CENSOR_MAX=CENSOR_MAX, IMAGING_SIGNAL=IMAGING_SIGNAL, NUISANCE_FACTORS=NUISANCE_FACTORS,
        NULL_PREVALENCE=NULL_PREVALENCE, SIGNAL_SHARE=list(SIGNAL_SHARE), TUMOUR_MARKER=TUMOUR_MARKER,
        TISSUE_SCALE=TISSUE_SCALE, TISSUE_TYPES=TISSUE_TYPES, signal_patches=layout.SIGNAL_PATCHES if cfg.patches
        else None, driver_pathways=list(DRIVER_PATHWAYS), null=cfg.null), indent=2) + "\n")
    files = sorted(p for p in out.rglob("*") if p.is_file())
    manifest = dict(
        oncorisk_version=__version__, config=asdict(cfg),
        reads={Path(j[0]).name: s for j, s in zip(jobs, bam_stats)},
        genes=len(models), panel_bp=sum(b - a for _, a, b in panel),
        files={str(p.relative_to(out)): sha256(p) for p in files},
    )
    (out / layout.MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return manifest


def _name_frameshifts(out: Path, contigs, patients: list[dict]) -> None:
    """Give frameshift drivers their HGVS protein change after left-alignment (the impact stage's annotator)."""
    from dataclasses import replace

    from oncorisk.impact.annotation import load_annotation
    from oncorisk.genome.alleles import trim_alleles
    from oncorisk.impact.consequence import Annotator

    annotator = Annotator(load_annotation(out / layout.ANNOTATION))
    seqs = {c: s.tobytes().decode() for c, s in contigs.items()}
    for p in patients:
        for i, v in enumerate(p["somatic"]):
            if v.driver and v.kind != "SNV":
                start, ref, alt = trim_alleles(v.pos, v.ref, v.alt)
                effects = annotator.annotate(v.contig, seqs[v.contig], np.array([start]), [ref], [alt]).effects()
                best = min((e for e in effects if annotator.ann.gene_name[e.tx] == v.gene), key=lambda e: e.rank)
                p["somatic"][i] = replace(v, protein_change=best.hgvsp_short)


def _write_called_vcf(path: Path, rng, somatic: list[Variant], cfg: SimulationConfig, lengths) -> None:
    """Somatic calls 'made elsewhere': read counts sampled at the configured depths; calls with < 3 alt reads are missed."""
    kept, counts = [], []
    for v in somatic:
        t_dp = int(rng.poisson(cfg.tumor_coverage))
        t_alt = int(rng.binomial(t_dp, v.vaf))
        n_dp = int(rng.poisson(cfg.normal_coverage))
        if t_alt >= 3:
            kept.append(v)
            counts.append((n_dp, 0, t_dp, t_alt))
    write_vcf(path, lengths, ["NORMAL", "TUMOR"], somatic_records(kept, counts), SOMATIC_INFO, SOMATIC_FORMAT, cfg.seed)


def _write_hotspot_table(path: Path, contigs, models: list[GeneModel], hotspots: dict) -> None:
    """The simulated genome's hotspots in the cancerhotspots.org v2 layout (no header), for the impact stage."""
    lines = []
    by_name = {m.name: m for m in models}
    for gene, hs_list in hotspots.items():
        m = by_name[gene]
        for hs in hs_list:
            if 3 * hs.codon >= len(m.cds_positions):
                continue
            v = hotspot_variant(contigs[m.contig], m, hs)
            lines.append((m.contig, v.pos + 1, v.ref, v.alt, gene, "Missense_Mutation", hs.protein_change.removeprefix("p."),
                          "simulated hotspot"))
    lines.sort(key=lambda t: (t[0], t[1]))
    path.write_text("".join("\t".join(map(str, t)) + "\n" for t in lines))


def _write_sample_sheet(path: Path, ids: list[str], cfg: SimulationConfig, latent: dict) -> None:
    rows = ["sample\ttumor_bam\tnormal_bam\tvcf\timage_embedding\tlabel\ttime\tevent"]
    for k, pid in enumerate(ids):
        bam = k < cfg.bam_patients
        rows.append("\t".join([
            pid,
            layout.bam(pid, "tumor") if bam else "",
            layout.bam(pid, "normal") if bam else "",
            "" if bam else layout.called_vcf(pid),
            layout.embedding(pid, bags=bool(cfg.patches)),
            str(int(latent["label"][k])),
            f"{latent['time'][k]:.3f}",
            str(int(latent["event"][k])),
        ]))
    path.write_text("\n".join(rows) + "\n")


def _write_truth_table(path: Path, ids, patients, latent) -> None:
    cols = ["sample", "purity", "hit_PI3K-Akt", "hit_MAPK", "driver_genes", "driver_changes", "n_somatic",
            "genomic_score", "imaging_latent", "logit", "label", "time", "event"]
    rows = ["\t".join(cols)]
    for k, (pid, p) in enumerate(zip(ids, patients)):
        drivers = [v for v in p["somatic"] if v.driver]
        rows.append("\t".join(map(str, [
            pid, f"{p['purity']:.3f}", int(p["hits"]["PI3K-Akt"]), int(p["hits"]["MAPK"]),
            ",".join(v.gene for v in drivers) or "-", ",".join(v.protein_change for v in drivers) or "-",
            len(p["somatic"]), int(latent["genomic"][k]), f"{latent['z'][k]:.4f}", f"{latent['logit'][k]:.4f}",
            int(latent["label"][k]), f"{latent['time'][k]:.3f}", int(latent["event"][k]),
        ])))
    path.write_text("\n".join(rows) + "\n")
