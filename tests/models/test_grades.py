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


# ---------------------------------------------------------------------------------------------------------
# MatrixGrades: fit letter x engagement digit
# ---------------------------------------------------------------------------------------------------------
from models.grades import MATRIX_CELLS, MatrixGrades  # noqa: E402


def test_matrix_cutoffs_give_the_configured_shares_on_the_fitting_data() -> None:
    rng = np.random.default_rng(0)
    fit, eng = rng.normal(size=4000), rng.normal(size=4000)
    scale = MatrixGrades.fit(fit, eng, (0.1, 0.2, 0.3), (0.25, 0.25, 0.25))
    grades = scale.grade(fit, eng)
    letters = np.array([g[0] for g in grades])
    digits = np.array([g[1] for g in grades])
    for letter, share in zip("ABCD", (0.1, 0.2, 0.3, 0.4)):
        assert abs(np.mean(letters == letter) - share) <= 1 / 4000 + 1e-12
    for digit in "1234":
        assert abs(np.mean(digits == digit) - 0.25) <= 1 / 4000 + 1e-12
    assert scale.fit_cutoffs[0] > scale.fit_cutoffs[1] > scale.fit_cutoffs[2]
    # higher fit never gets a worse letter; A1 is the best corner
    order = np.argsort(fit)
    assert np.all(np.diff([ "ABCD".index(letters[i]) for i in order]) <= 0)
    assert scale.grade(np.array([9.0, -9.0]), np.array([9.0, -9.0])).tolist() == ["A1", "D4"]
    assert abs(sum(c["share"] for c in scale.cells.values()) - 1) < 1e-3 and set(scale.cells) == set(MATRIX_CELLS)


def test_tied_scores_land_in_the_lowest_class_they_span() -> None:
    # 60% of the leads have no activity at all: identical engagement scores at the bottom
    eng = np.r_[np.full(600, -0.5), np.linspace(0.0, 2.0, 400)]
    fit = np.linspace(-1, 1, 1000)
    scale = MatrixGrades.fit(fit, eng, (0.25, 0.25, 0.25), (0.25, 0.25, 0.25))
    digits = np.array([g[1] for g in scale.grade(fit, eng)])
    assert set(digits[:600]) == {"4"}  # never lifted to 2 or 3 because the tie block crosses their cut-offs
    assert abs(np.mean(digits[600:] == "1") - 0.625) < 0.01  # the top 25% of all leads
    # no spread at all (no engagement features): everyone gets the lowest digit
    flat = MatrixGrades.fit(fit, np.zeros(1000))
    assert {g[1] for g in flat.grade(fit, np.zeros(1000))} == {"4"}


def test_matrix_grade_is_missing_where_a_score_is() -> None:
    scale = MatrixGrades.fit(np.arange(10.0), np.arange(10.0))
    out = scale.grade(np.array([5.0, np.nan, 1.0]), np.array([np.nan, 2.0, 1.0]))
    assert out[0] is None and out[1] is None and out[2] in MATRIX_CELLS


def test_matrix_config_is_validated() -> None:
    from pydantic import ValidationError

    from pipeline.config import MatrixConfig

    assert MatrixConfig().fit == [0.25, 0.25, 0.25]
    for bad in ({"fit": [0.5, 0.5, 0.1]}, {"engagement": [0.2, 0.2]}, {"fit": [0.0, 0.2, 0.2]}):
        with pytest.raises(ValidationError, match="3 shares"):
            MatrixConfig(**bad)
