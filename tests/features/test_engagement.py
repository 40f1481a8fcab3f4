"""Engagement features: exact arithmetic on a hand-made event log, and the point-in-time property."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.engagement import EngagementFeatures
from features.event_log import to_days
from features.wording import event_phrase

T = pd.Timestamp("2025-03-01 00:00:00")
T2 = T + pd.Timedelta(days=30)
HALF_LIFE = 14.0
TYPES = ["page_view", "pricing_page_view", "email_open", "email_click", "unsubscribe"]

# Lead A: (age in days before T, event type). Negative age = after T.
A_EVENTS = [
    (7.0, "page_view"),            # exactly T - 7 days: inside the 7-day window
    (2.5, "pricing_page_view"),    # T-3 12:00
    (10.0, "email_open"),          # T-10 00:00
    (40.0, "email_open"),
    (9.5, "email_click"),          # T-10 12:00 (same calendar day as the open above)
    (1.0, "weird_event"),          # type never configured: totals only
    (3.0, "unsubscribe"),          # T-3 00:00
    (2.25, "blog_view"),           # T-3 18:00, not configured either -> 3 events on day T-3
    (95.0, "page_view"),           # outside every window but in "all"
    (0.0, "page_view"),            # exactly at T: not before T, never counted as of T
    (-1.0, "page_view"),           # after T
]


def _ts(age_days: float) -> pd.Timestamp:
    return T - pd.Timedelta(days=age_days)


def _events() -> pd.DataFrame:
    rows = [("A", _ts(age), typ) for age, typ in A_EVENTS]
    rows.append(("C", T + pd.Timedelta(days=5), "page_view"))  # lead C: only events after T
    rows.append(("D", T - pd.Timedelta(days=1), "email_open"))  # another lead, must not leak into A
    rows.append(("D", T - pd.Timedelta(days=2), "demo_request"))
    return pd.DataFrame(rows, columns=["lead_id", "timestamp", "event_type"])


@pytest.fixture()
def fitted() -> EngagementFeatures:
    return EngagementFeatures(windows_days=(7, 30, 90), half_life_days=HALF_LIFE, event_types=TYPES).fit(_events())


@pytest.fixture()
def table(fitted: EngagementFeatures) -> pd.DataFrame:
    lead_ids = pd.Series(["A", "B", "C", "A"])
    as_of = pd.Series([T, T, T, T2])
    return fitted.transform(_events(), lead_ids, as_of)


def test_feature_names_have_own_columns_only_for_configured_types(fitted: EngagementFeatures) -> None:
    names = list(fitted.feature_names_out_)
    for typ in TYPES:
        for w in ("7", "30", "90", "all"):
            assert f"n_{typ}_{w}" in names
    assert not any("weird_event" in n or "blog_view" in n or "demo_request" in n for n in names)
    assert len(names) == len(set(names))
    assert list(fitted.get_feature_names_out()) == names
    assert set(fitted.feature_info()) == set(names)


def test_per_type_counts_per_window(table: pd.DataFrame) -> None:
    a = table.iloc[0]
    # (7, 30, 90, all), counted by hand from A_EVENTS (ages in (0, w]).
    expected = {
        "page_view": (1, 1, 1, 2),          # age 7 (window boundary) and 95; ages 0 and -1 excluded
        "pricing_page_view": (1, 1, 1, 1),
        "email_open": (0, 1, 2, 2),
        "email_click": (0, 1, 1, 1),
        "unsubscribe": (1, 1, 1, 1),
    }
    for typ, counts in expected.items():
        got = tuple(a[f"n_{typ}_{w}"] for w in ("7", "30", "90", "all"))
        assert got == counts, typ


def test_totals_include_unconfigured_types(table: pd.DataFrame) -> None:
    a = table.iloc[0]
    # all events with age > 0: 7, 2.5, 10, 40, 9.5, 1, 3, 2.25, 95
    assert (a["n_events_7"], a["n_events_30"], a["n_events_90"], a["n_events_all"]) == (5, 7, 8, 9)
    assert (a["n_high_intent_7"], a["n_high_intent_30"], a["n_high_intent_90"], a["n_high_intent_all"]) == (1, 1, 1, 1)
    assert a["n_negative_all"] == 1


def test_recency_activity_and_trend(table: pd.DataFrame) -> None:
    a = table.iloc[0]
    assert a["days_since_last_event"] == pytest.approx(1.0)
    assert a["days_since_last_high_intent"] == pytest.approx(2.5)
    assert a["days_since_first_event"] == pytest.approx(95.0)
    # calendar days with activity in [T-30, T): T-1, T-3, T-7, T-10
    assert a["active_days_30"] == 4
    # day T-3 holds unsubscribe (00:00), blog_view (18:00) and pricing (12:00)
    assert a["max_events_one_day"] == 3
    # 5 events in the last 7 days, 2 (ages 9.5, 10) in the 30 days before: (5 + 1) / (2 * 7 / 30 + 1)
    assert a["trend_7_vs_30"] == pytest.approx(6.0 / (1.0 + 14.0 / 30.0))


def test_decayed_counts(table: pd.DataFrame) -> None:
    a = table.iloc[0]
    ages = [7.0, 2.5, 10.0, 40.0, 9.5, 1.0, 3.0, 2.25, 95.0]
    assert a["decayed_events"] == pytest.approx(sum(0.5 ** (x / HALF_LIFE) for x in ages), rel=1e-9)
    assert a["decayed_high_intent"] == pytest.approx(0.5 ** (2.5 / HALF_LIFE), rel=1e-9)


def test_decay_halves_every_half_life() -> None:
    events = pd.DataFrame({"lead_id": ["X", "Y"], "timestamp": [T - pd.Timedelta(days=10), T - pd.Timedelta(days=20)],
                           "event_type": ["page_view", "page_view"]})
    eng = EngagementFeatures(half_life_days=10.0, event_types=["page_view"]).fit(events)
    out = eng.transform(events, pd.Series(["X", "Y"]), T)
    assert out["decayed_events"].tolist() == pytest.approx([0.5, 0.25], rel=1e-12)


def test_click_to_open_and_unsubscribed(table: pd.DataFrame) -> None:
    a = table.iloc[0]
    assert a["email_click_to_open"] == pytest.approx(0.5)  # 1 click / 2 opens
    assert a["unsubscribed"] == 1.0


def test_second_as_of_in_same_call(table: pd.DataFrame) -> None:
    """Row 3 is lead A as of T + 30 days: the events at T and T+1 now count, ages shift by 30."""
    a2 = table.iloc[3]
    assert a2["n_events_all"] == 11
    assert a2["n_page_view_30"] == 2  # the event at T is exactly T2 - 30 days: inside
    assert a2["n_page_view_7"] == 0
    assert a2["n_events_30"] == 2
    assert a2["n_events_90"] == 10  # all but the age-125 event
    assert a2["days_since_last_event"] == pytest.approx(29.0)
    assert a2["days_since_first_event"] == pytest.approx(125.0)
    assert a2["unsubscribed"] == 1.0


@pytest.mark.parametrize("row", [1, 2], ids=["no_events_at_all", "only_future_events"])
def test_lead_without_past_events(table: pd.DataFrame, row: int) -> None:
    r = table.iloc[row]
    counts = [c for c in table.columns if c.startswith("n_")] + ["active_days_30", "max_events_one_day",
                                                                  "decayed_events", "decayed_high_intent", "unsubscribed"]
    assert (r[counts] == 0).all()
    for c in ("days_since_last_event", "days_since_last_high_intent", "days_since_first_event", "email_click_to_open"):
        assert np.isnan(r[c]), c
    assert r["trend_7_vs_30"] == 1.0


def test_window_boundaries_single_events() -> None:
    events = pd.DataFrame({
        "lead_id": ["P", "Q", "R"],
        "timestamp": [T - pd.Timedelta(days=7), T, T - pd.Timedelta(days=7, seconds=1)],
        "event_type": ["page_view"] * 3,
    })
    eng = EngagementFeatures(windows_days=(7,), event_types=["page_view"]).fit(events)
    out = eng.transform(events, pd.Series(["P", "Q", "R"]), T)
    assert out["n_events_7"].tolist() == [1.0, 0.0, 0.0]
    assert out["n_events_all"].tolist() == [1.0, 0.0, 1.0]


def test_scalar_as_of_equals_series_as_of(fitted: EngagementFeatures) -> None:
    ids = pd.Series(["A", "B", "C", "D"])
    one = fitted.transform(_events(), ids, T)
    many = fitted.transform(_events(), ids, pd.Series([T] * 4))
    pd.testing.assert_frame_equal(one, many)


def test_rows_keep_input_order_with_mixed_as_of(fitted: EngagementFeatures) -> None:
    ids = pd.Series(["A", "A", "A"])
    mixed = fitted.transform(_events(), ids, pd.Series([T2, T, T2]))
    single_t = fitted.transform(_events(), pd.Series(["A"]), T)
    single_t2 = fitted.transform(_events(), pd.Series(["A"]), T2)
    pd.testing.assert_series_equal(mixed.iloc[1], single_t.iloc[0], check_names=False)
    pd.testing.assert_series_equal(mixed.iloc[0], single_t2.iloc[0], check_names=False)
    pd.testing.assert_series_equal(mixed.iloc[2], single_t2.iloc[0], check_names=False)


def test_fit_learns_types_by_min_count() -> None:
    events = pd.DataFrame({"lead_id": ["A"] * 6, "timestamp": [T] * 6,
                           "event_type": ["page_view"] * 3 + ["email_open"] * 2 + ["demo_request"]})
    eng = EngagementFeatures(min_type_count=2).fit(events)
    assert eng.event_types_ == ["email_open", "page_view"]


def test_high_intent_type_without_own_column_still_counts() -> None:
    """Types without own columns 'still count as high-intent / negative by name' (EventIndex):
    a demo_request must count in n_high_intent_* like it does in days_since_last_high_intent."""
    events = pd.DataFrame({"lead_id": ["A", "A"], "timestamp": [T - pd.Timedelta(days=2), T - pd.Timedelta(days=5)],
                           "event_type": ["demo_request", "page_view"]})
    eng = EngagementFeatures(event_types=["page_view"]).fit(events)
    out = eng.transform(events, pd.Series(["A"]), T).iloc[0]
    assert out["days_since_last_high_intent"] == pytest.approx(2.0)
    assert out["decayed_high_intent"] == pytest.approx(0.5 ** (2.0 / 14.0))
    assert out["n_high_intent_all"] == 1
    assert out["n_high_intent_7"] == 1


def test_unsubscribe_without_own_column_still_flags() -> None:
    """A lead that unsubscribed is `unsubscribed` and has a negative signal even when unsubscribe is too
    rare in the training events to get its own columns (min_type_count)."""
    events = pd.DataFrame({"lead_id": ["A"] * 3 + ["B"] * 30,
                           "timestamp": [T - pd.Timedelta(days=3)] * 3 + [T - pd.Timedelta(days=1)] * 30,
                           "event_type": ["unsubscribe", "page_view", "page_view"] + ["page_view"] * 30})
    eng = EngagementFeatures(min_type_count=20).fit(events)
    assert "n_unsubscribe_all" not in eng.feature_names_out_
    out = eng.transform(events, pd.Series(["A"]), T).iloc[0]
    assert out["n_events_all"] == 3
    assert out["n_negative_all"] == 1
    assert out["unsubscribed"] == 1.0


def test_labels_are_human_text(fitted: EngagementFeatures) -> None:
    info = fitted.feature_info()
    assert info["n_pricing_page_view_7"].describe(3.0) == "Visited the pricing page 3 times in the last 7 days"
    assert info["n_events_all"].describe(12.0) == "12 activities in total"
    assert info["unsubscribed"].kind == "flag"
    assert info["unsubscribed"].describe(1.0) == "Unsubscribed from emails"
    assert info["unsubscribed"].describe(0.0) == "Still subscribed to emails"
    assert info["days_since_last_event"].describe(4.7) == "Last activity 4 days ago"
    assert info["days_since_last_event"].describe(0.2) == "Last activity today"
    assert event_phrase("some_new_type") == "Some new type events: {n}"
    for meta in info.values():
        assert meta.group == "engagement"
        assert "{value" in meta.label or meta.kind == "flag"


def test_to_days_handles_nat() -> None:
    days = to_days(pd.Series([pd.Timestamp("1970-01-02 12:00"), pd.NaT]))
    assert days[0] == pytest.approx(1.5)
    assert np.isnan(days[1])


# ------------------------------------------------------------------------------------------------
# Point in time: events at or after a row's as_of never change that row
# ------------------------------------------------------------------------------------------------
ALL_TYPES = ["page_view", "pricing_page_view", "email_open", "email_click", "unsubscribe", "demo_request",
             "careers_page_view", "blog_view", "odd_type"]


def _random_log(rng: np.random.Generator, leads: list[str], n: int, lo: pd.Timestamp, hi: pd.Timestamp) -> pd.DataFrame:
    span = (hi - lo).value
    return pd.DataFrame({
        "lead_id": rng.choice(leads, n),
        "timestamp": (lo + pd.to_timedelta(rng.integers(0, span, n), unit="ns")).astype("datetime64[ns]"),
        "event_type": rng.choice(ALL_TYPES, n),
    })


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_point_in_time_future_events_change_nothing(seed: int) -> None:
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2025-01-01")
    leads = [f"L{i:02d}" for i in range(25)]
    base = _random_log(rng, leads, 600, start, start + pd.Timedelta(days=200))
    # rows: several as_of values per call, some leads twice, some as_of exactly on an event time
    row_leads = rng.choice(leads, 40)
    as_of = (start + pd.to_timedelta(rng.integers(20, 200, 40), unit="D")
             + pd.to_timedelta(rng.integers(0, 86_400, 40), unit="s"))
    as_of = pd.Series(as_of).astype("datetime64[ns]")
    as_of.iloc[:5] = base["timestamp"].iloc[:5].to_numpy()
    row_leads[:5] = base["lead_id"].iloc[:5].to_numpy()
    rows = pd.DataFrame({"lead_id": row_leads, "as_of": as_of})
    latest = rows.groupby("lead_id")["as_of"].max()

    eng = EngagementFeatures(min_type_count=30).fit(base)
    before = eng.transform(base, rows["lead_id"], rows["as_of"])

    # future events of the row leads: at or after their latest as_of (some exactly at it)
    extra = []
    for lead, t in latest.items():
        k = int(rng.integers(1, 8))
        ts = [t] + [t + pd.Timedelta(seconds=int(s)) for s in rng.integers(0, 60 * 86_400, k)]
        types = rng.choice(ALL_TYPES + ["brand_new"], len(ts))
        extra.append(pd.DataFrame({"lead_id": lead, "timestamp": ts, "event_type": types}))
    # any events of other leads, at any time, including types never seen in fit
    others = _random_log(rng, ["NEW1", "NEW2", "NEW3"], 200, start - pd.Timedelta(days=30), start + pd.Timedelta(days=300))
    others.loc[others.index[:20], "event_type"] = "brand_new"
    grown = pd.concat([base, *extra, others], ignore_index=True).sample(frac=1.0, random_state=seed).reset_index(drop=True)
    assert len(grown) > len(base)

    after = eng.transform(grown, rows["lead_id"], rows["as_of"])
    pd.testing.assert_frame_equal(before, after, check_exact=False, rtol=1e-12, atol=1e-12)

    # and the rows really differ from a later as_of (the future events are not invisible by accident)
    later = eng.transform(grown, rows["lead_id"], rows["as_of"] + pd.Timedelta(days=61))
    assert (later["n_events_all"] > before["n_events_all"]).all()


def test_empty_event_log_gives_no_activity_rows(fitted: EngagementFeatures) -> None:
    """Scoring with an event log that has no rows (e.g. brand-new leads) yields the no-event row."""
    empty = _events().iloc[0:0]
    out = fitted.transform(empty, pd.Series(["A", "B"]), T)
    assert out.shape == (2, len(fitted.feature_names_out_))
    assert (out["n_events_all"] == 0).all()
    assert out["days_since_last_event"].isna().all()


# ------------------------------------------------------------------------------------------------
# Burst and per-day / per-hour statistics against a brute-force reference
# ------------------------------------------------------------------------------------------------
def _brute_force(events: pd.DataFrame, lead: str, as_of: pd.Timestamp) -> dict[str, float]:
    ts = events.loc[(events["lead_id"] == lead) & (events["timestamp"] < as_of), "timestamp"].sort_values()
    if ts.empty:
        return {"events_first_hour": 0, "events_first_day": 0, "max_events_one_hour": 0, "max_events_one_day": 0,
                "active_days_30": 0}
    first = ts.iloc[0]
    window = ts[ts >= as_of - pd.Timedelta(days=30)]
    return {
        "events_first_hour": int((ts < first + pd.Timedelta(hours=1)).sum()),
        "events_first_day": int((ts < first + pd.Timedelta(days=1)).sum()),
        "max_events_one_hour": int(ts.dt.floor("h").value_counts().max()),
        "max_events_one_day": int(ts.dt.floor("D").value_counts().max()),
        "active_days_30": int(window.dt.floor("D").nunique()),
    }


@pytest.mark.parametrize("seed", [0, 1])
def test_burst_and_daily_statistics_match_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2025-01-01")
    leads = [f"L{i}" for i in range(12)]
    base = _random_log(rng, leads, 300, start, start + pd.Timedelta(days=90))
    # bursts: many events within seconds or minutes, some straddling an hour or a day boundary
    bursts = []
    for i, at in enumerate([start + pd.Timedelta(days=3, hours=10, minutes=58),
                            start + pd.Timedelta(days=20, hours=23, minutes=59), start + pd.Timedelta(days=40)]):
        n = int(rng.integers(5, 30))
        gaps = pd.to_timedelta(np.cumsum(rng.uniform(0.5, 20.0, n)), unit="s")
        bursts.append(pd.DataFrame({"lead_id": leads[i], "timestamp": (at + gaps).astype("datetime64[ns]"),
                                    "event_type": "page_view"}))
    events = pd.concat([base, *bursts], ignore_index=True).sample(frac=1.0, random_state=seed).reset_index(drop=True)
    eng = EngagementFeatures(min_type_count=5).fit(events)
    rows = pd.DataFrame({"lead_id": np.repeat(leads, 4),
                         "as_of": np.tile([start + pd.Timedelta(days=d, hours=h)
                                           for d, h in ((4, 0), (21, 0), (40, 0.01), (95, 7))], 12)})
    rows["as_of"] = rows["as_of"].astype("datetime64[ns]")
    out = eng.transform(events, rows["lead_id"], rows["as_of"])
    for i, row in rows.iterrows():
        expected = _brute_force(events, row["lead_id"], row["as_of"])
        got = {k: out.loc[i, k] for k in expected}
        assert got == expected, (row["lead_id"], row["as_of"])


def test_bot_burst_at_signup_is_visible_in_first_hour_only() -> None:
    """30 events within a minute at signup, then one a week later: 30 in the first hour / day, 31 in total."""
    burst = [T - pd.Timedelta(days=10) + pd.Timedelta(seconds=2 * i) for i in range(30)]
    events = pd.DataFrame({"lead_id": ["B"] * 31, "timestamp": [*burst, T - pd.Timedelta(days=3)],
                           "event_type": ["page_view"] * 31})
    out = EngagementFeatures(event_types=["page_view"]).fit(events).transform(events, pd.Series(["B"]), T).iloc[0]
    got = (out["events_first_hour"], out["events_first_day"], out["max_events_one_hour"], out["n_events_all"])
    assert got == (30, 30, 30, 31)
    info = EngagementFeatures(event_types=["page_view"]).fit(events).feature_info()
    assert info["events_first_hour"].describe(30.0) == "30 activities within an hour of the first one"


def test_index_is_reused_for_the_same_frame_and_rebuilt_for_another() -> None:
    from features import event_log

    events = _events()
    eng = EngagementFeatures(event_types=TYPES).fit(events)
    event_log.clear_index_cache()
    first = eng.transform(events, pd.Series(["A", "D"]), T)
    cached = event_log._CACHE.get("index")
    assert cached is not None
    again = eng.transform(events, pd.Series(["A", "D"]), T)
    assert event_log._CACHE.get("index") is cached
    pd.testing.assert_frame_equal(first, again)
    other = events.copy()
    other.loc[len(other)] = ["A", T - pd.Timedelta(days=1), "page_view"]
    changed = eng.transform(other, pd.Series(["A", "D"]), T)
    assert event_log._CACHE.get("index") is not cached
    assert changed.loc[0, "n_events_all"] == first.loc[0, "n_events_all"] + 1
