"""Configuration and sample-sheet loading, validated against the JSON schemas in workflow/schemas/.

Every user mistake becomes a one-line ``UserError`` naming the file, the key (or row and column),
the value and what is accepted.
"""

from __future__ import annotations

import copy
import csv
import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from oncorisk.errors import UserError, input_error
from oncorisk.schema import load_schema, schema_dir  # noqa: F401 - re-exported

log = logging.getLogger(__name__)

SAMPLE_COLUMNS = ("sample", "tumor_bam", "normal_bam", "vcf", "image_embedding", "label", "time", "event")
PATH_COLUMNS = ("tumor_bam", "normal_bam", "vcf", "image_embedding")
SLIDE_SEPARATOR = ";"  # image_embedding of a patient with several slides: their files, in one cell


def _defaults(schema: dict) -> dict:
    out = {}
    for key, sub in schema.get("properties", {}).items():
        if sub.get("type") == "object":
            out[key] = _defaults(sub)
        elif "default" in sub:
            out[key] = copy.deepcopy(sub["default"])
    return out


def default_config() -> dict:
    """The complete default configuration, taken from the schema's defaults."""
    return _defaults(load_schema("config"))


def _merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _schema_at(schema: dict, path: list) -> dict:
    for part in path:
        schema = schema.get("properties", {}).get(part, {}) if isinstance(part, str) else schema.get("items", {})
    return schema


def Validator(schema: dict):  # noqa: N802 - reads as the class it returns an instance of
    """A Draft 2020-12 validator in which 2.0 is not an integer: JSON Schema counts 2.0 as one, but a count written
    2.0 in YAML is a float to Python and breaks range() later. jsonschema is imported here, not at module level,
    so stages that only read the schema's defaults (oncorisk.options) do not need it."""
    import jsonschema

    cls = jsonschema.validators.extend(
        jsonschema.Draft202012Validator,
        type_checker=jsonschema.Draft202012Validator.TYPE_CHECKER.redefine(
            "integer", lambda _checker, value: isinstance(value, int) and not isinstance(value, bool)),
    )
    return cls(schema)


def format_schema_error(err, schema: dict, file: str, where: str) -> UserError:
    """Turn a jsonschema error into one line: file, key/column, value, what is accepted."""
    path = [p for p in err.absolute_path]
    field = where + ".".join(str(p) for p in path) if path else where.rstrip(".") or "top level"
    sub = _schema_at(schema, [p for p in path if isinstance(p, str)])
    if err.validator == "additionalProperties":
        allowed = sorted(err.schema.get("properties", {}))
        extra = sorted(set(err.instance) - set(allowed))
        scope = f" in '{'.'.join(map(str, path))}'" if path else ""
        return UserError(
            f"{file}: unknown key{'s' if len(extra) > 1 else ''} {', '.join(map(repr, extra))}{scope}: "
            f"accepted keys are {', '.join(allowed)}"
        )
    if err.validator == "enum":
        accepted = "accepted: " + ", ".join(str(v) for v in err.validator_value if v is not None)
    elif err.validator == "required":
        return UserError(f"{file}: {field}: missing {err.message.split(' is a required')[0]}: it is required")
    else:
        accepted = err.message.replace(repr(err.instance), "value")
        if sub.get("description"):
            accepted += f"; expected: {sub['description']}"
    return input_error(file, field, err.instance, accepted)


def source_of(key: list[str], sources: list[str] | None, default: str) -> str:
    """The config file that set ``key`` (a path of nested keys): the last of ``sources`` holding it, as
    Snakemake applies --configfile files in order; ``default`` when none does (e.g. --config on the command line)."""
    for f in reversed(sources or []):
        try:
            node = yaml.safe_load(Path(f).read_text())
        except (OSError, yaml.YAMLError):
            continue
        for k in key:
            if not isinstance(node, dict) or k not in node:
                break
            node = node[k]
        else:
            return str(f)
    return default


# config keys renamed, old (section, key) -> new key: read with a warning until oncorisk 0.3 (a shard is a job's share
# of a sample's regions, a partition the span read at once inside it, as DeepVariant names them)
RENAMED_KEYS = {("tensors", "chunks"): "shards", ("tensors", "chunk_size"): "partition_size"}


