"""Time-based train / validation / test splits that fit the history they are given, and stratified
splits for static data.

A snapshot row (a lead open at date d) has the label "converts within the horizon after d". Its label
window can cross into a later part, which is how labels leak across a time split. Instead of an embargo
of a whole horizon between parts (over half a year of history spent before a single training row), the
labels of each part are *read as known at the start of the next part*: a lead that converted before that
cut is a known positive; one that had not converted by then counts as not converted, exactly as a model
trained on that day would have seen it. No training label then reaches into validation, whatever the
horizon, and the embargo is only as long as the config asks (`gap_days`, default 0).

Validation and test are evaluation parts: they need complete labels, so they are the last label-complete
snapshot dates (as_of + horizon <= the end of the data), sized in weeks when the history is long enough
and as shares of the label-complete dates when it is not. Validation labels are complete, so they reach
into the test period in calendar time; validation only early-stops, calibrates and selects, and the test
rows are never fitted on. `leadscore backtest` is the strict out-of-time check.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

PARTS = ("train", "val", "test")


class SplitError(ValueError):
    """The history is too short for the split; the message says what is missing."""


@dataclass(frozen=True)
class TimeSplit:
    """The snapshot dates of each part and the date each part's labels are read at (`label_cut`)."""

    train: pd.DatetimeIndex
    val: pd.DatetimeIndex
    test: pd.DatetimeIndex
    label_cut: dict[str, pd.Timestamp]
    sizing: str  # "weeks" | "shares"

    def assign(self, as_of: pd.Series) -> pd.Series:
        part = pd.Series("", index=as_of.index, dtype=object)
        for name in PARTS:
            part[as_of.isin(getattr(self, name))] = name
        return part

    def cuts(self, part: pd.Series | np.ndarray) -> np.ndarray:
        """Per row: the date its label is read at (NaT for rows outside every part)."""
        part = np.asarray(part, dtype=object)
        out = np.full(len(part), np.datetime64("NaT"), dtype="datetime64[ns]")
        for name, cut in self.label_cut.items():
            out[part == name] = np.datetime64(cut, "ns")
        return out

    def describe(self) -> dict[str, str]:
        def span(dates: pd.DatetimeIndex) -> str:
            return f"{dates.min().date()}..{dates.max().date()} ({len(dates)} dates)" if len(dates) else "none"

        out = {"sizing": self.sizing, **{p: span(getattr(self, p)) for p in PARTS}}
        out |= {f"{p}_labels_known_at": str(c.date()) for p, c in self.label_cut.items()}
        return out


def plan_time_split(dates: pd.DatetimeIndex, until: pd.Timestamp, horizon_days: int, *, test_weeks: int,
                    val_weeks: int, test_share: float, val_share: float, min_label_days: int = 7,
                    gap_days: int = 0, with_test: bool = True) -> TimeSplit:
    """Split snapshot `dates` (all before `until`, the end of the data) into train / val / test.

    Evaluation parts (val, and test unless `with_test` is false) are the last label-complete dates:
    `val_weeks` / `test_weeks` of them when those weeks leave at least as many weeks again for training,
    else `val_share` / `test_share` of the label-complete dates (at least one date each). Training is every
    date before validation whose label can be observed for at least `min_label_days` before validation
    starts (less `gap_days`). Without label-complete dates and without a test part (a backtest on a history
    shorter than the horizon), validation is the last `val_share` of the dates, its labels read at `until`.
    """
    dates = pd.DatetimeIndex(sorted(set(dates)))
    horizon = pd.Timedelta(days=horizon_days)
    complete = dates[dates + horizon <= until]
    n_eval = 2 if with_test else 1
    need_weeks = val_weeks + (test_weeks if with_test else 0)
    sizing = "weeks"
    if len(complete) and (complete.max() - complete.min()) >= pd.Timedelta(weeks=2 * need_weeks):
        test = complete[complete > complete.max() - pd.Timedelta(weeks=test_weeks)] if with_test else complete[:0]
        before = complete[complete < test.min()] if len(test) else complete
        val = before[before > before.max() - pd.Timedelta(weeks=val_weeks)]
    else:
        sizing = "shares"
        pool = complete
        if len(pool) < n_eval + 1:
            if with_test:
                raise SplitError(
                    f"{len(complete)} label-complete snapshot dates (a snapshot's {horizon_days}-day horizon must end "
                    f"before the data does, {until.date()}); the split needs at least {n_eval + 1}: a longer history, "
                    f"or a shorter training.horizon_days")
            pool = dates  # backtest on a short history: validation labels are read at `until` (censored)
        if len(pool) < n_eval + 1:
            raise SplitError(f"{len(dates)} snapshot dates before {until.date()}; the split needs at least {n_eval + 1}")
        n_test = max(1, round(test_share * len(pool))) if with_test else 0
        n_val = max(1, round(val_share * len(pool)))
        n_val = min(n_val, len(pool) - n_test - 1)
        test = pool[len(pool) - n_test:] if n_test else pool[:0]
        val = pool[len(pool) - n_test - n_val: len(pool) - n_test]
    cut_train = val.min()
    latest_train = cut_train - pd.Timedelta(days=max(min_label_days, gap_days))
    train = dates[dates <= latest_train]
    if len(train) == 0:
        raise SplitError(f"no snapshot date leaves {max(min_label_days, gap_days)} days of training labels before "
                         f"validation starts ({cut_train.date()}): a longer history is needed")
    cuts = {"train": cut_train, "val": until}
    if with_test:
        cuts["test"] = until
    return TimeSplit(train, val, test, cuts, sizing)


def stratified_split(labels: pd.Series, test_share: float, val_share: float, seed: int) -> pd.Series:
    """train / val / test labels for static data (no dates), stratified on the label."""
    idx = np.arange(len(labels))
    rest, test = train_test_split(idx, test_size=test_share, stratify=labels, random_state=seed)
    train, val = train_test_split(rest, test_size=val_share / (1 - test_share), stratify=labels.iloc[rest],
                                  random_state=seed)
    part = np.empty(len(labels), dtype=object)
    part[train], part[val], part[test] = "train", "val", "test"
    return pd.Series(part, index=labels.index)


def date_balance_weights(y: np.ndarray, as_of: np.ndarray, max_weight: float = 20.0) -> np.ndarray:
    """Row weights that give every snapshot date the same conversion rate as the whole part.

    Labels read at a cut are shorter for the dates just before it, so those dates show fewer
    conversions; on a short history calendar date is then confounded with lead age and cumulative
    engagement, and a model learns "older, more engaged leads convert less". Re-weighting each date to
    the overall rate leaves the model only the contrasts between leads open on the same date (measured on a
    6-month world: backtest AUC 0.803 -> 0.819; on the 18-month world unchanged, 0.856)."""
    y = np.asarray(y, dtype=float)
    if len(y) == 0:
        return np.ones(0)
    rate = y.mean()
    per_date = pd.Series(y).groupby(np.asarray(as_of)).transform("mean").to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(y == 1, rate / per_date, (1 - rate) / (1 - per_date))
    w = np.where(np.isfinite(w), w, 1.0)
    return np.clip(w, 1.0 / max_weight, max_weight)
