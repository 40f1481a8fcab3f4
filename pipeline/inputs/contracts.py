"""Input contracts (SPEC 2): map the user's columns to roles, check them, and fail in one line.

What is an error and what proceeds with a warning is decided here, for every command alike. The rule:
a problem that makes the *whole file* untrustworthy, or whose silent repair would change what a lead
is, stops the command (exit 2, one line naming the file, column and up to 3 example rows); a problem
in a few *cells* of a profile or event column, where "unknown" is an honest reading, proceeds and is
reported once per kind and file, with counts and example rows, on this module's logger (stderr).
The cell readers (dates, labels, CRM numbers, row numbers) are in pipeline/inputs/cells.py.

Errors (InputError):
- no data rows; a required column missing; a column name that appears twice after role mapping;
- empty or duplicate `lead_id`; empty or unparseable `created_at` / event `timestamp` (including
  ambiguous formats such as '03/01/2025': ISO 8601 only, so a date is never silently misread);
- a numeric role (`employees`, `annual_revenue`) where most non-empty cells are not numbers: the
  mapping probably points at the wrong column, and treating it all as "unknown" would hide that.

Proceed with one warning line (the cell becomes missing, which the models handle as "unknown"):
- text in a numeric column (`employees`: 'about 50'), once common CRM formats are understood:
  thousands separators ('1,200'), ranges ('51-200' -> the midpoint), open ranges ('10,000+'),
  currency signs and k / M / B suffixes ('$1.5M');
- NaN is plain missing data (no warning); +/-inf is missing with a warning;
- absurd values: negative or implausibly large employee counts and revenues (> 10 million
  employees, > 10 trillion revenue) become missing;
- text cells longer than 1,000 characters are cut to 1,000 (titles and categories only ever use
  the first 200);
- columns that hold personal data without being mapped to a personal role (an unmapped e-mail or
  phone column, a 'Full Name' column) are left out of the features, so personal data never reaches
  the model, its input example or MLflow;
- events: of unknown leads (dropped), without an event type ('unknown'), with a non-numeric value
  (missing), or an events file with a header only.
"""
from __future__ import annotations

import logging
import re
from collections import defaultdict

import numpy as np
import pandas as pd

from pipeline.config import DataConfig
from pipeline.errors import InputError, example_rows
from pipeline.inputs.cells import (
    as_str,
    file_rows,
    first_row,
    is_text,
    non_empty,
    parse_amounts,
    parse_label,
    parse_timestamps,
)

log = logging.getLogger(__name__)

LABEL = "label"

MAX_TEXT_LENGTH = 1_000
# numeric roles: (largest plausible value, what it is)
NUMERIC_ROLES = {"employees": 10_000_000, "annual_revenue": 1e13}
TEXT_SHARE_ERROR = 0.5  # more than this share of text in a numeric role column is an error
GENERIC_NUMERIC_SHARE = 0.9  # a generic text column with at least this share of numbers is numeric
EMAIL_RE = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
PHONE_RE = re.compile(r"^\+?[\d\s().\-/]{7,24}$")
PERSONAL_NAME_RE = re.compile(
    r"^(?:e-?mail(?:[ _-]?address)?|.*[ _-]e-?mail|phone(?:[ _-]?(?:number|no))?|mobile(?:[ _-]?phone)?|telephone|"
    r"cell(?:[ _-]?phone)?|fax|(?:full|first|last|given|family|contact|person)[ _-]?name|surname|name)$",
    re.IGNORECASE,
)


class Findings:
    """Cell-level problems of one file, reported as one warning line per kind."""

    def __init__(self, source: str):
        self.source = source
        self.items: dict[str, list[tuple[str, list[int], list[object]]]] = defaultdict(list)

    def add(self, kind: str, column: str, mask: pd.Series, values: pd.Series | None = None) -> None:
        rows = file_rows(mask)
        if rows:
            shown = None if values is None else values[mask.to_numpy()].head(3).tolist()
            self.items[kind].append((column, rows, shown))

    def emit(self) -> None:
        for kind, entries in self.items.items():
            total = sum(len(rows) for _, rows, _ in entries)
            parts = [f"'{col}' {len(rows)}, {example_rows(rows, vals)}" for col, rows, vals in entries[:3]]
            more = f"; and {len(entries) - 3} more columns" if len(entries) > 3 else ""
            log.warning("%s: %d %s (%s%s)", self.source, total, kind, "; ".join(parts), more)


