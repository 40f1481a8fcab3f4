"""LeadScorer.score: one model pass with reasons (margin = row sum of the contributions), the same scores with
and without reasons, the matrix grade, the points model, and scorers pickled before these fields existed."""
from __future__ import annotations

import json
import pickle

import numpy as np
import pandas as pd
import pytest

from features.metadata import FeatureInfo
from models.calibration import Calibrator
from models.grades import MATRIX_CELLS, GradeScale
from models.points import PointsModel, Rule, RuleSet
from models.scorer import OUTPUT_COLUMNS, LeadScorer

INFO = {
    "x1": FeatureInfo("x1", "fit", "Fit signal: {value}"),
    "visits": FeatureInfo("visits", "engagement", "{value} visits", digits=0),
    "revenue": FeatureInfo("revenue", "fit", "Annual revenue: {value:compact}", digits=0),
    "industry": FeatureInfo("industry", "fit", "Industry: {value}", "categorical"),
    "source": FeatureInfo("source", "fit", "Lead source: {value}", "categorical"),
}
SHARES = {"A": 0.1, "B": 0.2, "C": 0.3}


def _scorer(model, frames) -> LeadScorer:
    Xv, yv = frames["val"]
    m = model.margin(Xv)
    scorer = LeadScorer(model, Calibrator("sigmoid").fit(m, yv), GradeScale.fit(m, SHARES), None, INFO)  # type: ignore[arg-type]
    scorer.fit_matrix(Xv, yv, (0.25, 0.25, 0.25), (0.25, 0.25, 0.25))
    return scorer


def _table(frames, part: str = "test") -> pd.DataFrame:
    X, _ = frames[part]
    return X.assign(lead_id=[f"L{i}" for i in range(len(X))], as_of=pd.Timestamp("2025-06-01"))


@pytest.mark.parametrize("which", ["lgb_model", "logreg_model"])
def test_contributions_add_up_to_the_margin(which, frames, request) -> None:
    model = request.getfixturevalue(which)
    X, _ = frames["test"]
    contrib = model.contributions(X)
    assert contrib.shape == (len(X), len(model.feature_names) + 1)
    np.testing.assert_allclose(contrib.sum(axis=1), model.margin(X), rtol=0, atol=1e-9)


@pytest.mark.parametrize("which", ["lgb_model", "logreg_model"])
def test_scores_are_the_same_with_and_without_reasons(which, frames, request) -> None:
    model = request.getfixturevalue(which)
    scorer = _scorer(model, frames)
    table = _table(frames)
    full, fast = scorer.score(table, explain=True), scorer.score(table, explain=False)
    assert list(full.columns) == OUTPUT_COLUMNS == list(fast.columns)
    np.testing.assert_allclose(full["probability"], fast["probability"], rtol=0, atol=1e-12)
    assert (full["score"] == fast["score"]).all() and (full["grade"] == fast["grade"]).all()
    bias = model.contributions(table)[:, -1]
    np.testing.assert_allclose(full["fit_score"] + full["engagement_score"] + bias, model.margin(table), atol=1e-9)
    assert set(full["matrix_grade"]) <= set(MATRIX_CELLS) and full["matrix_grade"].nunique() > 4
    assert fast["fit_score"].isna().all() and fast["matrix_grade"].isna().all() and (fast["top_reasons"] == "[]").all()
    reasons = full["top_reasons"].map(json.loads)
    assert (reasons.map(len) > 0).all()
    assert {r["feature"] for rs in reasons for r in rs} <= set(INFO)


def test_output_columns_keep_spec_order_with_the_matrix_grade_after_the_split() -> None:
    spec = ["lead_id", "as_of", "probability", "score", "grade", "fit_score", "engagement_score", "top_reasons",
            "model_name", "model_version", "scored_at"]
    extra = ["matrix_grade", "reason_1", "reason_2", "reason_3"]
    assert [c for c in OUTPUT_COLUMNS if c not in extra] == spec
    assert OUTPUT_COLUMNS.index("matrix_grade") == OUTPUT_COLUMNS.index("engagement_score") + 1
    i = OUTPUT_COLUMNS.index("top_reasons")
    assert OUTPUT_COLUMNS[i + 1:i + 4] == ["reason_1", "reason_2", "reason_3"]


