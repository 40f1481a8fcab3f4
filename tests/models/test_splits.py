"""Time split with an embargo and the stratified split."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.splits import stratified_split, time_split


def _weekly(n: int, start: str = "2025-01-06") -> pd.DatetimeIndex:
    return pd.date_range(start, periods=n, freq="7D")


@pytest.mark.parametrize("gap_days", [0, 7, 30, 90])
@pytest.mark.parametrize("dates", [_weekly(80), pd.date_range("2025-01-01", periods=500, freq="D")],
                         ids=["weekly", "daily"])
def test_time_split_embargo(dates: pd.DatetimeIndex, gap_days: int) -> None:
    split = time_split(dates, horizon_days=90, test_weeks=8, val_weeks=8, gap_days=gap_days)
    part = split.assign(pd.Series(dates))
    train, val, test = (pd.DatetimeIndex(dates[(part == p).to_numpy()]) for p in ("train", "val", "test"))
    assert len(train) and len(val) and len(test)
    gap = pd.Timedelta(days=gap_days)
    # every validation snapshot is at least gap_days after every train snapshot, same for test vs validation
    assert val.min() - train.max() >= gap
    assert test.min() - val.max() >= gap
    assert val.min() > train.max() and test.min() > val.max()
    # the test part is the last test_weeks weeks, ending at the last date
    assert test.max() == dates.max()
    assert test.min() > dates.max() - pd.Timedelta(weeks=8)
    assert (test.max() - test.min()) >= pd.Timedelta(weeks=8) - pd.Timedelta(days=7)
    # dates are either assigned or fall in an embargo
    unassigned = pd.DatetimeIndex(dates[(part == "").to_numpy()])
    for d in unassigned:
        assert (split.train_end < d < split.val_start) or (split.val_end < d < split.test_start)


def test_time_split_weekly_counts() -> None:
    dates = _weekly(80)
    split = time_split(dates, horizon_days=90, test_weeks=8, val_weeks=8, gap_days=90)
    part = split.assign(pd.Series(dates))
    assert (part == "test").sum() == 8
    assert (part == "val").sum() == 8
    # label windows of train snapshots end before validation starts
    train = dates[(part == "train").to_numpy()]
    assert (train + pd.Timedelta(days=90)).max() <= split.val_start
    assert set(split.describe()) == {"train_end", "val_start", "val_end", "test_start", "test_end"}


def test_time_split_needs_dates() -> None:
    with pytest.raises(ValueError):
        time_split(pd.DatetimeIndex([]), 90, 8, 8, 90)


@pytest.mark.parametrize("seed", [0, 1])
def test_stratified_split_keeps_class_shares(seed: int) -> None:
    rng = np.random.default_rng(seed)
    labels = pd.Series((rng.random(2000) < 0.12).astype(int), index=rng.permutation(5000)[:2000])
    part = stratified_split(labels, test_share=0.2, val_share=0.2, seed=seed)
    assert part.index.equals(labels.index)
    assert set(part.unique()) == {"train", "val", "test"}
    overall = labels.mean()
    for p, share in (("train", 0.6), ("val", 0.2), ("test", 0.2)):
        rows = labels[part == p]
        assert abs(len(rows) / len(labels) - share) <= 0.002
        assert abs(rows.mean() - overall) <= 0.005, p
    again = stratified_split(labels, test_share=0.2, val_share=0.2, seed=seed)
    pd.testing.assert_series_equal(part, again)
