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
) -> pd.DataFrame:
    """Rows (lead_id, as_of, label) for leads open at each date.

    Open: created before as_of, not converted before as_of, at most `max_lead_age_days` old.
    label = 1 if the lead converts in [as_of, as_of + horizon). Only outcomes are used for the label,
    never for features.
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
        return pd.DataFrame({"lead_id": pd.Series(dtype=str), "as_of": pd.Series(dtype="datetime64[ns]"),
                             "label": pd.Series(dtype=np.int8)})
    snaps = pd.concat(parts, ignore_index=True)
    snaps.insert(0, "lead_id", frame["lead_id"].to_numpy()[snaps.pop("row").to_numpy()])
    return snaps