def upgrade_keys(config: dict, file: str = "config.yaml", sources: list[str] | None = None) -> dict:
    """``config`` with renamed keys under their new names (a warning names each; both spellings is an error)."""
    config = copy.deepcopy(config)
    for (section, old), new in RENAMED_KEYS.items():
        part = config.get(section)
        if not isinstance(part, dict) or old not in part:
            continue
        where = source_of([section, old], sources, file)
        if new in part:
            raise input_error(where, f"{section}.{old}", part[old],
                              f"renamed {section}.{new}, which is set too: keep only {section}.{new}")
        log.warning("%s: %s.%s is deprecated: rename it %s.%s (the old name goes in oncorisk 0.3)",
                    where, section, old, section, new)
        part[new] = part.pop(old)
    return config


def validate_config(config: dict, file: str = "config.yaml", sources: list[str] | None = None) -> dict:
    """Validate a configuration dict, fill in defaults, and check options that contradict each other.

    ``sources``: the config files merged into ``config`` (Snakemake's configfile and --configfile), so an error
    names the file that set the bad value.

    Returns:
        the resolved configuration (defaults filled in).
    Raises:
        UserError: on the first unknown key, bad value or contradiction.
    """
    schema = load_schema("config")
    if not isinstance(config, dict):
        raise input_error(file, "top level", config, "a YAML mapping of keys to values")
    config = upgrade_keys(config, file, sources)
    errors = sorted(Validator(schema).iter_errors(config), key=lambda e: list(e.path))
    if errors:
        key = [str(k) for k in errors[0].absolute_path]
        if errors[0].validator == "additionalProperties":
            extra = sorted(set(errors[0].instance) - set(errors[0].schema.get("properties", {})))
            key += extra[:1]
        raise format_schema_error(errors[0], schema, source_of(key, sources, file), "")
    resolved = _merge(default_config(), config)
    sim = resolved["simulate"]
    if sim["enabled"]:
        for key in ("samples", "reference", "annotation", "regions"):
            if resolved.get(key):
                raise input_error(
                    source_of([key], sources, file), key, resolved[key],
                    f"simulate.enabled is true, so the simulator provides {key}; "
                    f"set simulate.enabled: false to use your own {key}, or remove {key}",
                )
        if sim["bam_patients"] > sim["patients"]:
            raise input_error(
                source_of(["simulate", "bam_patients"], sources, file), "simulate.bam_patients", sim["bam_patients"],
                f"must be at most simulate.patients ({sim['patients']})",
            )
        if sim["purity"][0] > sim["purity"][1]:
            raise input_error(source_of(["simulate", "purity"], sources, file), "simulate.purity", sim["purity"], "give [min, max] with min <= max")
    else:  # reference and annotation are asked for by the sheet's inputs (required_inputs), not here
        if not resolved.get("samples"):
            raise input_error(file, "samples", None, "simulate.enabled is false, so set samples to your own sheet")
    return resolved


def is_maf(path: str | os.PathLike) -> bool:
    """A MAF by its name (.maf, .maf.gz), as the sample-sheet schema accepts it."""
    name = str(path).lower()
    return name.endswith((".maf", ".maf.gz"))


def required_inputs(config: dict, samples: list["Sample"], file: str = "config.yaml") -> dict[str, bool]:
    """Which of reference and annotation the sheet's inputs need, checked against the config.

    BAM samples need both (pileups, then consequences of the calls); a VCF needs both unless its consequences come
    with it (impact.use_existing_annotation csq|ann); a MAF carries gene and consequence, so a cohort of MAFs needs
    neither. Returns {"reference": bool, "annotation": bool}; raises UserError naming the first sample that needs a
    file the config lacks.
    """
    annotated = config["impact"]["use_existing_annotation"] != "none"
    need = {"reference": None, "annotation": None}
    for s in samples:
        if s.has_bam:
            why = f"sample {s.sample!r} has a tumor_bam"
        elif s.vcf and not is_maf(s.vcf) and not annotated:
            why = (f"sample {s.sample!r} has a VCF ({os.path.basename(s.vcf)}) whose consequences are computed "
                   f"(impact.use_existing_annotation: none)")
        else:
            continue
        for key in need:
            need[key] = need[key] or why
    for key, why in need.items():
        if why and not config.get(key):
            raise input_error(file, key, None, f"{why}, so set {key} to your own file (a cohort of MAFs, or "
                                               f"of VCFs with use_existing_annotation csq|ann, needs none)")
    return {k: bool(v) for k, v in need.items()}


