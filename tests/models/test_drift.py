"""PSI drift: the formula by hand, bins for ties / constants / missing values, categories (unseen,
personal-looking), chunked counting equal to one pass, and the size of the stored reference."""
from __future__ import annotations

import math
import pickle

import numpy as np
import pandas as pd
import pytest

from models.drift import (
    EPSILON,
    MISSING,
    OTHER,
    DriftAccumulator,
    DriftReference,
    numeric_edges,
    psi,
    status,
    top_categories,
)


def frame(n: int, seed: int, shift: float = 0.0,
          mix: tuple[float, float, float] = (0.5, 0.3, 0.2)) -> tuple[pd.DataFrame, np.ndarray]:
    """A feature table like the builder's (lead_id, as_of, numeric with ties and gaps, text, bool) and a 0-100 score."""
    rng = np.random.default_rng(seed)
    visits = rng.poisson(0.8 + shift, size=n).astype(float)  # mostly zeros: tied deciles
    revenue = rng.lognormal(12 + shift, 1, size=n)
    revenue[rng.random(n) < 0.1] = np.nan
    table = pd.DataFrame({
        "lead_id": [f"L{i:07d}" for i in range(n)],
        "as_of": pd.Timestamp("2026-01-05"),
        "x": rng.normal(shift, 1, size=n),
        "visits": visits,
        "revenue": revenue,
        "employees": pd.array(rng.integers(1, 5000, size=n), dtype="Int64"),
        "industry": pd.Series(rng.choice(["software", "retail", "finance"], size=n, p=list(mix)), dtype="str"),
        "free_mail": rng.random(n) < 0.3,
        "constant": 1.0,
    })
    score = np.clip(np.round(rng.uniform(0, 100, size=n) + 25 * shift), 0, 100)
    return table, score


def drift_of(ref: DriftReference, table: pd.DataFrame, score: np.ndarray, chunk: int | None = None):
    acc = DriftAccumulator(ref)
    step = chunk or len(table)
    for start in range(0, len(table), step):
        acc.update(table.iloc[start:start + step], score[start:start + step])
    return acc.result()


def by_name(result) -> dict:
    return {f.name: f for f in result.features}


# --- the formula ---------------------------------------------------------------------------------

def test_psi_matches_a_hand_computation():
    # shares r = .5 .3 .2, b = .3 .3 .4: (.3-.5) ln(.3/.5) + 0 + (.4-.2) ln(.4/.2)
    assert psi([50, 30, 20], [30, 30, 40]) == pytest.approx(0.2 * math.log(5 / 3) + 0.2 * math.log(2), abs=1e-12)
    assert psi([50, 30, 20], [30, 30, 40]) == pytest.approx(0.2407945, abs=1e-7)
    # an empty bin is floored at EPSILON = 1e-4: r = (1, 1e-4), b = (.5, .5)
    assert EPSILON == 1e-4
    assert psi([10, 0], [5, 5]) == pytest.approx(0.5 * math.log(2) + (0.5 - 1e-4) * math.log(0.5 / 1e-4), abs=1e-12)
    assert psi([3, 7], [3, 7]) == 0.0
    assert math.isnan(psi([3, 7], [0, 0]))


def test_accumulated_psi_matches_the_formula_on_known_bins():
    ref_table = pd.DataFrame({"v": np.tile(np.arange(10.0), 10)})  # ten values, 10% each: one bin per value
    ref = DriftReference.fit(ref_table, np.full(100, 50.0))
    assert ref.features["v"].counts.tolist() == [10] * 10 + [0]  # plus the (empty) missing bin
    batch = pd.DataFrame({"v": np.tile(np.arange(5.0), 4)})  # 0..4 only: 20% each, 5 bins empty
    result = drift_of(ref, batch, np.full(20, 50.0))
    expected = 5 * (0.2 - 0.1) * math.log(0.2 / 0.1) + 5 * (EPSILON - 0.1) * math.log(EPSILON / 0.1)
    assert result.features[0].psi == pytest.approx(expected, abs=1e-12)
    assert result.score.psi == 0.0


# --- identical and shifted distributions ---------------------------------------------------------

def test_identical_data_gives_zero_and_a_fresh_sample_stays_stable():
    table, score = frame(20_000, seed=1)
    ref = DriftReference.fit(table, score)
    same = drift_of(ref, table, score)
    assert same.psi_max == 0.0 and same.score.psi == 0.0
    fresh = drift_of(ref, *frame(20_000, seed=2))
    assert fresh.psi_max < 0.01, [(f.name, f.psi) for f in fresh.top(3)]
    assert fresh.score.psi < 0.01
    assert fresh.drifted() == [] and fresh.watch() == []
    assert all(status(f.psi) == "stable" for f in fresh.features)


