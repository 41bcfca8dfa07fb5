"""Write outputs to a temporary path and rename them into place, so no partial output survives."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterable, Iterator


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary file path next to ``path``; rename it to ``path`` only on success.

    Args:
        path: final destination.
        suffix: suffix for the temporary name (keep the real extension for tools that sniff it).
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
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


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary directory next to ``path``; it replaces ``path`` only on success.

    An existing ``path`` is removed only after the new content is complete.
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent))
    os.chmod(tmp, 0o777 & ~_umask())
    try:
        yield tmp
        if final.exists():
            old = final.with_name(f".{final.name}.old")
            if old.exists():
                shutil.rmtree(old)
            os.replace(final, old)
            os.replace(tmp, final)
            shutil.rmtree(old)
        else:
            os.replace(tmp, final)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def write_bgzip_vcf(path: str | os.PathLike, header: str, lines: Iterable[str], index: bool = True) -> None:
    """Write a VCF (``header`` text ending in a newline, then one record per line) as bgzip, with a tabix
    index, atomically: everything is written under temporary names and renamed into place when complete."""
    import pysam

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
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