def prepare_leads(frame: pd.DataFrame, cfg: DataConfig, source: str, scoring: bool = False) -> pd.DataFrame:
    """Leads with role columns renamed to their role names, ids checked, dates parsed, label as 0/1,
    numeric roles as floats; cell-level problems repaired and reported (see the module docstring).

    `scoring` (predict, features): the label column is not needed and, if present, ignored (the leads being
    scored have no outcome yet). Without an id column, static data and scored leads get `row-N` ids from the
    file's row numbers (said once); dated training data needs real ids to join its events and outcomes."""
    _require_rows(frame, source)
    roles = cfg.lead_columns.model_dump()
    label_col = roles.pop("label")
    if scoring and label_col:
        frame = frame.drop(columns=[label_col], errors="ignore")
        label_col = None
    if cfg.lead_columns.lead_id not in frame.columns and (cfg.mode == "static" or scoring):
        frame = _with_row_ids(frame, source, cfg.lead_columns.lead_id)
    mapping = {col: role for role, col in roles.items() if col and col in frame.columns and col != role}
    if label_col:
        _require(frame, [label_col], source)
        mapping[label_col] = LABEL
    _require(frame, [cfg.lead_columns.lead_id], source)
    leads = frame.rename(columns=mapping)
    _check_unique_columns(leads, source, {v: k for k, v in mapping.items()})
    _check_ids(leads["lead_id"], source, cfg.lead_columns.lead_id)
    leads["lead_id"] = as_str(leads["lead_id"])
    if cfg.mode == "events":
        _require(frame, [cfg.lead_columns.created_at or "created_at"], source)
        leads["created_at"] = parse_timestamps(leads["created_at"], source, cfg.lead_columns.created_at, allow_null=False,
                                               date_format=cfg.date_format)
    elif "created_at" in leads.columns:
        leads["created_at"] = parse_timestamps(leads["created_at"], source, cfg.lead_columns.created_at, allow_null=True,
                                               date_format=cfg.date_format)
    if label_col:
        leads[LABEL] = parse_label(leads[LABEL], source, label_col)
    findings = Findings(source)
    original = {role: col for col, role in mapping.items()}
    leads = _drop_unmapped_personal(leads, cfg, source)
    _clean_numeric_roles(leads, findings, original)
    _clean_generic_numbers(leads, cfg, findings)
    _limit_text(leads, [c for c in leads.columns if c not in ("lead_id", LABEL)], findings, original)
    _blank_to_missing(leads)
    findings.emit()
    return leads


def _blank_to_missing(leads: pd.DataFrame) -> None:
    """Empty or blank text cells are missing, as a CSV reader reads them: so a Parquet export and a CSV
    export of the same data give the same features (form completeness, phone checks...)."""
    for col in leads.columns:
        if col in ("lead_id", LABEL) or not is_text(leads[col]):
            continue
        values = leads[col]
        blank = values.notna() & ~non_empty(values)
        if blank.any():
            leads[col] = values.where(~blank)


def prepare_events(frame: pd.DataFrame, cfg: DataConfig, source: str, lead_ids: pd.Series | None = None) -> pd.DataFrame:
    """Events with canonical column names; events of unknown leads are dropped with one warning."""
    cols = cfg.event_columns
    _require(frame, [cols.lead_id, cols.timestamp, cols.event_type], source)
    mapping = {c: role for role, c in cols.model_dump().items() if c and c in frame.columns}
    events = frame[list(mapping)].rename(columns=mapping)
    if len(events) == 0:
        log.warning("%s: no events (header only); engagement features will show no activity", source)
    if events["lead_id"].isna().any():
        rows = file_rows(events["lead_id"].isna())
        raise InputError(f"{source}: column '{cols.lead_id}' has {len(rows)} empty values, {example_rows(rows)}")
    events["lead_id"] = as_str(events["lead_id"])
    events["timestamp"] = parse_timestamps(events["timestamp"], source, cols.timestamp, allow_null=False,
                                           date_format=cfg.date_format)
    findings = Findings(source)
    no_type = events["event_type"].isna() | (events["event_type"].astype("string").str.strip() == "").fillna(False)
    findings.add("events without an event type count as 'unknown'", cols.event_type, no_type)
    events["event_type"] = as_str(events["event_type"].astype("string").where(~no_type, "unknown"))
    if "value" in events.columns:
        numbers = pd.to_numeric(events["value"], errors="coerce")
        text = numbers.isna() & non_empty(events["value"])
        findings.add("event values that are not numbers count as missing", cols.value or "value", text, events["value"])
        events["value"] = numbers.astype(float).where(np.isfinite(numbers.astype(float)))
    _limit_text(events, [c for c in ("event_type", "channel") if c in events.columns], findings,
                {"event_type": cols.event_type, "channel": cols.channel or "channel"})
    findings.emit()
    if lead_ids is not None:
        known = events["lead_id"].isin(pd.Index(lead_ids))
        if not known.all():
            dropped = int((~known).sum())
            log.warning("%s: %d events of %d leads not in the leads file were ignored", source, dropped,
                        events.loc[~known, "lead_id"].nunique())
            events = events.loc[known].reset_index(drop=True)
    return events


