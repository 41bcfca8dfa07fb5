"""The ``oncorisk`` command line: one subcommand per stage, plus the simulator and helpers.

The CLI parses and validates, then hands off to a ``run_*`` function of the package. User errors end
with one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import yaml

from oncorisk import __version__
from oncorisk.errors import UserError

log = logging.getLogger("oncorisk")

PLANNED_STAGES = {
    "tensors": ("BAM/CRAM pileups to tensors", 3),
    "call": ("deep-learning SNV/indel caller writing VCFs", 4),
    "train-caller": ("train the caller", 4),
    "impact": ("weighted mutation impact per gene and sample, TMB", 5),
    "pathways": ("pathway GNN and pathway ranking", 6),
    "fusion": ("genomic + imaging risk fusion, metrics, SHAP", 7),
}


def _parse_set(items: list[str]) -> dict:
    out = {}
    for item in items:
        if "=" not in item:
            raise UserError(f"--set: bad value {item!r}: write KEY=VALUE, e.g. --set tumor_coverage=60")
        key, value = item.split("=", 1)
        out[key.strip()] = yaml.safe_load(value)
    return out


def cmd_simulate(args: argparse.Namespace) -> int:
    from oncorisk.config import load_config, validate_config
    from oncorisk.simulate.cohort import SimulationConfig, run_simulation

    sim: dict = {}
    seed = None
    if args.config:
        cfg = load_config(args.config)
        sim = {k: v for k, v in cfg["simulate"].items() if k != "enabled"}
        seed = cfg["seed"]
    sim.update(_parse_set(args.set or []))
    for key in ("patients", "bam_patients", "genome_size", "capture"):
        if getattr(args, key) is not None:
            sim[key] = getattr(args, key)
    if args.null:
        sim["null"] = True
    if args.seed is not None:
        seed = args.seed
    resolved = validate_config({"seed": 1 if seed is None else seed, "simulate": sim}, args.config or "command line")
    cfg = SimulationConfig.from_config(resolved["simulate"], resolved["seed"])
    log.info("simulating %d patients (%d with BAMs) into %s", cfg.patients, cfg.bam_patients, args.out)
    manifest = run_simulation(cfg, args.out, threads=args.threads)
    log.info("wrote %d files to %s", len(manifest["files"]), args.out)
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from oncorisk.config import ensure_fasta_index, load_config, load_samples

    mode = args.mode
    if args.config:
        cfg = load_config(args.config)
        mode = mode or cfg["mode"]
        if cfg.get("reference"):
            ensure_fasta_index(cfg["reference"])
        print(f"{args.config}: OK (cohort {cfg['cohort']}, mode {cfg['mode']}, simulate {cfg['simulate']['enabled']})")
    if args.samples:
        samples = load_samples(args.samples, mode or "somatic")
        n_bam = sum(s.has_bam for s in samples)
        print(f"{args.samples}: OK ({len(samples)} samples: {n_bam} with BAMs, {len(samples) - n_bam} with VCFs only)")
        if args.out:
            from oncorisk.config import SAMPLE_COLUMNS
            from oncorisk.io.atomic import atomic_path

            with atomic_path(args.out) as tmp:
                with open(tmp, "w") as fh:
                    fh.write("\t".join(SAMPLE_COLUMNS) + "\n")
                    for s in samples:
                        fh.write("\t".join("" if getattr(s, c) is None else str(getattr(s, c)) for c in SAMPLE_COLUMNS) + "\n")
    if not (args.config or args.samples):
        raise UserError("validate: nothing to check: give --config and/or --samples")
    return 0


def cmd_fit_profile(args: argparse.Namespace) -> int:
    from oncorisk.simulate.profile import fit_error_profile

    for path in (args.bam, args.ref):
        if not Path(path).is_file():
            raise UserError(f"{path}: file not found: give an existing indexed BAM and its reference FASTA")
    p = fit_error_profile(args.bam, args.ref, args.region, args.out, args.name, args.truth_vcf)
    print(f"{args.out}: mismatch rate {p['observed']['mismatch_rate']:.5f}, "
          f"indel-error rate {p['observed']['indel_error_rate']:.2e}, duplicates {p['duplicate_rate']:.4f}")
    return 0


def _planned(name: str):
    def run(args: argparse.Namespace) -> int:
        what, issue = PLANNED_STAGES[name]
        raise UserError(f"oncorisk {name}: stage not available in oncorisk {__version__} yet ({what}; tracked in issue #{issue})")

    return run


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="oncorisk",
        description="From aligned reads to a traceable per-patient cancer-risk score. "
        "Stages: tensors -> call -> impact -> pathways -> fusion.",
    )
    parser.add_argument("--version", action="version", version=f"oncorisk {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument("-q", "--quiet", action="store_true", help="warnings and errors only")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("simulate", help="write a seeded demo cohort (reference, GTF, BAMs, VCFs, truth, labels, embeddings)")
    p.add_argument("--out", required=True, help="output folder (replaced atomically)")
    p.add_argument("--seed", type=int, help="random seed (default: config seed, else 1)")
    p.add_argument("--null", action="store_true", help="null mode: labels independent of everything, no drivers")
    p.add_argument("--patients", type=int, help="patients in the cohort (default 200)")
    p.add_argument("--bam-patients", type=int, help="patients with tumour/normal BAMs; the rest get VCFs (default 8)")
    p.add_argument("--genome-size", type=int, help="reference length in bp (default 1,000,000)")
    p.add_argument("--capture", choices=["panel", "wgs"], help="sequence the gene panel or the whole genome")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="any other simulate.* key of config.yaml")
    p.add_argument("--config", help="take simulate.* and seed from this config file first")
    p.add_argument("--threads", type=int, default=1, help="patients simulated in parallel")
    p.set_defaults(func=cmd_simulate)

    p = sub.add_parser("validate", help="check a config file and/or a sample sheet")
    p.add_argument("--config", help="config.yaml to check")
    p.add_argument("--samples", help="sample sheet (TSV) to check")
    p.add_argument("--mode", choices=["somatic", "germline"], help="calling mode (default: the config's, else somatic)")
    p.add_argument("--out", help="write the validated sheet with resolved paths here")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("fit-error-profile", help="fit a sequencing-error profile for the simulator from a real BAM")
    p.add_argument("--bam", required=True)
    p.add_argument("--ref", required=True)
    p.add_argument("--region", required=True, help="CONTIG:START-END (1-based)")
    p.add_argument("--truth-vcf", help="known variants to exclude from the error counts")
    p.add_argument("--name", required=True, help="profile name")
    p.add_argument("--out", required=True, help="output JSON")
    p.set_defaults(func=cmd_fit_profile)

    for name, (what, issue) in PLANNED_STAGES.items():
        p = sub.add_parser(name, help=f"{what} (not yet available: issue #{issue})")
        p.set_defaults(func=_planned(name))
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in PLANNED_STAGES and not {"-h", "--help"} & set(argv):
        argv = argv[:1]  # a stage that is not available yet: say so, whatever its options
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING if args.quiet else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return args.func(args)
    except UserError as exc:
        print(f"oncorisk: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("oncorisk: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
