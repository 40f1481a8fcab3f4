"""Point-in-time training examples: one row per (lead open at a weekly snapshot date, snapshot)."""
from __future__ import annotations

import numpy as np
import pandas as pd


def snapshot_dates(first: pd.Timestamp, last: pd.Timestamp, every_days: int) -> pd.DatetimeIndex:
    """Snapshot dates at midnight every `every_days`, from one period after `first` up to `last`."""
    start = pd.Timestamp(first).normalize() + pd.Timedelta(days=every_days)
    if start > last:
        return pd.DatetimeIndex([])
    return pd.date_range(start, pd.Timestamp(last), freq=f"{every_days}D")


def open_lead_snapshots(
    leads: pd.DataFrame,
    outcomes: pd.DataFrame,
    dates: pd.DatetimeIndex,
    horizon_days: int,
    max_lead_age_days: int,
    with_conversion: bool = False,
) -> pd.DataFrame:
    """Rows (lead_id, as_of, label) for leads open at each date.

    Open: created before as_of, not converted before as_of, at most `max_lead_age_days` old.
    label = 1 if the lead converts in [as_of, as_of + horizon). Only outcomes are used for the label,
    never for features. `with_conversion` adds the lead's `converted_at`, so a caller can read the label at
    an earlier date (`label_read_at`).
    """
    frame = leads[["lead_id", "created_at"]].merge(outcomes[["lead_id", "converted_at"]], on="lead_id", how="left")
    created = frame["created_at"].to_numpy("datetime64[ns]")
    converted = frame["converted_at"].to_numpy("datetime64[ns]")
    horizon = np.timedelta64(horizon_days, "D")
    max_age = np.timedelta64(max_lead_age_days, "D")
    parts = []
    for as_of in dates.to_numpy("datetime64[ns]"):
        is_open = (created < as_of) & (created >= as_of - max_age) & (np.isnat(converted) | (converted >= as_of))
        rows = np.flatnonzero(is_open)
        label = (~np.isnat(converted[rows])) & (converted[rows] < as_of + horizon)
        parts.append(pd.DataFrame({"row": rows, "as_of": as_of, "label": label.astype(np.int8)}))
    if not parts:
        empty = pd.DataFrame({"lead_id": pd.Series(dtype=str), "as_of": pd.Series(dtype="datetime64[ns]"),
                              "label": pd.Series(dtype=np.int8)})
        return empty.assign(converted_at=pd.Series(dtype="datetime64[ns]")) if with_conversion else empty
    snaps = pd.concat(parts, ignore_index=True)
    rows = snaps.pop("row").to_numpy()
    snaps.insert(0, "lead_id", frame["lead_id"].to_numpy()[rows])
    if with_conversion:
        snaps["converted_at"] = converted[rows]
    return snaps


def label_read_at(as_of: np.ndarray, converted_at: np.ndarray, horizon_days: int, cut: np.ndarray) -> np.ndarray:
    """The label "converts within the horizon after as_of" as it was known at `cut` (per row): a conversion
    before the cut is a known positive; no conversion by then reads as not converted."""
    as_of = np.asarray(as_of, dtype="datetime64[ns]")
    converted = np.asarray(converted_at, dtype="datetime64[ns]")
    end = np.minimum(as_of + np.timedelta64(horizon_days, "D"), np.asarray(cut, dtype="datetime64[ns]"))
    return ((~np.isnat(converted)) & (converted >= as_of) & (converted < end)).astype(np.int8)
