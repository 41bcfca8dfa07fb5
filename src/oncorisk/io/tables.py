"""Reading a user's table (Parquet, TSV/CSV, plain or gzipped): parser errors as one line naming the file."""

from __future__ import annotations

import os

import pandas as pd

from oncorisk.errors import UserError
from oncorisk.io.text import check_file, is_gzip

PARQUET_MAGIC = b"PAR1"


def read_table(path: str | os.PathLike, option: str | None = None, **kwargs) -> pd.DataFrame:
    """A DataFrame from a Parquet file (recognised by its magic bytes) or a TSV (``.csv``: comma-separated).

    Args:
        path: the file.
        option: the command-line option or config key that named it, for the error message.
        kwargs: passed to ``pandas.read_csv`` for text tables.
    Raises:
        UserError: missing, truncated or corrupt Parquet, unparsable or non-UTF-8 text.
    """
    p = check_file(path, "a table (Parquet, TSV or CSV)", option)
    where = f"{option} {p}" if option else str(p)
    with open(p, "rb") as fh:
        head = fh.read(4)
    if head == PARQUET_MAGIC or p.suffix == ".parquet":
        try:
            return pd.read_parquet(p)
        except Exception as exc:  # pyarrow raises ArrowInvalid / OSError on truncated or corrupt files
            raise UserError(f"{where}: not a readable Parquet file ({str(exc).splitlines()[0][:120]}): rewrite it "
                            f"(e.g. rerun the stage that wrote it)") from None
    sep = "," if p.suffix.lower() == ".csv" or p.name.lower().endswith(".csv.gz") else "\t"
    try:
        return pd.read_csv(p, sep=kwargs.pop("sep", sep), compression="gzip" if is_gzip(p) else None,
                           encoding="utf-8-sig", **kwargs)
    except UnicodeDecodeError:
        raise UserError(f"{where}: not UTF-8 text: give the table as plain or gzipped UTF-8 text") from None
    except pd.errors.EmptyDataError:
        raise UserError(f"{where}: empty file: expected a header line and one row per item") from None
    except (pd.errors.ParserError, EOFError, OSError, ValueError) as exc:
        raise UserError(f"{where}: cannot be read as a table ({str(exc).splitlines()[0][:120]}): check that "
                        f"columns are {'comma' if sep == ',' else 'tab'}-separated with one header line") from None
