"""The ``oncorisk`` command line: it dispatches. Each stage's flags, and the options object they build, live in
the stage's own ``cli`` module (``impact.cli``, ``pathways.cli``, ``fusion.cli``, ``tensors.cli``,
``caller.cli``: ``register`` adds the subcommands, ``options_from`` builds the options). Here: the helpers
(simulate, validate, merge-calls, fit-error-profile, run-info, report-summary) and the rules every command
shares: the output rule before any work (no output is an input, a folder output is new, empty, ours or
``--force``), and user errors as one line on stderr with exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import errno
import logging
import os
import signal
import sys
from pathlib import Path

import yaml

from oncorisk import __version__
from oncorisk.errors import UserError
from oncorisk.options import add_force_option, stage_properties

log = logging.getLogger("oncorisk")



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
    manifest = run_simulation(cfg, args.out, threads=args.threads, force=args.force)
    log.info("wrote %d files to %s", len(manifest["files"]), args.out)
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from oncorisk.config import column_map, ensure_fasta_index, load_config, load_samples, write_samples
    from oncorisk.io.text import check_file

    mode = args.mode
    if args.config:
        cfg = load_config(args.config)
        mode = mode or cfg["mode"]
        if cfg.get("reference"):
            ensure_fasta_index(cfg["reference"])
        print(f"{args.config}: OK (cohort {cfg['cohort']}, mode {cfg['mode']}, simulate {cfg['simulate']['enabled']})")
    if args.samples:
        columns = column_map(args.column or [])
        if args.cohort_calls:
            check_file(args.cohort_calls, "a cohort MAF or multi-sample VCF/BCF", "--cohort-calls")
        samples = load_samples(args.samples, mode or "somatic", columns=columns, calls=args.cohort_calls)
        n_bam = sum(s.has_bam for s in samples)
        print(f"{args.samples}: OK ({len(samples)} samples: {n_bam} with BAMs, {len(samples) - n_bam} with VCFs only)")
        if args.out:
            write_samples(samples, args.out)
    if not (args.config or args.samples):
        raise UserError("validate: nothing to check: give --config and/or --samples")
    return 0


def cmd_merge_calls(args: argparse.Namespace) -> int:
    from oncorisk.config import load_samples, with_calls, write_samples

    samples = with_calls(load_samples(args.samples, args.mode), args.calls, args.samples)
    write_samples(samples, args.out)
    print(f"{args.out}: {len(args.calls)} of {len(samples)} samples carry the caller's VCF")
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


def cmd_run_info(args: argparse.Namespace) -> int:
    import json

    from oncorisk.runinfo import write_run_info

    try:
        config = json.loads(args.config_json)
    except json.JSONDecodeError as exc:
        raise UserError(f"--config-json: not valid JSON ({exc})") from None
    inputs = dict(item.split("=", 1) for item in args.inputs or [] if "=" in item)
    write_run_info(args.out, config, inputs, args.samples, args.model)
    return 0


def cmd_report_summary(args: argparse.Namespace) -> int:
    from oncorisk.summary import write_report_summary

    if not Path(args.results).is_dir():
        raise UserError(f"--results {args.results}: not a folder: give a run's results/<cohort> folder")
    texts = write_report_summary(args.results, args.out, args.force)
    log.info("report-summary: %d lines of headline -> %s", texts["summary.rst"].count("\n") + 1, args.out)
    return 0


def _terminate(signum, frame):
    raise KeyboardInterrupt


class _Parser(argparse.ArgumentParser):
    """argparse with one-line usage errors (the error catalogue's rule), pointing to --help."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}: see '{self.prog} --help'\n")


# subcommands that write an output folder (the output rule of io.atomic), and the folder each writes
FOLDER_OUTPUTS = {"simulate", "impact", "pathways", "fusion", "tensors", "train-caller", "report-summary"}
OUTPUT_ARGS = ("out", "truth_out", "normal_out")  # every option naming something we write


def output_folder(args: argparse.Namespace) -> str:
    if args.command == "train-caller":
        return os.path.join(args.out, f"{args.name}-v{args.version}")
    return args.out


def input_paths(args: argparse.Namespace) -> list[str]:
    """Every path-like value the user gave (``SAMPLE=PATH`` items included) and the files a --samples sheet names."""
    out: list[str] = []
    for key, value in vars(args).items():
        if key in OUTPUT_ARGS or key in ("func", "command"):
            continue
        for v in value if isinstance(value, list) else [value]:
            if isinstance(v, str) and v:
                if len(v) < 4096 and "\n" not in v and not v.lstrip().startswith(("{", "[")):
                    out.append(v.split("=", 1)[1] if "=" in v and not os.path.exists(v) else v)
    sheet = getattr(args, "samples", None)
    if isinstance(sheet, str) and os.path.isfile(sheet):
        from oncorisk.config import PATH_COLUMNS, load_samples

        try:
            for s in load_samples(sheet, mode="germline", check_files=False):
                out += [getattr(s, c) for c in PATH_COLUMNS if getattr(s, c)]
        except UserError:
            pass  # the stage reports the sheet's own error
    return out


def check_outputs(args: argparse.Namespace) -> None:
    """The output rule, before any work: no output is an input or holds one; a folder output is new, empty, a
    previous output of the same command, or --force was given."""
    from oncorisk.io.atomic import check_inputs_outside, check_output_folder

    inputs = input_paths(args)
    for key in OUTPUT_ARGS:
        out = getattr(args, key, None)
        if not isinstance(out, str) or not out:
            continue
        folder = key == "out" and args.command in FOLDER_OUTPUTS
        target = output_folder(args) if folder else out
        check_inputs_outside(target, inputs, is_folder=folder)
        if folder:
            check_output_folder(target, args.command, getattr(args, "force", False))
        elif os.path.isdir(out):
            raise UserError(f"--{key.replace('_', '-')}: {out}: is a folder, where a file is written: give a file "
                            f"path (the folder is left as it is)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
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
    sim = {k: v.get("default") for k, v in stage_properties("simulate").items()}  # the schema's, shown in the help
    p.add_argument("--patients", type=int, help=f"patients in the cohort (default {sim['patients']})")
    p.add_argument("--bam-patients", type=int,
                   help=f"patients with tumour/normal BAMs; the rest get VCFs (default {sim['bam_patients']})")
    p.add_argument("--genome-size", type=int, help=f"reference length in bp (default {sim['genome_size']:,})")
    p.add_argument("--capture", choices=["panel", "wgs"], help="sequence the gene panel or the whole genome")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="any other simulate.* key of config.yaml")
    p.add_argument("--config", help="take simulate.* and seed from this config file first")
    p.add_argument("--threads", type=int, default=1, help="patients simulated in parallel")
    add_force_option(p)
    p.set_defaults(func=cmd_simulate)

    p = sub.add_parser("validate", help="check a config file and/or a sample sheet")
    p.add_argument("--config", help="config.yaml to check")
    p.add_argument("--samples", help="sample sheet (TSV) to check")
    p.add_argument("--mode", choices=["somatic", "germline"], help="calling mode (default: the config's, else somatic)")
    p.add_argument("--out", help="write the validated sheet with resolved paths here")
    p.add_argument("--column", action="append", metavar="OURS=THEIRS",
                   help="the sheet's own name of one of oncorisk's columns (config sample_columns), e.g. "
                   "time=days_to_last_followup; with any, the sheet's other columns are ignored")
    p.add_argument("--cohort-calls", metavar="MAF_OR_VCF",
                   help="a cohort MAF or multi-sample VCF/BCF for every row without its own tumor_bam or vcf "
                   "(config calls)")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("merge-calls", help="a validated sample sheet with the caller's VCFs in the vcf column")
    p.add_argument("--samples", required=True, help="sample sheet (TSV), e.g. the validated one")
    p.add_argument("--mode", choices=["somatic", "germline"], default="somatic", help="calling mode of the sheet")
    p.add_argument("--calls", nargs="+", required=True, metavar="SAMPLE=VCF", help="the caller's VCF per BAM sample")
    p.add_argument("--out", required=True, help="the sheet to write (paths relative to it)")
    p.set_defaults(func=cmd_merge_calls)

    p = sub.add_parser("fit-error-profile", help="fit a sequencing-error profile for the simulator from a real BAM")
    p.add_argument("--bam", required=True)
    p.add_argument("--ref", required=True)
    p.add_argument("--region", required=True, help="CONTIG:START-END (1-based)")
    p.add_argument("--truth-vcf", help="known variants to exclude from the error counts")
    p.add_argument("--name", required=True, help="profile name")
    p.add_argument("--out", required=True, help="output JSON")
    p.set_defaults(func=cmd_fit_profile)

    from oncorisk.caller import cli as caller_cli
    from oncorisk.fusion import cli as fusion_cli
    from oncorisk.impact import cli as impact_cli
    from oncorisk.pathways import cli as pathways_cli
    from oncorisk.tensors import cli as tensors_cli

    for stage in (impact_cli, pathways_cli, fusion_cli, tensors_cli, caller_cli):
        stage.register(sub)

    p = sub.add_parser("run-info", help="write run_info.json: config, versions, seed, model and input checksums")
    p.add_argument("--config-json", required=True, help="the resolved config, as JSON")
    p.add_argument("--inputs", nargs="*", metavar="LABEL=PATH", help="input files to checksum")
    p.add_argument("--samples", help="sample sheet: its files are checksummed too")
    p.add_argument("--model", help="caller model used (name or folder)")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_run_info)

    p = sub.add_parser("report-summary", help="headline numbers of a run as rst, for snakemake --report's front page")
    p.add_argument("--results", required=True, help="the run's results/<cohort> folder")
    p.add_argument("--out", required=True, help="output folder: summary.rst and caption snippets")
    add_force_option(p)
    p.set_defaults(func=cmd_report_summary)

    return parser


