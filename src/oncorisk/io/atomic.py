"""Write outputs to a temporary path and rename them into place, so no partial output survives."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterable, Iterator

from oncorisk.errors import UserError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def check_output_file(path: str | os.PathLike) -> None:
    """Refuse an output file path that is a folder, or whose folder cannot be created or written."""
    final = Path(path)
    if final.is_dir():
        raise UserError(f"--out: {final}: is a folder, where a file is written: give a file path (the folder is left "
                        f"as it is)")
    _mkdir_writable(final.parent)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary file path next to ``path``; rename it to ``path`` only on success.

    Args:
        path: final destination.
        suffix: suffix for the temporary name (keep the real extension for tools that sniff it).
    """
    final = Path(path)
    check_output_file(final)
    fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.", suffix=suffix + ".tmp", dir=final.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    os.chmod(tmp_path, 0o666 & ~_umask())
    try:
        yield tmp_path
        os.replace(tmp_path, final)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


MARKER = ".oncorisk.json"  # written into every output folder: the stage and the files it wrote


def _files_under(folder: Path) -> list[str]:
    """Every file and link below ``folder``, as sorted POSIX paths relative to it (empty folders are not files)."""
    out = []
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in files:
            out.append((Path(root) / name).relative_to(folder).as_posix())
    return sorted(out)


def _read_marker(folder: Path) -> dict | None:
    try:
        data = json.loads((folder / MARKER).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("files"), list) else None


def check_output_folder(path: str | os.PathLike, stage: str, force: bool = False) -> str:
    """Decide how an output folder may be written, or refuse with one line (the output rule, docs/errors.md).

    Returns ``"new"`` (absent or empty), ``"replace"`` (a previous output of the same stage and nothing else:
    replaced as a whole) or ``"merge"`` (``force``: our files are written into it one by one; files oncorisk
    did not write are kept).

    Raises:
        UserError: ``path`` is a file; or a folder holding anything but a previous ``stage`` output, without ``force``.
    """
    final = Path(path)
    if final.exists() and not final.is_dir():
        raise UserError(f"--out: {final}: is an existing file, not a folder: give a new folder name "
                        f"(the file is left as it is)")
    if not final.exists():
        return "new"
    files = _files_under(final)
    if not files:
        return "new"
    marker = _read_marker(final)
    if marker and marker.get("stage") == stage and set(files) - {MARKER} <= set(marker["files"]):
        return "replace"
    if force:
        return "merge"
    foreign = [f for f in files if not (marker and marker.get("stage") == stage and f in marker["files"])
               and f != MARKER]
    what = (f"a previous 'oncorisk {marker.get('stage')}' output" if marker and marker.get("stage") != stage
            else f"files oncorisk did not write ({foreign[0]!r}" + (f" and {len(foreign) - 1} more)" if len(foreign) > 1 else ")"))
    raise UserError(f"--out: {final}: folder is not empty: it holds {what}: give a new or empty folder, or add "
                    f"--force to write the {stage} outputs into it (files oncorisk did not write are kept)")


def check_inputs_outside(out: str | os.PathLike, inputs: Iterable[str | os.PathLike | None], is_folder: bool) -> None:
    """Refuse an output that is one of the inputs or (for an output folder) holds one of them.

    Raises:
        UserError: naming the input and the fix.
    """
    final = Path(out).resolve()
    for p in inputs:
        if not p:
            continue
        try:
            q = Path(p).resolve()
            if not q.exists():
                continue
        except (OSError, ValueError):  # not a path at all (a JSON option, a name too long for the system)
            continue
        if q == final or (is_folder and final in q.parents):
            where = "is" if q == final else "holds"
            raise UserError(f"--out: {out}: {where} the input {p}: write the outputs to another "
                            f"{'folder' if is_folder else 'file'} (inputs are never overwritten)")


def _mkdir_writable(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"--out: {folder}: cannot create the folder ({exc.strerror}): choose a writable "
                        f"location") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UserError(f"--out: {folder}: folder is not writable: choose a writable location, or fix its "
                        f"permissions")


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike, stage: str = "output", force: bool = False) -> Iterator[Path]:
    """Yield a temporary directory next to ``path``; its content reaches ``path`` only on success.

    The output rule: ``path`` may be absent, empty or a previous output of the same ``stage`` (recognised by its
    ``.oncorisk.json`` listing the files that stage wrote), which is replaced as a whole once the new content is
    complete. Anything else is refused before any work is done, unless ``force``: then the new files are
    renamed into place one by one, files of a previous run of the stage that this run did not write are
    removed, and every other file is kept. A file oncorisk did not write is never renamed, moved or deleted.
    """
    final = Path(path)
    how = check_output_folder(final, stage, force)
    _mkdir_writable(final.parent)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent))
    os.chmod(tmp, 0o777 & ~_umask())
    try:
        yield tmp
        written = _files_under(tmp)
        (tmp / MARKER).write_text(json.dumps({"stage": stage, "files": written}, indent=1) + "\n")
        how = check_output_folder(final, stage, force)  # the folder may have changed while we worked
        if how == "new":
            if final.exists():
                shutil.rmtree(final)  # holds no file (checked): only empty folders
            os.replace(tmp, final)
        elif how == "replace":
            old = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".old", dir=final.parent))
            os.replace(final, old / "previous")
            os.replace(tmp, final)
            shutil.rmtree(old)
        else:
            _merge_into(tmp, final, written)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def _merge_into(tmp: Path, final: Path, written: list[str]) -> None:
    """``--force``: rename each new file into ``final``; remove the previous run's files this run did not write."""
    previous = _read_marker(final)
    for rel in written + [MARKER]:
        dest = final / rel
        if dest.is_dir():
            raise UserError(f"--out: {final}: {rel} is a folder there, where oncorisk writes a file: move it, or "
                            f"give another folder")
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp / rel, dest)
    if previous:
        for rel in set(previous["files"]) - set(written):
            stale = final / rel
            if stale.is_file():
                stale.unlink()


def write_bgzip_vcf(path: str | os.PathLike, header: str, lines: Iterable[str], index: bool = True) -> None:
    """Write a VCF (``header`` text ending in a newline, then one record per line) as bgzip, with a tabix
    index, atomically: everything is written under temporary names and renamed into place when complete."""
    import pysam

    path = Path(path)
    check_output_file(path)
    tmp_txt = path.with_name(f".{path.name}.tmp.vcf")
    tmp_gz = path.with_name(f".{path.name}.tmp.vcf.gz")
    try:
        with open(tmp_txt, "w") as fh:
            fh.write(header)
            for line in lines:
                fh.write(line + "\n")
        pysam.tabix_compress(str(tmp_txt), str(tmp_gz), force=True)
        if index:
            pysam.tabix_index(str(tmp_gz), preset="vcf", force=True)
        os.replace(tmp_gz, path)
        if index:
            os.replace(f"{tmp_gz}.tbi", f"{path}.tbi")
    finally:
        for p in (tmp_txt, tmp_gz, Path(f"{tmp_gz}.tbi")):
            if p.exists():
                p.unlink()