def test_shifted_distributions_are_flagged_above_0_2():
    ref = DriftReference.fit(*frame(20_000, seed=1))
    result = drift_of(ref, *frame(5_000, seed=3, shift=1.0, mix=(0.2, 0.3, 0.5)))
    psis = {f.name: f.psi for f in result.features}
    for name in ("x", "visits", "revenue", "industry"):
        assert psis[name] > 0.2, (name, psis[name])
    for name in ("employees", "free_mail", "constant"):  # not shifted
        assert psis[name] < 0.05, (name, psis[name])
    assert result.score.psi > 0.2
    assert [f.name for f in result.features] == sorted(psis, key=lambda n: -psis[n])  # highest PSI first
    assert {f.name for f in result.drifted()} == {"x", "visits", "revenue", "industry"}
    assert result.psi_max == max(psis.values())


# --- bins: ties, constants, missing ---------------------------------------------------------------

def test_tied_values_get_their_own_bin_and_thin_bins_are_merged():
    values = np.r_[np.zeros(799), np.random.default_rng(0).exponential(size=201)]  # 80% zeros
    edges = numeric_edges(values)
    assert edges[-1] == np.inf
    assert np.nextafter(0.0, -np.inf) in edges and 0.0 in edges  # "= 0" has a bin of its own
    counts = np.bincount(np.searchsorted(edges, values), minlength=len(edges) + 1)
    assert counts[1] == 799  # the "= 0" bin
    nonzero_bins = counts[2:-1]
    assert nonzero_bins.min() >= len(values) / 20, counts  # no bin rests on a handful of rows


def test_constant_feature_detects_any_other_value():
    table = pd.DataFrame({"c": np.full(200, 3.0)})
    ref = DriftReference.fit(table, np.full(200, 10.0))
    assert ref.features["c"].labels() == ["< 3", "= 3", "> 3", MISSING]
    assert drift_of(ref, pd.DataFrame({"c": np.full(50, 3.0)}), np.full(50, 10.0)).features[0].psi == 0.0
    moved = drift_of(ref, pd.DataFrame({"c": np.r_[np.full(25, 3.0), np.full(25, 4.0)]}), np.full(50, 10.0))
    assert moved.features[0].psi > 1.0
    assert moved.features[0].batch == [0.0, 0.5, 0.5, 0.0]


def test_missing_values_have_their_own_bin_and_all_missing_columns_work():
    table, score = frame(2_000, seed=1)
    table["empty"] = np.nan  # all missing in the reference
    ref = DriftReference.fit(table, score)
    assert ref.features["empty"].labels() == ["any value", MISSING]
    batch, bscore = frame(1_000, seed=2)
    batch["empty"] = np.nan
    batch["revenue"] = np.nan  # all missing in the batch
    result = by_name(drift_of(ref, batch, bscore))
    assert result["empty"].psi == 0.0
    assert result["revenue"].batch_missing == 1.0
    assert result["revenue"].reference_missing == pytest.approx(0.1, abs=0.02)
    assert result["revenue"].psi > 1.0
    batch["empty"] = 5.0  # values where the reference had none
    assert by_name(drift_of(ref, batch, bscore))["empty"].psi > 1.0


