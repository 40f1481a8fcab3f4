"""Score change against the last earlier scoring, the trend band edges, and why a grade changed."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from models.trend import CHANGE_COLUMNS, score_change, trend, why_changed


def reasons(*items: tuple[str, str, float]) -> str:
    return json.dumps([{"feature": f, "label": lab, "value": 1, "contribution": c} for f, lab, c in items])


def scorings(rows: list[tuple[str, str, int, str]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["lead_id", "as_of", "score", "grade"])
    frame["as_of"] = pd.to_datetime(frame["as_of"])
    frame["top_reasons"] = "[]"
    return frame


def test_previous_is_the_last_scoring_strictly_before_the_current_one() -> None:
    history = scorings([("a", "2026-01-01", 10, "D"), ("a", "2026-01-08", 40, "C"), ("a", "2026-01-15", 99, "A"),
                        ("b", "2026-01-20", 70, "B"), ("z", "2026-01-08", 5, "D")])
    current = scorings([("b", "2026-01-15", 50, "B"), ("a", "2026-01-15", 60, "B"), ("c", "2026-01-15", 30, "D")])
    out = score_change(current, history)
    assert list(out.columns) == CHANGE_COLUMNS and out.index.equals(current.index)
    # a: the 01-15 row is the same scoring (not earlier), so 01-08 counts; b: only a later scoring; c: new
    assert out["previous_score"].tolist()[1] == 40 and out["previous_grade"].iloc[1] == "C"
    assert out["score_change"].iloc[1] == 20
    assert out["previous_as_of"].iloc[1] == pd.Timestamp("2026-01-08")
    assert out["score_change"].iloc[[0, 2]].isna().all()


def test_empty_history_means_no_change_and_a_history_without_dates_is_an_error() -> None:
    current = scorings([("a", "2026-01-15", 60, "B")])
    out = score_change(current, current.iloc[:0])
    assert out["score_change"].isna().all()
    with pytest.raises(ValueError, match="'as_of'"):
        score_change(current, current.drop(columns="as_of"))


def test_trend_band_edges() -> None:
    change = pd.Series([5.0, 4.999, 0.0, -4.999, -5.0, np.nan, 30.0])
    assert trend(change).tolist() == ["improving", "steady", "steady", "steady", "declining", "not enough history",
                                      "improving"]
    assert trend(change, steady_band=10).tolist()[0] == "steady"


def test_why_changed_names_the_sources_that_moved_most_in_the_direction_of_the_change() -> None:
    now = pd.Series([reasons(("pricing", "Visited pricing 5 times", 0.9), ("demo", "Requested a demo", 0.6)),
                     reasons(("pricing", "Visited pricing once", 0.1)), "[]"])
    before = pd.Series([reasons(("pricing", "Visited pricing 3 times", 0.4), ("email", "Free-mail", -0.2),
                                ("size", "Large company", 0.3)),
                        reasons(("pricing", "Visited pricing 4 times", 0.7), ("demo", "Requested a demo", 0.3)),
                        "[]"])
    out = why_changed(now, before, changed=[True, True, False], direction=[+20, -15, 0])
    assert out.tolist() == [
        "Requested a demo (+0.60); Visited pricing 5 times (+0.50)",  # free-mail gone is +0.20, third
        "Visited pricing once (-0.60); no longer: Requested a demo (-0.30)",
        "",
    ]


def test_why_changed_by_label_and_without_direction() -> None:
    now = pd.Series([reasons(("pricing", "Visited pricing 5 times", 0.9))])
    before = pd.Series([reasons(("pricing", "Visited pricing 3 times", 0.4), ("email", "Free-mail", -0.1))])
    assert why_changed(now, before, key="label", top=2).tolist() == [
        "Visited pricing 5 times (+0.90); no longer: Visited pricing 3 times (-0.40)"]
    assert why_changed(now, before, top=1).tolist() == ["Visited pricing 5 times (+0.50)"]
