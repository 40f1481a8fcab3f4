"""Snapshot dates and the open-lead snapshot rows with their labels."""
from __future__ import annotations

import pandas as pd

from features.snapshots import open_lead_snapshots, snapshot_dates

D = pd.Timestamp


def test_snapshot_dates_weekly_from_one_period_after_first() -> None:
    dates = snapshot_dates(D("2025-01-01 10:35"), D("2025-02-05 00:00"), 7)
    assert list(dates) == [D("2025-01-08"), D("2025-01-15"), D("2025-01-22"), D("2025-01-29"), D("2025-02-05")]
    assert all(d == d.normalize() for d in dates)


def test_snapshot_dates_empty_when_too_short() -> None:
    assert len(snapshot_dates(D("2025-01-01"), D("2025-01-07 23:00"), 7)) == 0


def _rows() -> tuple[pd.DataFrame, pd.DataFrame]:
    leads = pd.DataFrame({
        "lead_id": ["created_at_as_of", "open_no_conv", "conv_at_as_of", "conv_before", "conv_at_horizon",
                    "conv_inside", "too_old", "exactly_max_age", "no_outcome_row"],
        "created_at": [D("2025-03-01"), D("2025-02-01"), D("2025-02-01"), D("2025-02-01"), D("2025-02-01"),
                       D("2025-02-01"), D("2024-12-01"), D("2025-01-30"), D("2025-02-15")],
    })
    outcomes = pd.DataFrame({
        "lead_id": leads["lead_id"].iloc[:-1].to_numpy(),
        "converted_at": [pd.NaT, pd.NaT, D("2025-03-01"), D("2025-02-28 23:59"), D("2025-03-11"),
                         D("2025-03-10 23:59"), pd.NaT, pd.NaT],
    })
    return leads, outcomes


def test_open_lead_snapshots_rules() -> None:
    leads, outcomes = _rows()
    as_of = D("2025-03-01")
    snaps = open_lead_snapshots(leads, outcomes, pd.DatetimeIndex([as_of]), horizon_days=10, max_lead_age_days=30)
    got = dict(zip(snaps["lead_id"], snaps["label"]))
    # not open: created exactly at as_of, converted before as_of, older than 30 days
    assert got == {
        "open_no_conv": 0,
        "conv_at_as_of": 1,        # converts in [as_of, as_of + 10d)
        "conv_at_horizon": 0,      # converts exactly at as_of + 10d: outside the horizon
        "conv_inside": 1,
        "exactly_max_age": 0,      # created exactly 30 days before: still open
        "no_outcome_row": 0,
    }
    assert (snaps["as_of"] == as_of).all()
    assert list(snaps.columns) == ["lead_id", "as_of", "label"]


def test_open_lead_snapshots_several_dates() -> None:
    leads, outcomes = _rows()
    dates = pd.DatetimeIndex([D("2025-02-10"), D("2025-03-01")])
    snaps = open_lead_snapshots(leads, outcomes, dates, horizon_days=30, max_lead_age_days=365)
    first = snaps[snaps["as_of"] == dates[0]]
    # on Feb 10 the leads created Feb 1 and earlier are open; all of them with a conversion before Mar 12 are 1
    assert set(first["lead_id"]) == {"open_no_conv", "conv_at_as_of", "conv_before", "conv_at_horizon", "conv_inside",
                                     "too_old", "exactly_max_age"}
    assert dict(zip(first["lead_id"], first["label"]))["conv_before"] == 1
    assert dict(zip(first["lead_id"], first["label"]))["conv_at_horizon"] == 1
    second = snaps[snaps["as_of"] == dates[1]]
    assert "conv_before" not in set(second["lead_id"])


def test_open_lead_snapshots_no_dates() -> None:
    leads, outcomes = _rows()
    snaps = open_lead_snapshots(leads, outcomes, pd.DatetimeIndex([]), 10, 30)
    assert len(snaps) == 0 and list(snaps.columns) == ["lead_id", "as_of", "label"]
