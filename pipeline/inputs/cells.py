"""Reading single cells of an input file: dates, 0/1 labels, CRM-style numbers, and file row numbers.

The contracts (pipeline/inputs/contracts.py) decide what is an error; these are the readers they use:
ISO 8601 dates (or one unambiguous common layout, or `data.date_format`), labels from numbers or yes/no
words, amounts as CRM exports write them ('1,200', '51-200', '$1.5M'), and the 1-based row numbers of
the *file* (a chunk of a streamed file says where it starts with `rows_from`) that error messages name.
"""
from __future__ import annotations

import contextlib
import contextvars
import logging
import re
from collections.abc import Iterator

import numpy as np
import pandas as pd

from pipeline.errors import InputError, example_rows

log = logging.getLogger(__name__)

TRUE_WORDS = {"1", "true", "yes", "y", "converted", "won"}
FALSE_WORDS = {"0", "false", "no", "n", "not converted", "lost"}
_AMOUNT_RE = re.compile(r"^(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?([kmb])?$")
DAY_FIRST = ("%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y")
MONTH_FIRST = ("%m-%d-%Y", "%m/%d/%Y")
_TIMES = ("", " %H:%M", " %H:%M:%S")


_FIRST_ROW = contextvars.ContextVar("first_row", default=1)


def first_row() -> int:
    """The file's data row number of the current batch's first row (1 outside `rows_from`)."""
    return _FIRST_ROW.get()


@contextlib.contextmanager
def rows_from(first_row: int) -> Iterator[None]:
    """Checks inside this block see a batch of a larger file whose first row is data row `first_row`,
    so their messages name the rows of the file, not of the batch."""
    token = _FIRST_ROW.set(first_row)
    try:
        yield
    finally:
        _FIRST_ROW.reset(token)


def file_rows(mask: pd.Series) -> list[int]:
    """1-based data row numbers (of the file, see `rows_from`) where mask is true."""
    return (np.flatnonzero(np.asarray(mask, dtype=bool)) + _FIRST_ROW.get()).tolist()


def is_text(values: pd.Series) -> bool:
    dtype = values.dtype
    return not (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)
                or pd.api.types.is_datetime64_any_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype))


def non_empty(values: pd.Series) -> pd.Series:
    if not is_text(values):
        return values.notna()
    return values.notna() & (values.astype("string").str.strip() != "").fillna(False)


def as_str(values: pd.Series) -> pd.Series:
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.rename_categories([str(c) for c in values.cat.categories]).astype(str)
    return values.astype(str)