def load_config(path: str | os.PathLike, overrides: dict | None = None) -> dict:
    """Read a YAML configuration file, apply ``overrides`` and validate it."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: config file not found: give an existing YAML file (see config.yaml)")
    try:
        with open(path) as fh:
            config = yaml.safe_load(fh) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "YAML"
        raise UserError(f"{path}: {where}: not valid YAML ({getattr(exc, 'problem', exc)}): fix the syntax")
    return validate_config(_merge(config, overrides or {}), str(path))


@dataclass(frozen=True)
class Sample:
    """One row of the sample sheet, with paths resolved against the sheet's folder."""

    sample: str
    tumor_bam: str | None = None
    normal_bam: str | None = None
    vcf: str | None = None
    image_embedding: str | None = None
    label: int | None = None
    time: float | None = None
    event: int | None = None

    @property
    def has_bam(self) -> bool:
        return self.tumor_bam is not None


# cells read as missing: R's and pandas' NA spellings, VCF's '.', and the infinities maftools writes for an
# unknown follow-up (-Inf); a patient with a missing outcome stays in the cohort and is left out of the outcome model
MISSING = frozenset({"", "NA", "na", "N/A", "n/a", "NaN", "nan", ".", "-Inf", "Inf", "-inf", "inf", "+Inf"})


def _convert(value: str, column: str) -> Any:
    value = value.strip()
    if value in MISSING:
        return None
    if column in ("label", "event"):
        try:
            return int(value)
        except ValueError:
            try:
                as_float = float(value)
            except ValueError:
                return value
            return int(as_float) if as_float.is_integer() else as_float
    if column == "time":
        try:
            number = float(value)
        except ValueError:
            return value
        return number if math.isfinite(number) else value
    return value


