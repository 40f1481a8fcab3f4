"""Errors the CLI turns into a one-line message and exit code 2 (bad input or config)."""
from __future__ import annotations

from collections.abc import Sequence


class LeadscoreError(Exception):
    """A failure the user can fix; the CLI prints the message without a traceback."""

    exit_code = 2


class InputError(LeadscoreError):
    """A data file is missing, unreadable or breaks its contract."""


class ConfigError(LeadscoreError):
    """The YAML config is missing, malformed, or has unknown or mistyped keys."""


class NotEnoughDataError(LeadscoreError):
    """Too few examples (or of one class only) to train or evaluate honestly."""


def first_line(error: BaseException | str, limit: int | None = 200) -> str:
    """The first line of an error's message, cut to `limit` characters: what a one-line message quotes of a
    library's multi-line error. An exception without a message reads as its type's name; empty text stays empty."""
    lines = str(error).strip().splitlines()
    if lines:
        return lines[0][:limit]
    return type(error).__name__ if isinstance(error, BaseException) else ""


def example_rows(rows: Sequence[int], values: Sequence[object] | None = None, limit: int = 3) -> str:
    """Format up to `limit` 1-based data row numbers (and their values) for an error message."""
    shown = [str(r) for r in list(rows)[:limit]]
    text = "rows " + ", ".join(shown)
    if values is not None:
        vals = [repr(_shorten(v)) for v in list(values)[:limit]]
        text += " (" + ", ".join(vals) + ")"
    if len(rows) > limit:
        text += f" and {len(rows) - limit} more"
    return text


def _shorten(value: object, width: int = 40) -> object:
    if isinstance(value, str) and len(value) > width:
        return value[: width - 3] + "..."
    return value


class Interrupted(BaseException):
    """SIGTERM (or SIGINT) while a command runs: unwinds the stack so `finally` blocks remove
    temporary files. A BaseException, so no `except Exception` on the way can swallow it."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum
        self.exit_code = 128 + signum
