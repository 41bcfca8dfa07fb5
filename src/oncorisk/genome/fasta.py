"""Opening a reference FASTA without writing into the user's folder.

A FASTA's own ``.fai`` (and ``.gzi`` for bgzip) beside it are used when present. When one is missing, oncorisk
builds the index into its cache folder (``$ONCORISK_CACHE``, else ``$XDG_CACHE_HOME/oncorisk``, else
``~/.cache/oncorisk``), keyed by the FASTA's absolute path, size and modification time, and reads it from
there: nothing is ever written beside a user's reference (run ``samtools faidx ref.fa`` to keep one there).
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from pathlib import Path

import pysam

from oncorisk.errors import UserError
from oncorisk.io.text import is_gzip

log = logging.getLogger(__name__)


def cache_dir() -> Path:
    """oncorisk's cache folder (created on demand)."""
    root = os.environ.get("ONCORISK_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "oncorisk")
    return Path(root)


def fasta_index_paths(fasta: str | os.PathLike) -> tuple[Path, Path | None]:
    """(.fai, .gzi or None) for ``fasta``: its own beside it, else indexes built once in the cache folder.

    Raises:
        UserError: missing FASTA, plain gzip (not bgzip), or a file samtools cannot index.
    """
    fasta = Path(fasta)
    if fasta.is_dir():
        raise UserError(f"{fasta}: is a folder: give the reference FASTA file (plain or bgzipped)")
    if not fasta.is_file():
        raise UserError(f"{fasta}: reference FASTA not found: give an existing FASTA (plain or bgzipped)")
    gz = is_gzip(fasta)
    own_fai, own_gzi = Path(f"{fasta}.fai"), Path(f"{fasta}.gzi")
    if own_fai.is_file() and (not gz or own_gzi.is_file()):
        return own_fai, own_gzi if gz else None
    st = fasta.stat()
    key = hashlib.sha256(f"{fasta.resolve()}\0{st.st_size}\0{st.st_mtime_ns}".encode()).hexdigest()[:24]
    folder = cache_dir() / "fasta-index" / key
    fai, gzi = folder / "ref.fai", folder / "ref.gzi"
    if fai.is_file() and (not gz or gzi.is_file()):
        return fai, gzi if gz else None
    log.info("indexing %s into %s (no %s beside it; run 'samtools faidx %s' to keep one there)", fasta, folder,
             own_fai.name if not own_fai.is_file() else own_gzi.name, fasta)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".build.", dir=folder.parent))
    try:
        args = [str(fasta), "--fai-idx", str(tmp / "ref.fai")] + (["--gzi-idx", str(tmp / "ref.gzi")] if gz else [])
        try:
            pysam.faidx(*args)
        except pysam.SamtoolsError as exc:
            raise UserError(f"{fasta}: cannot index the reference ({str(exc).strip().splitlines()[-1]}): if it is "
                            f"gzipped, recompress it with 'bgzip', then run 'samtools faidx {fasta}'") from None
        try:
            os.replace(tmp, folder)  # atomic: a concurrent job that built it first wins, ours is discarded
        except OSError:
            pass
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return fai, gzi if gz else None


def open_reference(path: str | os.PathLike) -> pysam.FastaFile:
    """A ``pysam.FastaFile`` for ``path`` (plain or bgzipped), with its index from ``fasta_index_paths``.

    Raises:
        UserError: missing or unreadable FASTA, naming the fix.
    """
    fai, gzi = fasta_index_paths(path)
    try:
        return pysam.FastaFile(str(path), filepath_index=str(fai),
                               filepath_index_compressed=str(gzi) if gzi else None)
    except (OSError, ValueError) as exc:
        raise UserError(f"{path}: cannot open the reference ({exc}): if gzipped it must be bgzip-compressed "
                        f"('bgzip -d' then 'bgzip'); an index beside it must match it ('samtools faidx')") from None
