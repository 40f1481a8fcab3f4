"""What the Spark tasks send back to the driver and how it reaches the user: one accumulator of
reports keyed by the unit of work, the contract's warnings captured inside a task (with file row
numbers) and merged per kind on the driver, and errors raised in a task unwrapped to one line."""
from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from pipeline.errors import InputError, LeadscoreError

log = logging.getLogger(__name__)
CONTRACTS_LOG = logging.getLogger("pipeline.inputs")  # the contracts' and cells' warnings (their loggers' parent)

_ERROR_MARK = "LEADSCORE-INPUT-ERROR<<"
_ERROR_END = ">>"
_COUNT_RE = re.compile(r"^(.*?: )(\d+)( .*)$", re.DOTALL)  # "FILE: 3 events without ..."
_ROWS_RE = re.compile(r"rows (\d+(?:, \d+)*)( and \d+ more)?")


class KeyedParam:
    """A Spark accumulator of {key: report}: each unit of work (an events batch, a lead bucket) reports
    under its own key, so one that Spark runs twice (a retried task, a recomputed partition) counts once.
    (Spark merges the accumulators of successful tasks only.)"""

    def zero(self, value: dict) -> dict:
        return {}

    def addInPlace(self, a: dict, b: dict) -> dict:  # noqa: N802 - Spark's name
        a.update(b)
        return a


class _Capture(logging.Handler):
    def __init__(self, sink: list[str], rows: np.ndarray | None):
        super().__init__(logging.WARNING)
        self.sink, self.rows = sink, rows

    def emit(self, record: logging.LogRecord) -> None:
        self.sink.append(file_rows(record.getMessage(), self.rows))


@contextlib.contextmanager
def captured(sink: list[str], rows: np.ndarray | None) -> Iterator[None]:
    """Inside a Spark task: the contract's warnings go to SINK (then to the driver), its errors come back marked."""
    handler = _Capture(sink, rows)
    log = CONTRACTS_LOG
    saved = (log.handlers[:], log.level, log.propagate)
    log.handlers[:] = [handler]
    log.setLevel(logging.WARNING)
    log.propagate = False
    try:
        yield
    except LeadscoreError as exc:
        raise RuntimeError(f"{_ERROR_MARK}{file_rows(str(exc), rows)}{_ERROR_END}") from None
    finally:
        log.handlers[:], log.level, log.propagate = saved


def file_rows(message: str, rows: np.ndarray | None) -> str:
    """Batch row numbers in a contract message ("rows 3, 9") as file row numbers, or, when the file's
    rows are not known (CSV on Spark), as "e.g." before the example values."""
    def swap(match: re.Match) -> str:
        if rows is None:
            return "e.g."
        mapped = [str(int(rows[int(n) - 1]) + 1) for n in match.group(1).split(", ")]
        return "rows " + ", ".join(mapped) + (match.group(2) or "")
    return _ROWS_RE.sub(swap, message).replace(", e.g. (", " (e.g. ").replace(", e.g.", "")


@dataclass
class TaskReports:
    """What the executors sent back, in a stable order: the contract's warnings and the counts of events
    left out (per events batch), the input checks and the drift counts (per lead bucket)."""

    warnings: list[str]
    late: int = 0
    unknown: int = 0
    unknown_leads: int = 0
    checks: list[Any] = field(default_factory=list)
    drift: list[Any] = field(default_factory=list)

    @classmethod
    def collect(cls, notes: dict) -> TaskReports:
        out = cls([])
        hashes = []
        for key in sorted(notes):  # buckets, then events batches in partition order
            report = notes[key]
            if key[0] == "events":
                out.warnings += report["warnings"]
                out.late += report["late"]
                out.unknown += report["unknown"]
                if report["unknown_leads"] is not None:
                    hashes.append(report["unknown_leads"])
            else:
                if report["checks"] is not None:
                    out.checks.append(report["checks"])
                if report["drift"] is not None:
                    out.drift.append(report["drift"])
        out.unknown_leads = len(np.unique(np.concatenate(hashes))) if hashes else 0
        return out

    def warn(self, source: str, as_of: pd.Timestamp) -> None:
        """The pandas path's lines: the contract's warnings per kind, then the events left out."""
        _emit_notes(self.warnings)
        if self.late:
            log.warning("%s: %d events at or after %s were ignored", source, self.late, as_of)
        if self.unknown:
            log.warning("%s: %d events of %d leads not in the leads file were ignored", source, self.unknown,
                        self.unknown_leads)


def _emit_notes(warnings: list[str]) -> None:
    """The executors' contract warnings on the driver, one line per kind (the contract warns per batch
    there): the first batch's line with the count summed over all batches."""
    merged: dict[str, tuple[str, int, int]] = {}
    for text in warnings:
        match = _COUNT_RE.match(text)
        key = re.sub(r"\(.*\)$", "", re.sub(r"\d+", "N", text))
        first, total, parts = merged.get(key, (text, 0, 0))
        merged[key] = (first, total + (int(match.group(2)) if match else 0), parts + 1)
    for first, total, parts in merged.values():
        match = _COUNT_RE.match(first)
        if parts > 1 and match:
            first = f"{match.group(1)}{total}{match.group(3)} [examples from the first of {parts} parts of the file]"
        log.warning("%s", first)


def raise_task_errors(exc: BaseException) -> None:
    """An error that came back from a Spark task, as the user's one line: an InputError raised in the
    task as that InputError, any other Python error as its own last line; else nothing (re-raise it)."""
    _raise_input_error(exc)
    _raise_task_error(exc)


def _raise_input_error(exc: BaseException) -> None:
    """An InputError raised in a Spark task reaches the driver inside a Java / Python error: unwrap it."""
    text = str(exc)
    start = text.find(_ERROR_MARK)
    if start >= 0:
        end = text.find(_ERROR_END, start + len(_ERROR_MARK))
        raise InputError(text[start + len(_ERROR_MARK): end if end > 0 else None].strip()) from None


def _raise_task_error(exc: BaseException) -> None:
    """Any other Python error in a task: its own last line ("KeyError: 'x'"), not Spark's wrapper text."""
    text = str(exc)
    if "Traceback (most recent call last)" not in text:
        return
    lines = [line.strip() for line in text.split("Traceback (most recent call last)", 1)[1].splitlines()]
    last = next((line for line in lines if re.match(r"^[A-Za-z_][\w.]*(Error|Exception)\b", line)), None)
    if last:
        raise RuntimeError(f"a Spark task failed: {last[:300]}") from None
