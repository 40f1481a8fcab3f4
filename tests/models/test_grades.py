"""GradeScale: grade shares on the fitting data and the 0-100 score."""
from __future__ import annotations

import numpy as np
import pytest

from models.grades import GRADES, GradeScale, grade_table

SHARES = {"A": 0.10, "B": 0.20, "C": 0.30}


@pytest.mark.parametrize("n", [1000, 997, 5003])
def test_grade_shares_match_configuration(n: int) -> None:
    margin = np.random.default_rng(n).normal(size=n)
    scale = GradeScale.fit(margin, SHARES)
    grades = scale.grade(margin)
    expected = {"A": 0.10, "B": 0.20, "C": 0.30, "D": 0.40}
    for g in GRADES:
        assert abs(np.mean(grades == g) - expected[g]) <= 1.0 / n + 1e-12, g


def test_grades_are_ordered_by_margin() -> None:
    margin = np.random.default_rng(0).normal(size=2000)
    scale = GradeScale.fit(margin, SHARES)
    assert scale.cutoffs["A"] > scale.cutoffs["B"] > scale.cutoffs["C"]
    order = np.argsort(margin)
    rank = {"D": 0, "C": 1, "B": 2, "A": 3}
    ranks = np.array([rank[g] for g in scale.grade(margin[order])])
    assert np.all(np.diff(ranks) >= 0)
    assert scale.grade(np.array([margin.max() + 1, margin.min() - 1])).tolist() == ["A", "D"]


def test_score_monotone_integer_in_0_100() -> None:
    margin = np.random.default_rng(1).normal(size=3000)
    scale = GradeScale.fit(margin, SHARES)
    grid = np.linspace(-10, 10, 5001)
    score = scale.score(grid)
    assert score.dtype.kind == "i"
    assert score.min() == 0 and score.max() == 100
    assert np.all(np.diff(score) >= 0)
    # percentile rank among the fitting margins
    assert abs(int(scale.score(np.array([np.median(margin)]))[0]) - 50) <= 1
    assert abs(int(scale.score(np.array([np.quantile(margin, 0.9)]))[0]) - 90) <= 1
    assert len(scale.reference) == 1001


def test_score_with_few_reference_points() -> None:
    scale = GradeScale.fit(np.array([1.0, 2.0, 3.0, 4.0]), SHARES)
    # share of the 4 reference margins at or below the value
    assert scale.score(np.array([0.0, 1.0, 2.5, 4.0, 9.0])).tolist() == [0, 25, 50, 100, 100]


def test_grade_table() -> None:
    grades = np.array(["A", "A", "B", "D", "D", "D"])
    y = np.array([1, 0, 1, 0, 0, 1])
    table = grade_table(grades, y)
    assert table["grade"].tolist() == ["A", "B", "C", "D"]
    assert table["leads"].tolist() == [2, 1, 0, 3]
    assert table["conversions"].tolist() == [1, 1, 0, 1]
    rates = table["conversion_rate"].tolist()
    assert rates[0] == 0.5 and rates[1] == 1.0 and np.isnan(rates[2]) and rates[3] == pytest.approx(0.3333)
