"""Opening a user's text file: gzip recognised by its magic bytes (not its suffix), library errors as one line.

Every reader of a user's TSV/GTF/GMT/MAF/edge list opens its file here, so a missing file, a folder, a
gzipped file without ``.gz``, a binary file or a file in another encoding ends as one ``UserError`` naming the
file and the fix, never as a ``UnicodeDecodeError`` or ``gzip.BadGzipFile`` traceback.
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

from oncorisk.errors import UserError

GZIP_MAGIC = b"\x1f\x8b"


def is_gzip(path: str | os.PathLike) -> bool:
    """True when the file starts with the gzip magic bytes (gzip and bgzip alike)."""
    with open(path, "rb") as fh:
        return fh.read(2) == GZIP_MAGIC


def check_file(path: str | os.PathLike, what: str, option: str | None = None) -> Path:
    """``path`` as a Path if it is a readable file; else one line naming it, ``what`` it should be and the fix."""
    p = Path(path)
    where = f"{option} {p}" if option else str(p)
    if p.is_dir():
        raise UserError(f"{where}: is a folder: give {what}")
    if not p.is_file():
        raise UserError(f"{where}: file not found: give {what} (check the path)")
    if not os.access(p, os.R_OK):
        raise UserError(f"{where}: not readable: check its permissions")
    return p


def read_text(path: str | os.PathLike, what: str, option: str | None = None) -> str:
    """The whole text of a plain or gzipped UTF-8 file (a UTF-8 byte-order mark is dropped).

    Raises:
        UserError: missing file, folder, truncated or corrupt gzip, or not UTF-8 text.
    """
    p = check_file(path, what, option)
    where = f"{option} {p}" if option else str(p)
    try:
        raw = p.read_bytes()
        if raw[:2] == GZIP_MAGIC:
            raw = gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as exc:
        raise UserError(f"{where}: gzip data is truncated or corrupt ({exc}): recompress the file, or give "
                        f"the uncompressed text") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(f"{where}: byte {exc.start}: not UTF-8 text: give {what} as plain or gzipped UTF-8 "
                        f"text") from None
    if "\x00" in text:
        raise UserError(f"{where}: holds NUL bytes: a binary file, not {what}")
    return text.removeprefix("\ufeff")


class _Lines:
    """Lines of an open text stream; decoding and gzip errors become one ``UserError`` naming the file."""

    def __init__(self, fh, where: str, what: str):
        self._fh, self._where, self._what = fh, where, what
        self._first = True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._fh.close()
        return False

    def __iter__(self):
        try:
            for line in self._fh:
                if self._first:
                    self._first = False
                    line = line.removeprefix("\ufeff")
                    if "\x00" in line:
                        raise UserError(f"{self._where}: holds NUL bytes: a binary file, not {self._what}")
                yield line
        except UnicodeDecodeError as exc:
            raise UserError(f"{self._where}: not UTF-8 text ({exc.reason}): give {self._what} as plain or gzipped "
                            f"UTF-8 text") from None
        except (EOFError, OSError, zlib.error) as exc:
            raise UserError(f"{self._where}: gzip data is truncated or corrupt ({exc}): recompress the file, or "
                            f"give the uncompressed text") from None


def open_text(path: str | os.PathLike, what: str, option: str | None = None) -> _Lines:
    """Open a plain or gzipped UTF-8 file for reading line by line (``with open_text(...) as lines: for ...``).

    Raises (while opening or iterating):
        UserError: missing file, folder, truncated or corrupt gzip, or not UTF-8 text.
    """
    p = check_file(path, what, option)
    where = f"{option} {p}" if option else str(p)
    fh = gzip.open(p, "rt", encoding="utf-8") if is_gzip(p) else open(p, encoding="utf-8")
    return _Lines(fh, where, what)