_DISK_FULL = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}
# operating-system errors that name a user's path: one line with the fix, exit 2 (the error catalogue's rule)
_USER_OS_ERRORS = {
    errno.ENOENT: "check the path (relative paths are read from the current folder, or the sheet's folder)",
    errno.EACCES: "check the permissions, or choose a location you can read and write",
    errno.EPERM: "check the permissions, or choose a location you can read and write",
    errno.EROFS: "the location is read-only: choose a writable one",
    errno.EISDIR: "a folder was given where a file is needed: give the file",
    errno.ENOTDIR: "a file was given where a folder is needed: give the folder",
}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING if args.quiet else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # SIGTERM (a scheduler or snakemake stopping the job) unwinds like Ctrl-C, so temporary outputs are removed
    signal.signal(signal.SIGTERM, _terminate)
    try:
        check_outputs(args)
        return args.func(args)
    except UserError as exc:
        print(f"oncorisk: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("oncorisk: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:
        if exc.errno in _USER_OS_ERRORS and exc.filename:
            print(f"oncorisk: error: {exc.filename}: {exc.strerror}: {_USER_OS_ERRORS[exc.errno]}", file=sys.stderr)
            return 2
        if exc.errno not in _DISK_FULL:
            raise
        where = exc.filename or getattr(args, "out", None) or "an output file"
        print(f"oncorisk: error: {where}: {exc.strerror or 'write failed'} while writing: free disk space (or "
              f"write to a larger disk) and rerun; no partial output was kept", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