def test_matrix_grade_follows_fit_and_engagement(lgb_model, frames) -> None:
    scorer = _scorer(lgb_model, frames)
    out = scorer.score(_table(frames, "val"))
    letters, digits = out["matrix_grade"].str[0], out["matrix_grade"].str[1].astype(int)
    # on the fitting period about a quarter of the leads per letter / digit; better letter = higher fit
    assert letters.value_counts(normalize=True).between(0.15, 0.35).all()
    assert digits.value_counts(normalize=True).between(0.15, 0.35).all()
    by_letter = out.groupby(letters)["fit_score"].min()
    assert by_letter["A"] > out.loc[letters == "B", "fit_score"].max() - 1e-12
    assert by_letter.is_monotonic_decreasing
    assert scorer.matrix.cells["A1"]["share"] > 0 and "conversion_rate" in scorer.matrix.cells["A1"]


def test_points_model_scores_in_points_with_reasons_and_a_matrix_grade(frames) -> None:
    rules = RuleSet(rules=[Rule(feature="industry", values=["software"], points=10, label="Target industry"),
                           Rule(feature="visits", min=3, points=5, label="Visited often"),
                           Rule(feature="source", values=["list"], points=-10, label="Purchased list")])
    X, y = frames["val"]
    model = PointsModel(rules).fit(X)
    scorer = _scorer(model, frames)
    out = scorer.score(_table(frames))
    assert out["score"].between(0, 100).all()
    assert out["matrix_grade"].notna().all()
    reasons = out["top_reasons"].map(json.loads)
    labels = {r["label"] for rs in reasons for r in rs}
    assert {"Industry: software", "Lead source: list", "5 visits"} & labels
    contributions = {r["contribution"] for rs in reasons for r in rs}
    assert contributions <= {10.0, 5.0, -10.0}


def test_a_scorer_pickled_before_reasons_and_matrix_still_scores(lgb_model, frames) -> None:
    """Older models: no `matrix` attribute, FeatureInfo without source / part / describer fields."""
    scorer = _scorer(lgb_model, frames)
    old_info = {}
    for name, meta in INFO.items():
        old = FeatureInfo(meta.name, meta.group, meta.label, meta.kind)
        for new_field in ("source", "part", "describer", "digits", "negated", "scale", "params"):
            object.__delattr__(old, new_field) if new_field in old.__dict__ else None
        old_info[name] = old
    scorer.info = old_info
    del scorer.__dict__["matrix"]
    restored = pickle.loads(pickle.dumps(scorer))
    out = restored.score(_table(frames))
    assert out["matrix_grade"].isna().all()
    assert (out["top_reasons"].map(json.loads).map(len) > 0).all()
    assert old_info["x1"].describe(0.123) == "Fit signal: 0.12"  # two significant digits below 1


@pytest.mark.parametrize("which", ["lgb_model", "logreg_model"])
def test_an_empty_table_scores_to_an_empty_frame(which, frames, request) -> None:
    scorer = _scorer(request.getfixturevalue(which), frames)
    out = scorer.score(_table(frames).iloc[:0])
    assert list(out.columns) == OUTPUT_COLUMNS and len(out) == 0


def test_reasons_are_the_same_on_a_second_call_and_follow_new_labels(lgb_model, frames) -> None:
    """The plan (and its cache of worded sentences) is reused between calls, never stale."""
    scorer = _scorer(lgb_model, frames)
    table = _table(frames)
    first = scorer.score(table)["top_reasons"].tolist()
    assert scorer.score(table)["top_reasons"].tolist() == first
    scorer.info = {**INFO, "industry": FeatureInfo("industry", "fit", "Sector: {value}", "categorical")}
    again = " ".join(scorer.score(table)["top_reasons"])
    assert "Sector: " in again and "Industry: " not in again


def test_the_reason_plan_is_reused_for_a_points_model_and_rebuilt_when_a_label_changes(frames) -> None:
    from models.explain import reason_plan

    X, _ = frames["val"]
    model = PointsModel(RuleSet(rules=[Rule(feature="industry", values=["software"], points=10)])).fit(X)
    scorer = _scorer(model, frames)  # the points model uses one of the five features: info has more entries
    scorer.info = dict(INFO)
    plan = reason_plan(scorer, scorer.feature_names, scorer.info)
    assert reason_plan(scorer, scorer.feature_names, scorer.info) is plan
    scorer.info["industry"] = FeatureInfo("industry", "fit", "Sector: {value}", "categorical")
    assert reason_plan(scorer, scorer.feature_names, scorer.info) is not plan