def load_samples(path: str | os.PathLike, mode: str = "somatic", check_files: bool = True,
                 columns: dict[str, str] | None = None, calls: str | None = None) -> list[Sample]:
    """Read and validate a sample sheet.

    Args:
        path: the TSV sample sheet.
        mode: ``somatic`` or ``germline``; somatic requires a normal_bam next to every tumor_bam.
        check_files: also check that every file named in the sheet exists.
        columns: the sheet's own names of oncorisk's columns (config ``sample_columns``); with a mapping, the
            sheet's other columns are ignored.
        calls: a cohort-level call file (config ``calls``) for every row without its own tumor_bam or vcf
            (a path as given, relative to the working folder, not to the sheet).
    Returns:
        the samples, in sheet order.
    Raises:
        UserError: one line naming the file, row, column, value and what is accepted.
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: sample sheet not found: give a TSV with a header (see docs/usage.md)")
    schema = load_schema("samples")
    validator = Validator(schema)
    base = path.parent
    from oncorisk.io.text import open_text

    with open_text(path, "a tab-separated sample sheet with a header (docs/usage.md)") as fh:
        lines = [line for line in fh if line.strip() and not line.startswith("#")]
    if not lines:
        raise UserError(f"{path}: the sample sheet is empty: give a header line and one row per sample")
    reader = csv.DictReader(lines, delimiter="\t")
    header = reader.fieldnames or []
    if columns:
        header = _map_columns(path, header, columns)
        reader = csv.DictReader(lines[1:], fieldnames=header, delimiter="\t")
    unknown = [c for c in header if c not in SAMPLE_COLUMNS and not c.startswith(_IGNORED)]
    if unknown:
        raise UserError(
            f"{path}: header: unknown column {unknown[0]!r}: accepted columns are {', '.join(SAMPLE_COLUMNS)} "
            f"(tab-separated); or map your table's own column names with sample_columns in the config"
        )
    if "sample" not in header:
        raise UserError(f"{path}: header: no 'sample' column: the first line must name the columns, tab-separated")
    twice = sorted({c for c in header if header.count(c) > 1})
    if twice:
        raise UserError(f"{path}: header: column {twice[0]!r} appears {header.count(twice[0])} times: name each "
                        f"column once (the later one would silently win)")
    samples: list[Sample] = []
    used_by: dict[str, str] = {}  # a BAM path -> the first sample naming it
    seen: dict[str, int] = {}
    for row_number, row in enumerate(reader, start=1):
        if None in row:
            raise UserError(
                f"{path}: row {row_number}: {len(header) + len(row[None])} fields for {len(header)} columns: "
                f"separate columns with one tab each"
            )
        record = {column: _convert(value or "", column) for column, value in row.items()
                  if not column.startswith(_IGNORED)}
        if calls and not record.get("tumor_bam") and not record.get("vcf"):
            record["vcf"] = os.path.relpath(os.path.abspath(calls), base.resolve())
        where = f"row {row_number} (sample {record.get('sample')!r}), column "
        errors = sorted(validator.iter_errors(record), key=lambda e: list(e.path))
        if errors:
            raise format_schema_error(errors[0], schema, str(path), where)
        name = record["sample"]
        if name in seen:
            raise input_error(path, f"row {row_number}, column sample", name,
                              f"duplicate of row {seen[name]}: sample ids must be unique")
        seen[name] = row_number
        if not record.get("tumor_bam") and not record.get("vcf"):
            raise input_error(path, f"{where}tumor_bam", None, "each row needs a tumor_bam or a vcf")
        if mode == "somatic" and record.get("tumor_bam") and not record.get("normal_bam"):
            raise input_error(path, f"{where}normal_bam", None,
                              "mode somatic needs a matched normal_bam for each tumor_bam; "
                              "add it, or set mode: germline in the config")
        for column in PATH_COLUMNS:
            if record.get(column):
                # several slides of one patient: image_embedding lists their files, separated by SLIDE_SEPARATOR
                parts = record[column].split(SLIDE_SEPARATOR) if column == "image_embedding" else [record[column]]
                for part in parts:
                    one = os.path.normpath(base / part)
                    if check_files and not os.path.exists(one):
                        raise input_error(path, f"{where}{column}", part,
                                          f"file not found (looked for {one}); paths are relative to the sheet's folder")
                    if check_files and os.path.isdir(one):
                        raise input_error(path, f"{where}{column}", part,
                                          f"is a folder ({one}): give the file itself")
                resolved = SLIDE_SEPARATOR.join(os.path.normpath(base / part) for part in parts)
                if column == "tumor_bam":  # a normal may serve two tumours of one patient; a tumour may not
                    other = used_by.setdefault(resolved, name)
                    if other != name:
                        log.warning("%s: row %d: the tumor_bam of sample %r is also the tumor_bam of sample %r: the "
                                    "same reads for two samples (a copy-paste slip?)", path, row_number, name, other)
                if column == "normal_bam" and resolved == record.get("tumor_bam"):
                    raise input_error(path, f"{where}normal_bam", record[column],
                                      "the same file as tumor_bam: give the matched normal's BAM")
                record[column] = resolved
        samples.append(Sample(**{k: record.get(k) for k in SAMPLE_COLUMNS}))
    if not samples:
        raise UserError(f"{path}: the sample sheet has a header but no rows: add one row per sample")
    return samples


_IGNORED = "\0ignored:"  # prefix of a column that a sample_columns mapping leaves out


def column_map(items: list[str]) -> dict[str, str]:
    """``OURS=THEIRS`` items (``--column``, config sample_columns) as {our column: the sheet's name for it}."""
    columns = {}
    for item in items:
        ours, sep, theirs = item.partition("=")
        if not sep or not theirs:
            raise UserError(f"--column: bad value {item!r}: write OURS=THEIRS, e.g. time=days_to_last_followup")
        if ours not in SAMPLE_COLUMNS:
            raise UserError(f"--column: bad value {item!r}: {ours!r} is not a sheet column; accepted: "
                            f"{', '.join(SAMPLE_COLUMNS)}")
        columns[ours] = theirs
    return columns


def write_samples(samples: list[Sample], out: str | os.PathLike) -> None:
    """Write a sample sheet (all of SAMPLE_COLUMNS) with paths relative to it, so it reads from anywhere;
    atomically (io.atomic)."""
    from oncorisk.io.atomic import atomic_path

    base = os.path.dirname(os.path.abspath(out))

    def cell(sample: Sample, column: str) -> str:
        value = getattr(sample, column)
        if value is None:
            return ""
        if column not in PATH_COLUMNS:
            return str(value)
        return SLIDE_SEPARATOR.join(os.path.relpath(v, base) for v in value.split(SLIDE_SEPARATOR))

    with atomic_path(out) as tmp:
        with open(tmp, "w") as fh:
            fh.write("\t".join(SAMPLE_COLUMNS) + "\n")
            for s in samples:
                fh.write("\t".join(cell(s, c) for c in SAMPLE_COLUMNS) + "\n")


def with_calls(samples: list[Sample], calls: list[str], sheet: str) -> list[Sample]:
    """The sheet with the caller's VCFs (``SAMPLE=VCF`` items) in the vcf column of those samples."""
    from dataclasses import replace

    pairs = dict(item.split("=", 1) for item in calls if "=" in item)
    bad = [c for c in calls if "=" not in c] + sorted(set(pairs) - {s.sample for s in samples})
    if bad:
        raise UserError(f"--calls: bad value {bad[0]!r}: write SAMPLE=VCF with a sample of {sheet}")
    missing = [v for v in pairs.values() if not os.path.isfile(v)]
    if missing:
        raise UserError(f"--calls: {missing[0]}: file not found: run the caller for that sample first")
    return [replace(s, vcf=os.path.abspath(pairs[s.sample])) if s.sample in pairs else s for s in samples]


def _map_columns(path: Path, header: list[str], columns: dict[str, str]) -> list[str]:
    """The header with the sheet's own names replaced by oncorisk's; other columns marked ignored."""
    by_theirs = {theirs: ours for ours, theirs in columns.items()}
    absent = [f"{ours}: {theirs}" for ours, theirs in columns.items() if theirs not in header]
    if absent:
        raise UserError(f"{path}: header: no column {absent[0].split(': ', 1)[1]!r} (sample_columns maps "
                        f"{absent[0]}): the sheet's columns are {', '.join(header)}; fix the mapping in the config")
    out = []
    for name in header:
        if name in by_theirs:
            out.append(by_theirs[name])
        elif name in SAMPLE_COLUMNS and name not in columns:
            out.append(name)  # already oncorisk's name, and not mapped away
        else:
            out.append(f"{_IGNORED}{name}")
    ignored = [n for n, o in zip(header, out) if o.startswith(_IGNORED)]
    if ignored:
        log.info("%s: columns not mapped by sample_columns, ignored: %s", path, ", ".join(ignored))
    return out


def patient_ids(n: int) -> list[str]:
    """Patient ids P0001, P0002, ... (zero-padded to at least 4 digits): the demo cohort's numbering."""
    width = max(4, len(str(n)))
    return [f"P{i + 1:0{width}d}" for i in range(n)]


def patient_split(patients: int, bam_patients: int) -> tuple[list[str], list[str]]:
    """Ids of the simulated patients that come as BAMs and as VCFs (the simulator's own numbering)."""
    ids = patient_ids(patients)
    return ids[:bam_patients], ids[bam_patients:]


def ensure_fasta_index(fasta: str | os.PathLike) -> Path:
    """Make sure a FASTA can be indexed: its own .fai, else one built in oncorisk's cache (genome.fasta).

    Returns:
        the path of the .fai used.
    """
    from oncorisk.genome.fasta import fasta_index_paths

    return fasta_index_paths(fasta)[0]