def test_missing_rate_changes_are_reported():
    ref = DriftReference.fit(*frame(2_000, seed=1))
    batch, score = frame(1_000, seed=2)
    batch.loc[: len(batch) // 2, "employees"] = pd.NA
    result = drift_of(ref, batch, score)
    moved = result.missing_changes()
    assert [f.name for f in moved] == ["employees"]
    assert moved[0].reference_missing == 0.0 and moved[0].batch_missing == pytest.approx(0.5, abs=0.01)
    assert result.to_dict()["missing_changes"][0]["name"] == "employees"


def test_a_feature_absent_from_the_batch_counts_as_missing():
    ref = DriftReference.fit(*frame(1_000, seed=1))
    batch, score = frame(500, seed=2)
    result = drift_of(ref, batch.drop(columns=["industry"]), score)
    assert result.absent_features == ["industry"]
    assert by_name(result)["industry"].batch_missing == 1.0


# --- categories -----------------------------------------------------------------------------------

def test_unseen_categories_go_to_other():
    ref = DriftReference.fit(*frame(2_000, seed=1))
    assert set(ref.features["industry"].categories) == {"software", "retail", "finance"}
    assert ref.features["free_mail"].categories == ("False", "True")
    batch, score = frame(1_000, seed=2)
    batch["industry"] = pd.Series(np.where(np.arange(1_000) < 400, "crypto", batch["industry"]), dtype="str")
    batch.loc[990:, "industry"] = None
    f = by_name(drift_of(ref, batch, score))["industry"]
    assert f.bins[-2:] == [OTHER, MISSING]
    assert f.batch[-2] == pytest.approx(0.4) and f.batch[-1] == pytest.approx(0.01)
    assert f.psi > 0.2


def test_category_dtypes_count_alike():
    ref = DriftReference.fit(*frame(2_000, seed=1))
    batch, score = frame(1_000, seed=2)
    plain = drift_of(ref, batch, score)
    as_category = drift_of(ref, batch.astype({"industry": "category", "free_mail": "boolean"}), score)
    as_object = drift_of(ref, batch.astype({"industry": object, "free_mail": object}), score)
    for other in (as_category, as_object):
        assert {f.name: f.batch for f in other.features} == {f.name: f.batch for f in plain.features}


def test_categories_are_capped_and_personal_looking_values_never_stored():
    n = 5_000
    rng = np.random.default_rng(0)
    table = pd.DataFrame({
        "many": rng.integers(0, 200, size=n).astype(str),  # 200 values of 0.5% each
        "contact": rng.choice(["ann@example.com", "+44 20 7946 0958", "web", "event"], size=n),
    })
    table["many"] = np.where(np.arange(n) < 3_000, rng.choice(list("abcdefghijklmnopqrstuvwxyz"), size=n), table["many"])
    ref = DriftReference.fit(table, np.full(n, 50.0), max_categories=20)
    assert len(ref.features["many"].categories) == 20
    assert set(ref.features["contact"].categories) == {"web", "event"}
    blob = pickle.dumps(ref)
    assert b"example.com" not in blob and b"7946" not in blob
    assert top_categories(pd.Series(["x"] * 9 + ["y"] * 991)) == ("y",)  # fewer than 10 rows: not kept


# --- chunks ---------------------------------------------------------------------------------------

def test_chunked_accumulation_equals_one_pass():
    ref = DriftReference.fit(*frame(3_000, seed=1))
    batch, score = frame(2_345, seed=4, shift=0.3)
    batch.loc[100:160, "industry"] = "unseen"
    batch.loc[200:260, "x"] = np.nan
    one = drift_of(ref, batch, score)
    for chunk in (7, 500, 1_000):
        assert drift_of(ref, batch, score, chunk=chunk).to_dict() == one.to_dict(), chunk
    head = batch.iloc[90:150]  # row by row, across the unseen and missing values
    assert drift_of(ref, head, score[90:150], chunk=1).to_dict() == drift_of(ref, head, score[90:150]).to_dict()
    assert one.rows == 2_345


def test_merged_accumulators_equal_one_pass():
    ref = DriftReference.fit(*frame(3_000, seed=1))
    batch, score = frame(2_000, seed=5, shift=0.5)
    left, right = DriftAccumulator(ref), DriftAccumulator(ref)
    left.update(batch.iloc[:700], score[:700])
    right.update(batch.iloc[700:], score[700:])
    assert left.merge(right).result().to_dict() == drift_of(ref, batch, score).to_dict()


def test_update_rejects_scores_of_another_length():
    ref = DriftReference.fit(*frame(500, seed=1))
    batch, score = frame(100, seed=2)
    with pytest.raises(ValueError, match="99 values for 100"):
        DriftAccumulator(ref).update(batch, score[:99])


def test_empty_batch_has_no_psi():
    ref = DriftReference.fit(*frame(500, seed=1))
    result = DriftAccumulator(ref).result()
    assert result.rows == 0 and math.isnan(result.score.psi) and math.isnan(result.psi_max)
    assert result.to_dict()["psi_score"] is None and result.drifted() == []


# --- size -----------------------------------------------------------------------------------------

def test_reference_for_160_features_stays_small():
    n = 50_000
    rng = np.random.default_rng(0)
    columns = {f"num_{i}": rng.lognormal(0, 1 + i / 50, size=n) for i in range(120)}
    columns |= {f"count_{i}": rng.poisson(0.5 + i / 10, size=n).astype(float) for i in range(27)}
    columns |= {f"cat_{i}": rng.choice([f"value_{j}" for j in range(60)], size=n) for i in range(12)}
    columns["flag"] = rng.random(n) < 0.1
    table = pd.DataFrame(columns)
    ref = DriftReference.fit(table, rng.uniform(0, 100, size=n))
    assert len(ref.features) == 160
    size = len(pickle.dumps(ref))
    assert size < 150_000, size  # goes into the pickled model: a few hundred KB at most
    assert all(spec.n_bins <= 22 for spec in ref.features.values())


def test_infinite_values_fall_in_the_outer_bins_and_a_bad_score_is_missing():
    ref = DriftReference.fit(pd.DataFrame({"v": np.arange(100.0)}), np.arange(100.0))
    acc = DriftAccumulator(ref)
    acc.update(pd.DataFrame({"v": [-np.inf, np.inf, np.nan, 50.0]}), np.array([0.0, 100.0, np.nan, np.inf]))
    counts = acc.counts["v"]
    assert counts[0] == 1 and counts[-2] == 1 and counts[-1] == 1 and counts.sum() == 4
    assert acc.score_counts.tolist() == [1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2]  # 0 -> 0-9, 100 -> 90-100, NaN / inf missing
