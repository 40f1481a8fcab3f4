"""The time split that fits the history, date-balanced weights and the stratified split."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.splits import SplitError, date_balance_weights, plan_time_split, stratified_split


def _weekly(n: int, start: str = "2025-01-06") -> pd.DatetimeIndex:
    return pd.date_range(start, periods=n, freq="7D")


def _plan(dates: pd.DatetimeIndex, until: pd.Timestamp, **kw: object) -> object:
    args = dict(test_weeks=8, val_weeks=8, test_share=0.2, val_share=0.2, min_label_days=7)
    return plan_time_split(dates, until, 90, **(args | kw))


@pytest.mark.parametrize("weeks", [80, 40, 20, 16])
def test_evaluation_parts_are_label_complete_and_train_labels_stop_at_validation(weeks: int) -> None:
    dates = _weekly(weeks)
    until = dates.max() + pd.Timedelta(days=7)
    split = _plan(dates, until)
    horizon = pd.Timedelta(days=90)
    assert len(split.train) and len(split.val) and len(split.test)
    # validation and test are the last label-complete dates, test after validation, in that order
    assert (split.test + horizon <= until).all() and (split.val + horizon <= until).all()
    assert split.test.max() == dates[dates + horizon <= until].max()
    assert split.val.max() < split.test.min() and split.train.max() < split.val.min()
    # train labels are read when validation starts, at least min_label_days after the last train date
    assert split.label_cut["train"] == split.val.min()
    assert split.val.min() - split.train.max() >= pd.Timedelta(days=7)
    assert split.label_cut["val"] == split.label_cut["test"] == until
    # no date lost to an embargo before validation: every date before it is training
    assert split.train.equals(dates[dates <= split.val.min() - pd.Timedelta(days=7)])


def test_weeks_when_the_history_holds_them_shares_when_not() -> None:
    long = _weekly(80)
    split = _plan(long, long.max() + pd.Timedelta(days=7))
    assert split.sizing == "weeks" and len(split.test) == 8 and len(split.val) == 8
    short = _weekly(26)  # six months: 13 label-complete weeks, fewer than 2 x (8 + 8)
    split = _plan(short, short.max() + pd.Timedelta(days=7))
    complete = short[short + pd.Timedelta(days=90) <= short.max() + pd.Timedelta(days=7)]
    assert split.sizing == "shares"
    assert len(split.test) == round(0.2 * len(complete)) and len(split.val) == round(0.2 * len(complete))
    assert len(split.train) >= 5


def test_label_cuts_per_row_and_description() -> None:
    dates = _weekly(30)
    split = _plan(dates, dates.max() + pd.Timedelta(days=7))
    part = split.assign(pd.Series(dates))
    cuts = split.cuts(part)
    assert (cuts[(part == "train").to_numpy()] == np.datetime64(split.val.min(), "ns")).all()
    assert np.isnat(cuts[(part == "").to_numpy()]).all()
    described = split.describe()
    assert described["sizing"] == "shares" and described["train_labels_known_at"] == str(split.val.min().date())


def test_too_short_a_history_is_refused_with_the_reason() -> None:
    dates = _weekly(14)  # 3 months of snapshots: hardly any 90-day label is complete
    with pytest.raises(SplitError, match="label-complete snapshot dates"):
        _plan(dates, dates.max() + pd.Timedelta(days=1))


def test_backtest_split_on_a_history_shorter_than_the_horizon() -> None:
    dates = _weekly(8)
    until = dates.max() + pd.Timedelta(days=7)
    split = _plan(dates, until, with_test=False)
    assert len(split.test) == 0 and len(split.val) >= 1 and len(split.train) >= 1
    assert split.label_cut["val"] == until and "test" not in split.label_cut


def test_date_balance_weights_equalise_each_dates_rate() -> None:
    rng = np.random.default_rng(0)
    as_of = np.repeat(np.arange(5), 400)
    y = (rng.random(len(as_of)) < np.repeat([0.2, 0.15, 0.1, 0.05, 0.02], 400)).astype(int)
    w = date_balance_weights(y, as_of)
    weighted = pd.Series(w * y).groupby(as_of).sum() / pd.Series(w).groupby(as_of).sum()
    assert np.allclose(weighted, y.mean(), atol=1e-9)
    assert w.max() <= 20 and w.min() >= 1 / 20


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
