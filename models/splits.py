"""Time-based train / validation / test splits with an embargo, and stratified splits for static data."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split


@dataclass(frozen=True)
class TimeSplit:
    """Snapshot-date boundaries. Labels of the train rows are all known before validation starts,
    and those of validation rows before the test period starts (embargo = `gap`)."""

    train_end: pd.Timestamp  # last train snapshot (inclusive)
    val_start: pd.Timestamp
    val_end: pd.Timestamp
    test_start: pd.Timestamp
    test_end: pd.Timestamp

    def assign(self, as_of: pd.Series) -> pd.Series:
        part = pd.Series("", index=as_of.index, dtype=object)
        part[as_of <= self.train_end] = "train"
        part[(as_of >= self.val_start) & (as_of <= self.val_end)] = "val"
        part[(as_of >= self.test_start) & (as_of <= self.test_end)] = "test"
        return part

    def describe(self) -> dict[str, str]:
        return {k: str(getattr(self, k).date()) for k in self.__dataclass_fields__}


def time_split(dates: pd.DatetimeIndex, horizon_days: int, test_weeks: int, val_weeks: int, gap_days: int) -> TimeSplit:
    """Split label-complete snapshot dates: test = the last `test_weeks` of weeks, validation the
    `val_weeks` before it, each separated by `gap_days` so no label window crosses into the next part."""
    if len(dates) == 0:
        raise ValueError("no label-complete snapshot dates")
    test_end = dates.max()
    test_start = test_end - pd.Timedelta(weeks=test_weeks) + pd.Timedelta(days=1)
    val_end = test_start - pd.Timedelta(days=max(gap_days, 1))
    val_start = val_end - pd.Timedelta(weeks=val_weeks) + pd.Timedelta(days=1)
    train_end = val_start - pd.Timedelta(days=max(gap_days, 1))
    return TimeSplit(train_end, val_start, val_end, test_start, test_end)


def stratified_split(labels: pd.Series, test_share: float, val_share: float, seed: int) -> pd.Series:
    """train / val / test labels for static data (no dates), stratified on the label."""
    idx = np.arange(len(labels))
    rest, test = train_test_split(idx, test_size=test_share, stratify=labels, random_state=seed)
    train, val = train_test_split(rest, test_size=val_share / (1 - test_share), stratify=labels.iloc[rest], random_state=seed)
    part = np.empty(len(labels), dtype=object)
    part[train], part[val], part[test] = "train", "val", "test"
    return pd.Series(part, index=labels.index)
