"""Which leads newly crossed the hot / MQL thresholds since the previous scoring."""
from __future__ import annotations

import pandas as pd

from models.alerts import ALERT_COLUMNS, Thresholds, crossings


def scores(rows: list[tuple[str, int, str]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["lead_id", "score", "grade"])
    frame["as_of"] = pd.Timestamp("2026-06-01")
    frame["probability"] = frame["score"] / 100
    frame["top_reasons"] = "[]"
    return frame


GRADE_RULES = Thresholds(mql_score=70, hot_grade="A")


def test_only_new_crossings_alert_and_hot_wins_over_mql():
    now = scores([("stays_hot", 95, "A"), ("became_hot", 92, "A"), ("became_mql", 75, "B"), ("hot_was_mql", 91, "A"),
                  ("fell", 20, "D"), ("stays_cold", 10, "D"), ("mql_to_b", 72, "B")])
    before = scores([("stays_hot", 96, "A"), ("became_hot", 40, "C"), ("became_mql", 60, "B"), ("hot_was_mql", 80, "B"),
                     ("fell", 95, "A"), ("stays_cold", 5, "D"), ("mql_to_b", 90, "A")])
    out = crossings(now, before, GRADE_RULES).set_index("lead_id")
    assert list(out.reset_index().columns) == ALERT_COLUMNS
    assert out["alert"].to_dict() == {"became_hot": "hot", "became_mql": "mql", "hot_was_mql": "hot"}
    assert out.loc["became_hot", "previous_score"] == 40 and out.loc["became_hot", "previous_grade"] == "C"
    assert not out["new_lead"].any()


def test_new_leads_above_a_threshold_alert_as_new():
    now = scores([("new_hot", 99, "A"), ("new_mql", 71, "C"), ("new_cold", 30, "D"), ("old", 99, "A")])
    out = crossings(now, scores([("old", 99, "A")]), GRADE_RULES).set_index("lead_id")
    assert out["alert"].to_dict() == {"new_hot": "hot", "new_mql": "mql"}
    assert out["new_lead"].all() and out["previous_score"].isna().all()


def test_no_previous_file_rows_means_every_lead_above_a_threshold_is_new():
    now = scores([("a", 99, "A"), ("b", 10, "D")])
    out = crossings(now, None, GRADE_RULES)
    assert out["lead_id"].tolist() == ["a"] and out["new_lead"].all()


def test_points_thresholds_use_the_score_not_the_grade():
    points = Thresholds(mql_score=50, hot_grade=None, hot_score=60)
    now = scores([("hot_by_points", 65, "C"), ("mql_by_points", 55, "A"), ("cold", 45, "A")])
    out = crossings(now, scores([("hot_by_points", 10, "D"), ("mql_by_points", 10, "D"), ("cold", 10, "D")]), points)
    assert out.set_index("lead_id")["alert"].to_dict() == {"hot_by_points": "hot", "mql_by_points": "mql"}


def test_hot_grade_b_counts_a_and_b():
    now = scores([("a", 80, "A"), ("b", 60, "B"), ("c", 50, "C")])
    before = scores([("a", 10, "D"), ("b", 10, "D"), ("c", 10, "D")])
    out = crossings(now, before, Thresholds(mql_score=90, hot_grade="B"))
    assert sorted(out["lead_id"]) == ["a", "b"] and set(out["alert"]) == {"hot"}