def prepare_outcomes(frame: pd.DataFrame, cfg: DataConfig, source: str) -> pd.DataFrame:
    cols = cfg.outcome_columns
    _require(frame, [cols.lead_id, cols.converted_at], source)
    outcomes = frame[[cols.lead_id, cols.converted_at]].rename(
        columns={cols.lead_id: "lead_id", cols.converted_at: "converted_at"}
    )
    _check_ids(outcomes["lead_id"], source, cols.lead_id)
    outcomes["lead_id"] = as_str(outcomes["lead_id"])
    outcomes["converted_at"] = parse_timestamps(outcomes["converted_at"], source, cols.converted_at, allow_null=True,
                                                date_format=cfg.date_format)
    return outcomes


def _with_row_ids(frame: pd.DataFrame, source: str, column: str) -> pd.DataFrame:
    """Ids `row-N` from the file's 1-based data row numbers, for files without an id column."""
    first = first_row()
    if first == 1:
        log.warning("%s: no id column '%s'; leads get ids row-1..row-N from their row numbers (set "
                    "data.lead_columns.lead_id to use a column)", source, column)
    ids = pd.Series([f"row-{i}" for i in range(first, first + len(frame))], index=frame.index, dtype=object)
    return frame.assign(**{column: ids})


def _clean_numeric_roles(leads: pd.DataFrame, findings: Findings, original: dict[str, str]) -> None:
    for role, largest in NUMERIC_ROLES.items():
        if role not in leads.columns:
            continue
        raw = leads[role]
        name = original.get(role, role)
        values = parse_amounts(raw)
        text = values.isna() & non_empty(raw)
        n_filled = int(non_empty(raw).sum())
        if n_filled and text.sum() > TEXT_SHARE_ERROR * n_filled:
            rows = file_rows(text)
            raise InputError(
                f"{findings.source}: column '{name}' should hold numbers but {len(rows)} of {n_filled} values are text "
                f"(is data.lead_columns.{role} the right column?), {example_rows(rows, raw[text].tolist())}"
            )
        findings.add("values that are not numbers count as missing", name, text, raw)
        infinite = np.isinf(values)
        findings.add("infinite values count as missing", name, infinite, raw)
        negative = (values < 0) & ~infinite
        findings.add("negative values count as missing", name, negative, raw)
        huge = (values > largest) & ~infinite
        findings.add("implausibly large values count as missing", name, huge, raw)
        leads[role] = values.where(~(infinite | negative | huge))


def _clean_generic_numbers(leads: pd.DataFrame, cfg: DataConfig, findings: Findings) -> None:
    """Generic columns: mostly numbers with a few text cells -> numeric; +/-inf -> missing."""
    skip = set(cfg.lead_columns.model_dump()) | {LABEL} | set(cfg.exclude_columns)
    for col in leads.columns:
        if col in skip:
            continue
        values = leads[col]
        if is_text(values):
            filled = non_empty(values)
            if not filled.any():
                continue
            numbers = pd.to_numeric(values.astype("string").str.strip(), errors="coerce")
            share = numbers.notna().sum() / filled.sum()
            if share < GENERIC_NUMERIC_SHARE:
                continue
            findings.add("values that are not numbers count as missing", str(col), numbers.isna() & filled, values)
            values = numbers.astype(float)
        elif pd.api.types.is_float_dtype(values.dtype):
            values = values.astype(float)
        else:
            continue
        infinite = pd.Series(np.isinf(values.to_numpy()), index=values.index)
        findings.add("infinite values count as missing", str(col), infinite, leads[col])
        leads[col] = values.where(~infinite)


