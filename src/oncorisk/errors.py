"""User-facing errors: one line naming the file, field, value and the fix."""

from __future__ import annotations

from typing import Any


class UserError(Exception):
    """An error caused by the user's input. The CLI prints it as one line and exits non-zero."""

    exit_code = 2

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))


def input_error(file: Any, field: str, value: Any, fix: str) -> UserError:
    """Build a UserError that names the file, the field, the offending value and the fix.

    Args:
        file: path of the file the bad value came from (or the CLI option).
        field: the key, column or row/column where the value was found.
        value: the offending value.
        fix: what is accepted, or what the user should do.
    """
    shown = "missing value" if value is None or value == "" else f"bad value {value!r}"
    return UserError(f"{file}: {field}: {shown}: {fix}")