def parse_timestamps(values: pd.Series, source: str, column: str | None, allow_null: bool,
                     date_format: str | None = None) -> pd.Series:
    """Datetimes as tz-naive UTC; unparseable (or, if not allowed, empty) cells are an error.

    Text is read as ISO 8601, or with `date_format` (strftime, e.g. '%d-%m-%Y') when the config gives one.
    Without one, a column that is not ISO but reads completely in exactly one of the common day-first or
    month-first layouts is read in that layout (said once); one that reads in both (every day <= 12) is an
    error asking for `data.date_format`: a date is never silently swapped."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        parsed = values.dt.tz_convert("UTC").dt.tz_localize(None)
    elif pd.api.types.is_datetime64_any_dtype(values.dtype):
        parsed = values
    elif pd.api.types.is_numeric_dtype(values.dtype) and values.notna().any():
        rows = file_rows(values.notna())
        raise InputError(
            f"{source}: column '{column}' holds numbers, not dates; use ISO dates (2025-03-01 or 2025-03-01T10:00:00Z), "
            f"{example_rows(rows, values[values.notna()].tolist())}"
        )
    else:
        text = values.astype("string").str.strip().replace("", pd.NA)
        parsed = pd.to_datetime(text, errors="coerce", utc=True, format=date_format or "ISO8601").dt.tz_localize(None)
        bad = parsed.isna() & text.notna()
        if bad.any() and date_format is None:
            parsed, bad = _day_or_month_first(text, parsed, bad, source, column)
        if bad.any() and date_format is not None:
            rows = file_rows(bad)
            raise InputError(
                f"{source}: column '{column}' has {len(rows)} values that do not match data.date_format "
                f"'{date_format}', {example_rows(rows, text[bad].tolist())}"
            )
        if bad.any():
            rows = file_rows(bad)
            raise InputError(
                f"{source}: column '{column}' has {len(rows)} values that are not ISO dates, "
                f"{example_rows(rows, text[bad].tolist())}; use YYYY-MM-DD[THH:MM:SS]"
            )
    parsed = parsed.astype("datetime64[ns]")
    if not allow_null and parsed.isna().any():
        rows = file_rows(parsed.isna())
        raise InputError(f"{source}: column '{column}' has {len(rows)} empty dates, {example_rows(rows)}")
    return parsed


def _day_or_month_first(text: pd.Series, parsed: pd.Series, bad: pd.Series, source: str,
                        column: str | None) -> tuple[pd.Series, pd.Series]:
    """Re-read a non-ISO date column in the one common layout that reads all of it (see parse_timestamps)."""
    present = text.notna()

    def reads_all(layouts: tuple[str, ...]) -> tuple[str, pd.Series] | None:
        for layout in layouts:
            for time in _TIMES:
                got = pd.to_datetime(text, errors="coerce", format=layout + time)
                if got[present].notna().all():
                    return layout + time, got
        return None

    day, month = reads_all(DAY_FIRST), reads_all(MONTH_FIRST)
    if day and month:
        rows = file_rows(bad)
        raise InputError(
            f"{source}: column '{column}' has dates that read both day-first and month-first, "
            f"{example_rows(rows, text[bad].tolist())}; set data.date_format (e.g. '%d/%m/%Y')"
        )
    found = day or month
    if found is None:
        return parsed, bad
    layout, got = found
    if _FIRST_ROW.get() == 1:
        log.warning("%s: column '%s' read as %s dates (%s); set data.date_format to change this", source, column,
                 "day-first" if day else "month-first", layout)
    return got, pd.Series(False, index=text.index)


def parse_label(values: pd.Series, source: str, column: str) -> pd.Series:
    """A 0/1 label from numbers, booleans or yes/no words."""
    text = values.astype("string").str.strip().str.lower()
    numeric = pd.to_numeric(text, errors="coerce")
    label = pd.Series(np.nan, index=values.index)
    label[(text.isin(TRUE_WORDS) | (numeric == 1)).fillna(False)] = 1
    label[(text.isin(FALSE_WORDS) | (numeric == 0)).fillna(False)] = 0
    bad = label.isna()
    if bad.any():
        rows = file_rows(bad)
        raise InputError(
            f"{source}: label column '{column}' must be 0/1 (or yes/no); {len(rows)} other values, "
            f"{example_rows(rows, values[bad].tolist())}"
        )
    return label.astype(np.int8)


def parse_amounts(values: pd.Series) -> pd.Series:
    """Numbers as CRM exports write them: '1,200', '51-200' (midpoint), '10,000+', '$1.5M', '250k'.

    Returns floats; cells that are not numbers in any of these forms are NaN.
    """
    out = pd.to_numeric(values, errors="coerce").astype(float) if not is_text(values) else \
        pd.to_numeric(values.astype("string").str.strip(), errors="coerce").astype(float)
    todo = out.isna() & non_empty(values)
    if todo.any():
        text = values[todo].astype("string")
        parsed = {v: _parse_amount(v) for v in text.unique() if v is not pd.NA}
        out[todo] = text.map(parsed).astype(float).to_numpy()
    return out


def _parse_amount(text: str) -> float:
    t = re.sub(r"[\s$€£]|usd|eur|gbp|employees?|people", "", str(text).lower())
    t = t.removesuffix("+")
    low, sep, high = t.partition("-")
    if sep and low:  # a range (not a minus sign)
        a, b = _amount(low), _amount(high)
        return (a + b) / 2 if not (np.isnan(a) or np.isnan(b)) else np.nan
    value = _amount(t.removeprefix("-"))
    return -value if t.startswith("-") else value


def _amount(text: str) -> float:
    match = _AMOUNT_RE.match(text)
    if not match:
        return np.nan
    value = float(match.group(1).replace(",", "") + (match.group(2) or ""))
    return value * {"k": 1e3, "m": 1e6, "b": 1e9}.get(match.group(3) or "", 1.0)
