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


def test_precision_grades_meet_their_targets_on_the_fitting_data():
    import numpy as np

    from models.grades import GradeScale

    rng = np.random.default_rng(3)
    margin = rng.normal(size=5000)
    y = (rng.random(5000) < 1 / (1 + np.exp(-(2 * margin - 2)))).astype(int)
    targets = {"A": 0.6, "B": 0.4, "C": 0.2}
    scale = GradeScale.fit_precision(margin, y, targets)
    grades = scale.grade(margin)
    cumulative = ""
    for g in "ABC":
        cumulative += g
        top = np.isin(grades, list(cumulative))
        assert top.sum() >= 20
        assert y[top].mean() >= targets[g] - 1e-9  # leads graded g or better convert at the target
    assert scale.cutoffs["A"] >= scale.cutoffs["B"] >= scale.cutoffs["C"]


def test_unreachable_precision_leaves_the_grade_empty():
    import numpy as np

    from models.grades import GradeScale

    margin = np.linspace(-1, 1, 1000)
    y = np.zeros(1000, dtype=int)
    y[::20] = 1  # 5% everywhere: no group reaches 50%
    scale = GradeScale.fit_precision(margin, y, {"A": 0.5, "B": 0.3, "C": 0.04})
    grades = scale.grade(margin)
    assert "A" not in grades and "B" not in grades and "C" in grades
