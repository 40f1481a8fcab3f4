"""Input contracts (SPEC 2): map the user's columns to roles, check them, and fail in one line."""
from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from pipeline.config import DataConfig
from pipeline.errors import InputError, example_rows

log = logging.getLogger("leadscore")

LABEL = "label"
TRUE_WORDS = {"1", "true", "yes", "y", "converted", "won"}
FALSE_WORDS = {"0", "false", "no", "n", "not converted", "lost"}


def prepare_leads(frame: pd.DataFrame, cfg: DataConfig, source: str) -> pd.DataFrame:
    """Leads with role columns renamed to their role names, ids checked, dates parsed, label as 0/1."""
    roles = cfg.lead_columns.model_dump()
    label_col = roles.pop("label")
    mapping = {col: role for role, col in roles.items() if col and col in frame.columns and col != role}
    if label_col:
        _require(frame, [label_col], source)
        mapping[label_col] = LABEL
    _require(frame, [cfg.lead_columns.lead_id], source)
    leads = frame.rename(columns=mapping)
    _check_ids(leads["lead_id"], source, cfg.lead_columns.lead_id)
    leads["lead_id"] = leads["lead_id"].astype(str)
    if cfg.mode == "events":
        _require(frame, [cfg.lead_columns.created_at or "created_at"], source)
        leads["created_at"] = parse_timestamps(leads["created_at"], source, cfg.lead_columns.created_at, allow_null=False)
    elif "created_at" in leads.columns:
        leads["created_at"] = parse_timestamps(leads["created_at"], source, cfg.lead_columns.created_at, allow_null=True)
    if label_col:
        leads[LABEL] = parse_label(leads[LABEL], source, label_col)
    return leads


def prepare_events(frame: pd.DataFrame, cfg: DataConfig, source: str, lead_ids: pd.Series | None = None) -> pd.DataFrame:
    """Events with canonical column names; events of unknown leads are dropped with one warning."""
    cols = cfg.event_columns
    _require(frame, [cols.lead_id, cols.timestamp, cols.event_type], source)
    mapping = {c: role for role, c in cols.model_dump().items() if c and c in frame.columns}
    events = frame[list(mapping)].rename(columns=mapping)
    if events["lead_id"].isna().any():
        rows = _rows(events["lead_id"].isna())
        raise InputError(f"{source}: column '{cols.lead_id}' has {len(rows)} empty values, {example_rows(rows)}")
    events["lead_id"] = _as_str(events["lead_id"])
    events["timestamp"] = parse_timestamps(events["timestamp"], source, cols.timestamp, allow_null=False)
    events["event_type"] = _as_str(events["event_type"].fillna("unknown"))
    if "value" in events.columns:
        events["value"] = pd.to_numeric(events["value"], errors="coerce")
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
    outcomes["lead_id"] = outcomes["lead_id"].astype(str)
    outcomes["converted_at"] = parse_timestamps(outcomes["converted_at"], source, cols.converted_at, allow_null=True)
    return outcomes


def parse_timestamps(values: pd.Series, source: str, column: str | None, allow_null: bool) -> pd.Series:
    """Datetimes as tz-naive UTC; unparseable (or, if not allowed, empty) cells are an error."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        parsed = values.dt.tz_convert("UTC").dt.tz_localize(None)
    elif pd.api.types.is_datetime64_any_dtype(values.dtype):
        parsed = values
    else:
        text = values.astype("string").str.strip().replace("", pd.NA)
        parsed = pd.to_datetime(text, errors="coerce", utc=True, format="ISO8601").dt.tz_localize(None)
        bad = parsed.isna() & text.notna()
        if bad.any():
            rows = _rows(bad)
            raise InputError(
                f"{source}: column '{column}' has {len(rows)} values that are not ISO dates, "
                f"{example_rows(rows, text[bad].tolist())}"
            )
    parsed = parsed.astype("datetime64[ns]")
    if not allow_null and parsed.isna().any():
        rows = _rows(parsed.isna())
        raise InputError(f"{source}: column '{column}' has {len(rows)} empty dates, {example_rows(rows)}")
    return parsed


def parse_label(values: pd.Series, source: str, column: str) -> pd.Series:
    """A 0/1 label from numbers, booleans or yes/no words."""
    text = values.astype("string").str.strip().str.lower()
    numeric = pd.to_numeric(text, errors="coerce")
    label = pd.Series(np.nan, index=values.index)
    label[text.isin(TRUE_WORDS) | (numeric == 1)] = 1
    label[text.isin(FALSE_WORDS) | (numeric == 0)] = 0
    bad = label.isna()
    if bad.any():
        rows = _rows(bad)
        raise InputError(
            f"{source}: label column '{column}' must be 0/1 (or yes/no); {len(rows)} other values, "
            f"{example_rows(rows, values[bad].tolist())}"
        )
    return label.astype(np.int8)


def _check_ids(ids: pd.Series, source: str, column: str) -> None:
    if ids.isna().any():
        rows = _rows(ids.isna())
        raise InputError(f"{source}: column '{column}' has {len(rows)} empty ids, {example_rows(rows)}")
    dup = ids.duplicated(keep=False)
    if dup.any():
        rows = _rows(dup)
        raise InputError(
            f"{source}: column '{column}' must be unique; {int(ids.duplicated().sum())} duplicates, "
            f"{example_rows(rows, ids[dup].tolist())}"
        )


def _require(frame: pd.DataFrame, columns: list[str], source: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        have = ", ".join(map(str, frame.columns[:8])) + (", ..." if frame.shape[1] > 8 else "")
        raise InputError(f"{source}: missing required column '{missing[0]}' (columns found: {have})")


def _rows(mask: pd.Series) -> list[int]:
    """1-based data row numbers where mask is true."""
    return (np.flatnonzero(mask.to_numpy()) + 1).tolist()


def _as_str(values: pd.Series) -> pd.Series:
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.rename_categories([str(c) for c in values.cat.categories]).astype(str)
    return values.astype(str)