def _limit_text(frame: pd.DataFrame, columns: list[str], findings: Findings, original: dict[str, str]) -> None:
    for col in columns:
        values = frame[col]
        if not is_text(values):
            continue
        text = values.astype("string")
        long = (text.str.len() > MAX_TEXT_LENGTH).fillna(False)
        if long.any():
            findings.add(f"text cells longer than {MAX_TEXT_LENGTH:,} characters were cut to {MAX_TEXT_LENGTH:,}",
                         original.get(col, col), long, values)
            frame[col] = values.where(~long, text.str.slice(0, MAX_TEXT_LENGTH))


def _drop_unmapped_personal(leads: pd.DataFrame, cfg: DataConfig, source: str) -> pd.DataFrame:
    """Unmapped columns holding e-mail addresses, phone numbers or names are never features."""
    roles = set(cfg.lead_columns.model_dump()) | {LABEL}
    excluded = set(cfg.exclude_columns) | set(cfg.personal_columns)
    found: dict[str, str] = {}
    for col in leads.columns:
        if col in roles or col in excluded or not is_text(leads[col]):
            continue
        values = leads[col].dropna().astype("string")
        at = values[values.str.contains("@", regex=False).fillna(False)]
        if len(at) and at.str.contains(EMAIL_RE).fillna(False).any():
            found[str(col)] = "e-mail addresses"
            continue
        sample = values.head(1000)
        digits = sample.str.count(r"\d")
        phone = sample.str.match(PHONE_RE).fillna(False) & digits.between(7, 15) & sample.str.contains(r"[+\s().\-/]")
        if len(sample) and phone.mean() >= 0.5:
            found[str(col)] = "phone numbers"
        elif PERSONAL_NAME_RE.match(str(col).strip()) and values.nunique() > max(20, 0.2 * len(values)):
            # a name like "Do Not Email" with yes/no values is a consent flag, not personal data
            found[str(col)] = "its name"
    if found:
        shown = ", ".join(f"'{c}' ({why})" for c, why in list(found.items())[:3]) + (" ..." if len(found) > 3 else "")
        log.warning("%s: %d columns look like personal data and are not used as features: %s; map them in "
                    "data.lead_columns or list them in data.exclude_columns", source, len(found), shown)
        leads = leads.drop(columns=list(found))
    return leads


def _check_ids(ids: pd.Series, source: str, column: str) -> None:
    empty = ids.isna() | (ids.astype("string").str.strip() == "").fillna(False)
    if empty.any():
        rows = file_rows(empty)
        raise InputError(f"{source}: column '{column}' has {len(rows)} empty ids, {example_rows(rows)}")
    dup = ids.duplicated(keep=False)
    if dup.any():
        rows = file_rows(dup)
        raise InputError(
            f"{source}: column '{column}' must be unique; {int(ids.duplicated().sum())} duplicates, "
            f"{example_rows(rows, ids[dup].tolist())}"
        )


def _check_unique_columns(frame: pd.DataFrame, source: str, original: dict[str, str]) -> None:
    dup = frame.columns[frame.columns.duplicated()]
    if len(dup):
        role = str(dup[0])
        raise InputError(f"{source}: two columns map to '{role}' (a column of that name and '{original.get(role, role)}' "
                         f"mapped to it in data.lead_columns); rename or drop one")


def _require_rows(frame: pd.DataFrame, source: str) -> None:
    if len(frame) == 0:
        cols = ", ".join(map(str, frame.columns[:5])) + (", ..." if frame.shape[1] > 5 else "")
        raise InputError(f"{source}: no data rows (only a header: {cols})")


def _require(frame: pd.DataFrame, columns: list[str], source: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        have = ", ".join(map(str, frame.columns[:8])) + (", ..." if frame.shape[1] > 8 else "")
        raise InputError(f"{source}: missing required column '{missing[0]}' (columns found: {have})")


