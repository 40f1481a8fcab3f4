"""Tests of the simulated lead world (pipeline.sampleworld): schema, determinism, behaviour and exact p_true."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipeline.sampleworld import (
    EVENT_COLUMNS,
    HIGH_INTENT_EVENTS,
    LEAD_COLUMNS,
    OUTCOME_COLUMNS,
    TRUTH_COLUMNS,
    World,
    WorldSpec,
    p_true_from_state,
    simulate_world,
)
from pipeline.sampleworld.spec import DECAY, EPISODE_SIZE, H_BASE, H_INT
from pipeline.sampleworld.vocab import FOREIGN_TITLES

BIG = WorldSpec(n_leads=20_000, seed=11)      # for the statistical tests
SMALL = WorldSpec(n_leads=1_500, seed=5)


@pytest.fixture(scope="module")
def big() -> World:
    return simulate_world(BIG)


@pytest.fixture(scope="module")
def small() -> World:
    return simulate_world(SMALL)


def _end(spec: WorldSpec) -> pd.Timestamp:
    return pd.Timestamp(spec.start) + pd.Timedelta(days=spec.days)


def _labelled_truth(world: World, spec: WorldSpec) -> pd.DataFrame:
    """Truth rows whose horizon ends inside the world, with the realised label y."""
    horizon = pd.Timedelta(days=spec.horizon_days)
    truth = world.truth[world.truth["as_of"] + horizon <= _end(spec)]
    truth = truth.merge(world.outcomes, on="lead_id", how="left")
    truth["y"] = (truth["converted_at"] >= truth["as_of"]) & (truth["converted_at"] < truth["as_of"] + horizon)
    return truth


def _auc(score: np.ndarray, y: np.ndarray) -> float:
    """Mann-Whitney ROC AUC with average ranks for ties."""
    ranks = pd.Series(score).rank().to_numpy()
    n1 = int(y.sum())
    n0 = len(y) - n1
    return float((ranks[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def _junk_ids(world: World) -> set[str]:
    return set(world.truth.loc[world.truth["is_junk"], "lead_id"])


# ------------------------------------------------------------------------------------------ schema
def test_columns_and_dtypes(small: World) -> None:
    leads, events, outcomes, truth = small.leads, small.events, small.outcomes, small.truth
    assert list(leads.columns) == LEAD_COLUMNS
    assert list(events.columns) == EVENT_COLUMNS
    assert list(outcomes.columns) == OUTCOME_COLUMNS
    assert list(truth.columns) == TRUTH_COLUMNS
    text_cols = [c for c in LEAD_COLUMNS if c not in ("created_at", "employees", "annual_revenue")]
    for col in text_cols:
        assert pd.api.types.is_string_dtype(leads[col].dtype), col
    for frame, cols in ((events, ["lead_id", "event_type", "channel"]), (outcomes, ["lead_id"]), (truth, ["lead_id"])):
        for col in cols:
            assert pd.api.types.is_string_dtype(frame[col].dtype), col
    assert leads["created_at"].dtype == "datetime64[ns]"
    assert events["timestamp"].dtype == "datetime64[ns]"
    assert outcomes["converted_at"].dtype == "datetime64[ns]"
    assert truth["as_of"].dtype == "datetime64[ns]"
    assert leads["employees"].dtype == "Int64"
    assert leads["annual_revenue"].dtype == "float64"
    assert events["value"].dtype == "float64"
    assert truth["p_true"].dtype == "float64"
    assert truth["is_junk"].dtype == "bool"


def test_lead_table_contents(small: World) -> None:
    leads = small.leads
    n = SMALL.n_leads
    assert len(leads) == n
    assert leads["lead_id"].is_unique
    assert leads["lead_id"].str.fullmatch(r"L\d{7}").all()
    assert leads["lead_id"].iloc[0] == "L0000001"
    assert leads["created_at"].is_monotonic_increasing
    assert leads["created_at"].min() >= pd.Timestamp(SMALL.start)
    assert leads["created_at"].max() < _end(SMALL)
    assert 0.025 < leads["employees"].isna().mean() < 0.08
    assert 0.06 < leads["annual_revenue"].isna().mean() < 0.14
    emp = leads["employees"].dropna()
    assert emp.min() >= 1 and emp.max() <= 50_000
    assert set(leads["budget"].dropna()) <= {"yes", "no"}
    assert set(leads["authority"].dropna()) <= {"yes", "no"}
    assert set(leads["need"].dropna()) <= {"high", "medium", "low"}
    assert set(leads["timeline"].dropna()) <= {"<3 months", "3-6 months", "6-12 months", ">12 months"}
    for col in ("budget", "authority", "need", "timeline", "phone", "job_title"):
        assert leads[col].isna().any(), col
    assert set(leads["status"]) <= {"Converted", "Disqualified", "Nurture", "Open"}
    assert leads["owner"].str.fullmatch(r"rep_\d{2}").all()
    assert leads["lead_source"].nunique() == 8
    assert leads["country"].nunique() >= 10
    assert leads["industry"].nunique() >= 10
    assert leads["phone"].isin(["123", "000-000-0000"]).any()
    assert leads["email"].str.contains("@").all()


def test_profiles_look_like_b2b_leads(big: World) -> None:
    leads = big.leads
    junk = leads["lead_id"].isin(_junk_ids(big))
    real = leads[~junk]
    domain = real["email"].str.split("@").str[-1]
    corporate = (domain == real["company_domain"]).mean()
    free = domain.isin(["gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com", "aol.com",
                        "proton.me", "gmx.de", "web.de", "orange.fr", "hotmail.co.uk", "yahoo.fr", "qq.com",
                        "live.com"]).mean()
    assert 0.6 < corporate < 0.8
    assert 0.18 < free < 0.35
    assert real["email"].str.match(r"(info|sales|contact|hello|marketing|office)@").mean() > 0.01
    titles = leads["job_title"].dropna()
    foreign = {t.lower() for items in FOREIGN_TITLES.values() for t, _, _ in items}
    assert 0.03 < titles.str.lower().isin(foreign).mean() < 0.08     # ~5% titles in other languages
    assert titles.map(lambda t: not t.isascii()).any()
    for t in ("VP Sales", "Sr. Software Engineer", "Dir. of Marketing", "CEO", "Intern"):
        assert (titles == t).any(), t
    assert (titles == "").any()
    # junk: disposable domains and fake names
    jdom = leads.loc[junk, "email"].str.split("@").str[-1]
    disposable = jdom.isin(["mailinator.com", "guerrillamail.com", "10minutemail.com", "yopmail.com",
                            "tempmail.com", "sharklasers.com", "trashmail.com", "dispostable.com"]).mean()
    assert 0.55 < disposable < 0.85
    assert leads.loc[junk, "first_name"].isin(["asdf", "test", "qwerty"]).any()


def test_events_and_outcomes_tables(small: World) -> None:
    events, outcomes, leads = small.events, small.outcomes, small.leads
    assert events["timestamp"].is_monotonic_increasing
    assert events["lead_id"].isin(leads["lead_id"]).all()
    assert events["timestamp"].max() < _end(SMALL)
    assert set(events["channel"]) <= {"web", "email", "social", "event", "product"}
    page = events["event_type"].isin(["page_view", "blog_view", "pricing_page_view", "docs_view"])
    assert events.loc[page, "value"].notna().all() and (events.loc[page, "value"] >= 0).all()
    assert events.loc[events["event_type"].isin(["email_open", "demo_request"]), "value"].isna().all()
    assert outcomes["lead_id"].tolist() == leads["lead_id"].tolist()
    conv = outcomes["converted_at"].dropna()
    assert conv.max() < _end(SMALL)
    merged = outcomes.merge(leads[["lead_id", "created_at", "status"]], on="lead_id")
    assert (merged["converted_at"].dropna() >= merged.loc[merged["converted_at"].notna(), "created_at"]).all()
    # the leaky CRM status field is exactly "converted by world end"
    assert ((merged["status"] == "Converted") == merged["converted_at"].notna()).all()


def test_no_event_before_lead_creation(big: World) -> None:
    created = big.leads.set_index("lead_id")["created_at"]
    ev = big.events
    assert (ev["timestamp"].to_numpy() >= created.reindex(ev["lead_id"]).to_numpy()).all()


# ------------------------------------------------------------------------------------------ determinism
def test_same_seed_same_world() -> None:
    spec = WorldSpec(n_leads=600, seed=3)
    a, b = simulate_world(spec), simulate_world(spec)
    for name in ("leads", "events", "outcomes", "truth"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))


def test_different_seed_different_world() -> None:
    a = simulate_world(WorldSpec(n_leads=600, seed=3))
    b = simulate_world(WorldSpec(n_leads=600, seed=4))
    assert not a.leads["created_at"].equals(b.leads["created_at"])
    assert not a.leads["email"].equals(b.leads["email"])
    assert len(a.events) != len(b.events) or not a.events["timestamp"].equals(b.events["timestamp"])


def test_progress_is_reported() -> None:
    calls: list[tuple[int, int]] = []
    spec = WorldSpec(n_leads=50, seed=1, days=30)
    simulate_world(spec, progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (30, 30)
    assert [c[0] for c in calls] == sorted(c[0] for c in calls)


def test_tiny_and_junk_free_worlds() -> None:
    world = simulate_world(WorldSpec(n_leads=5, seed=2, days=20, junk_rate=0.0))
    assert len(world.leads) == 5 and len(world.outcomes) == 5
    assert not world.truth["is_junk"].any()
    assert list(world.events.columns) == EVENT_COLUMNS


# ------------------------------------------------------------------------------------------ behaviour
def test_junk_share_and_junk_never_converts(big: World) -> None:
    junk = big.leads["lead_id"].isin(_junk_ids(big))
    # leads created on the last day have no truth row; count junk by its burst instead where needed
    rate = BIG.junk_rate
    se = np.sqrt(rate * (1 - rate) / BIG.n_leads)
    assert abs(junk.mean() - rate) < 4 * se + 0.002
    conv = big.outcomes.set_index("lead_id")["converted_at"]
    assert conv[list(_junk_ids(big))].isna().all()
    assert (big.truth.loc[big.truth["is_junk"], "p_true"] == 0).all()
    assert (big.leads.loc[junk, "status"] == "Disqualified").mean() > 0.7
    # bot bursts: >= 20 events on the creation day within minutes
    ev = big.events[big.events["lead_id"].isin(_junk_ids(big))]
    created = big.leads.set_index("lead_id")["created_at"]
    first_hour = ev[ev["timestamp"] < created.reindex(ev["lead_id"]).to_numpy() + pd.Timedelta(hours=1)]
    assert (first_hour.groupby("lead_id").size() >= 20).mean() > 0.95


def test_event_types(big: World) -> None:
    types = set(big.events["event_type"])
    assert len(types) >= 15
    assert {"unsubscribe", "careers_page_view", "email_bounce", "product_login"} <= types
    assert set(HIGH_INTENT_EVENTS) <= types
    per_lead = len(big.events) / BIG.n_leads
    assert 15 <= per_lead <= 30


def test_activity_after_conversion(big: World) -> None:
    ev = big.events.merge(big.outcomes, on="lead_id")
    after = ev[ev["timestamp"] > ev["converted_at"]]
    assert len(after) > 0
    assert (after["event_type"] == "product_login").mean() > 0.4
    before = ev[ev["converted_at"].isna() | (ev["timestamp"] < ev["converted_at"])]
    assert not (before["event_type"] == "product_login").any()


def test_no_email_events_after_unsubscribe(big: World) -> None:
    ev = big.events
    unsub = ev[ev["event_type"] == "unsubscribe"].groupby("lead_id")["timestamp"].min()
    assert len(unsub) > 0.05 * BIG.n_leads
    mail = ev[ev["event_type"].isin(["email_open", "email_click"])]
    at = unsub.reindex(mail["lead_id"]).to_numpy()
    assert not (mail["timestamp"].to_numpy() > at).any()


def test_conversion_rate(big: World) -> None:
    leads = big.leads.merge(big.outcomes, on="lead_id")
    real = leads[~leads["lead_id"].isin(_junk_ids(big))]
    observed = real[real["created_at"] <= _end(BIG) - pd.Timedelta(days=180)]
    within = (observed["converted_at"] - observed["created_at"]) <= pd.Timedelta(days=180)
    assert 0.10 <= within.mean() <= 0.22


# ------------------------------------------------------------------------------------------ truth
def test_truth_rows_match_definition(big: World) -> None:
    truth, spec = big.truth, BIG
    start = pd.Timestamp(spec.start)
    offsets = (truth["as_of"] - start) / pd.Timedelta(days=1)
    assert (offsets % 7 == 0).all() and offsets.min() >= 7 and offsets.max() <= spec.days
    assert not truth.duplicated(["lead_id", "as_of"]).any()
    assert truth["p_true"].between(0.0, 1.0).all()
    # exactly the open leads with age <= max_lead_age_days at each snapshot
    leads = big.leads[["lead_id", "created_at"]].merge(big.outcomes, on="lead_id")
    for k in (3, 30, spec.days // 7):
        as_of = start + pd.Timedelta(days=7 * k)
        open_ = ((leads["created_at"] < as_of) & ~(leads["converted_at"] < as_of)
                 & (as_of - leads["created_at"] <= pd.Timedelta(days=spec.max_lead_age_days)))
        expected = set(leads.loc[open_, "lead_id"])
        assert set(truth.loc[truth["as_of"] == as_of, "lead_id"]) == expected


def test_p_true_is_calibrated(big: World) -> None:
    """Mean p_true equals the realised conversion rate within the horizon (validates the exact formula)."""
    t = _labelled_truth(big, BIG)
    resid = t["y"].astype(float) - t["p_true"]
    # rows of one lead are correlated: standard error clustered by lead
    se = np.sqrt((resid.groupby(t["lead_id"]).sum() ** 2).sum()) / len(t)
    assert abs(resid.mean()) < 4 * se, (t["y"].mean(), t["p_true"].mean(), se)
    # and within p_true tertiles (catches a wrong decay power / off-by-one in the interest term)
    bins = pd.qcut(t["p_true"].rank(method="first"), 3, labels=False)
    for b in range(3):
        part = t[bins == b]
        r = part["y"].astype(float) - part["p_true"]
        se_b = np.sqrt((r.groupby(part["lead_id"]).sum() ** 2).sum()) / len(part)
        assert abs(r.mean()) < 4.5 * se_b + 1e-4, (b, part["y"].mean(), part["p_true"].mean(), se_b)


def test_oracle_auc_is_high_but_not_perfect(big: World) -> None:
    t = _labelled_truth(big, BIG)
    auc = _auc(t["p_true"].to_numpy(), t["y"].to_numpy())
    assert 0.80 <= auc <= 0.95, auc


def test_recent_high_intent_predicts_conversion(big: World) -> None:
    t = _labelled_truth(big, BIG)
    t = t[~t["is_junk"]].reset_index(drop=True)
    hi = big.events[big.events["event_type"].isin(HIGH_INTENT_EVENTS)][["lead_id", "timestamp"]]
    pairs = t[["lead_id", "as_of"]].reset_index().merge(hi, on="lead_id")
    window = (pairs["timestamp"] < pairs["as_of"]) & (pairs["timestamp"] >= pairs["as_of"] - pd.Timedelta(days=7))
    recent = np.zeros(len(t), dtype=bool)
    recent[pairs.loc[window, "index"].unique()] = True
    rate_recent = t.loc[recent, "y"].mean()
    rate_other = t.loc[~recent, "y"].mean()
    assert recent.sum() > 500
    assert rate_recent > 1.7 * rate_other, (rate_recent, rate_other)


@pytest.mark.parametrize(("fit", "r", "interest"), [(0.05, 1 / 75, 0.0), (0.2, 1 / 40, 3.0), (0.6, 1 / 120, 0.5)])
def test_p_true_formula_matches_monte_carlo(fit: float, r: float, interest: float) -> None:
    """The closed form equals E[1 - exp(-sum of daily hazards)] over simulated future episode paths.

    Mirrors the day order of the simulation: each day (1) I = I*d + Poisson(r)*A, then (3) hazard
    fit*(H_BASE + H_INT*I), starting from the interest after day s-1.
    """
    rng = np.random.default_rng(0)
    reps, horizon = 100_000, 90
    level = np.full(reps, interest)
    total = np.zeros(reps)
    for _ in range(horizon):
        level = level * DECAY + rng.poisson(r, reps) * EPISODE_SIZE
        total += fit * (H_BASE + H_INT * level)
    survive = np.exp(-total)
    expected = 1.0 - survive.mean()
    se = survive.std() / np.sqrt(reps)
    got = p_true_from_state(np.array([fit]), np.array([r]), np.array([interest]), horizon)[0]
    assert abs(got - expected) < 5 * se + 1e-9, (got, expected, se)
    # an off-by-one in the decay power would be visible at this precision
    assert abs(got - expected) < 0.01 * expected + 5 * se
