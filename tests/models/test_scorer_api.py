"""What batch scoring asks a LeadScorer (expected leads columns, known event types and categories, alert
thresholds), answered by the scorer for every kind of model, a refitted one and an older pickle."""
from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from features.builder import LeadFeatureBuilder
from models.alerts import Thresholds
from models.calibration import Calibrator
from models.estimators import known_categories, native_thresholds
from models.grades import GradeScale
from models.points import PointsModel, Rule, RuleSet, SuggestedPointsModel
from models.points import Thresholds as PointsThresholds
from models.refit import RescaledModel
from models.scorer import LeadScorer, expected_columns, known_event_types

SHARES = {"A": 0.1, "B": 0.2, "C": 0.3}


def _scorer(model, frames, builder=None) -> LeadScorer:
    Xv, yv = frames["val"]
    m = model.margin(Xv)
    return LeadScorer(model, Calibrator("sigmoid").fit(m, yv), GradeScale.fit(m, SHARES), builder, {})  # type: ignore[arg-type]


def _points(frames) -> PointsModel:
    rules = RuleSet(rules=[Rule(feature="industry", values=["software"], points=10)],
                    thresholds=PointsThresholds(warm=20, hot=40, mql=30))
    return PointsModel(rules).fit(frames["val"][0])


def test_categories_are_the_encoders_without_the_catch_all(lgb_model, logreg_model, frames) -> None:
    for model in (lgb_model, logreg_model):
        known = _scorer(model, frames).known_categories()
        assert set(known) == {"industry", "source"}
        assert "software" in known["industry"] and "__other__" not in known["industry"]
        assert "rare_one" not in known["industry"]  # grouped as rare: scored as 'other'
        assert known == known_categories(model)
    assert _scorer(_points(frames), frames).known_categories() == {}  # no rule, no points: nothing is unseen


def test_alert_thresholds_are_a_points_models_own_else_the_configured(lgb_model, frames) -> None:
    assert _scorer(_points(frames), frames).alert_thresholds(70, "B") == Thresholds(mql_score=30, hot_grade=None,
                                                                                     hot_score=40)
    assert _scorer(lgb_model, frames).alert_thresholds(70, "B") == Thresholds(mql_score=70, hot_grade="B")
    assert native_thresholds(lgb_model) is None and native_thresholds(object()) is None


def test_a_refitted_model_answers_with_its_inner_model(lgb_model, frames) -> None:
    rescaled = RescaledModel(lgb_model, 2.0, 0.5, 10)
    assert rescaled.name == "lightgbm" and rescaled.feature_names == lgb_model.feature_names
    assert rescaled.known_categories() == lgb_model.known_categories()
    assert rescaled.alert_thresholds() is None
    assert not hasattr(rescaled, "native_score")  # the scorer then uses its grade scale's score
    assert not hasattr(rescaled, "booster")  # no blanket forwarding of the inner model's internals
    X, y = frames["val"]
    suggested = SuggestedPointsModel(["industry", "source"], min_support=20).fit(X, y)
    points = RescaledModel(suggested, 0.5, 1.0, 10)
    np.testing.assert_array_equal(points.native_score(X), suggested.native_score(X))
    assert points.alert_thresholds() == suggested.alert_thresholds() == Thresholds(50, None, 60)
    restored = pickle.loads(pickle.dumps(points))  # registered refits stay loadable
    assert restored.name == "points_suggested" and restored.alert_thresholds() == points.alert_thresholds()


def test_columns_and_event_types_come_from_the_fitted_builder(frames) -> None:
    leads = pd.DataFrame({"lead_id": ["a", "b", "c"], "created_at": pd.to_datetime(["2025-01-01"] * 3),
                          "job_title": ["CEO", "intern", None], "industry": ["software", "retail", None],
                          "team_size": [3.0, 50.0, None]})
    events = pd.DataFrame({"lead_id": ["a", "a", "b"], "event_type": ["demo_request", "page_view", "webinar"],
                           "timestamp": pd.to_datetime(["2025-01-02", "2025-01-03", "2025-01-04"])})
    builder = LeadFeatureBuilder().fit(leads, events)
    scorer = _scorer(_points(frames), frames, builder)
    columns = scorer.expected_columns()
    assert columns and set(columns) <= set(leads.columns) and "lead_id" not in columns
    known = scorer.known_event_types()
    assert "demo_request" in known and "hologram_call" not in known
    no_events = _scorer(_points(frames), frames, LeadFeatureBuilder().fit(leads, None))
    assert no_events.known_event_types() is None
    assert _scorer(_points(frames), frames, object()).expected_columns() == []  # an unfitted builder asks nothing


def test_the_questions_need_only_a_model_and_a_builder(frames) -> None:
    """Older pickles and stand-ins: anything with the scorer's `model` and `builder` is answered."""
    from types import SimpleNamespace

    stand_in = SimpleNamespace(model=_points(frames), builder=object())
    assert expected_columns(stand_in) == [] and known_event_types(stand_in) is None


@pytest.mark.parametrize("which", ["lgb_model", "logreg_model"])
def test_an_older_pickle_answers_from_its_class(which, frames, request) -> None:
    scorer = _scorer(request.getfixturevalue(which), frames)
    for newer in ("drift_reference", "matrix", "min_contribution"):
        scorer.__dict__.pop(newer, None)
    restored = pickle.loads(pickle.dumps(scorer))
    assert restored.known_categories() == scorer.known_categories()
    assert restored.alert_thresholds(50) == Thresholds(mql_score=50, hot_grade="A")
