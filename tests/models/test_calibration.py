"""Calibrator: probabilities in (0, 1), monotone in the margin, calibrated on logistic data, never 1.0."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.isotonic import IsotonicRegression

from models.calibration import TAIL_LOGITS, BinnedIsotonic, Calibrator
from models.metrics import expected_calibration_error

METHODS = ["sigmoid", "isotonic", "auto"]


def _logistic(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Margins whose true probability is sigmoid(0.8 * m - 2) (a mis-scaled model), labels drawn from it."""
    rng = np.random.default_rng(seed)
    m = rng.normal(0.0, 2.0, n)
    p = 1.0 / (1.0 + np.exp(-(0.8 * m - 2.0)))
    y = (rng.random(n) < p).astype(int)
    return m, p, y


@pytest.fixture(scope="module")
def fitted() -> dict[str, Calibrator]:
    m, _, y = _logistic(8000, 0)
    return {method: Calibrator(method, seed=0).fit(m, y) for method in METHODS}


@pytest.mark.parametrize("method", METHODS)
def test_output_in_open_unit_interval_and_monotone(fitted, method: str) -> None:
    grid = np.linspace(-40, 40, 2001)
    p = fitted[method].predict(grid)
    assert np.all(p > 0.0) and np.all(p < 1.0)
    assert np.all(np.diff(p) >= 0.0)
    assert p[-1] > p[0]


@pytest.mark.parametrize("method", METHODS)
def test_calibrated_on_fresh_logistic_data(fitted, method: str) -> None:
    # measured ECE 0.005-0.012 (and mean |p - p_true| <= 0.017) over seeds 0-4; bounds leave margin
    m, p_true, y = _logistic(20000, 1)
    p = fitted[method].predict(m)
    assert expected_calibration_error(y, p) < 0.03
    assert np.mean(np.abs(p - p_true)) < 0.035


def test_auto_chooses_by_cross_validated_log_loss(fitted) -> None:
    cal = fitted["auto"]
    assert cal.method_ in ("sigmoid", "isotonic")
    assert set(cal.cv_log_loss_) == {"sigmoid", "isotonic"}
    assert cal.method_ == min(cal.cv_log_loss_, key=cal.cv_log_loss_.get)
    assert fitted["isotonic"].method_ == "isotonic" and fitted["sigmoid"].method_ == "sigmoid"


def _top_converted(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """2,000 margins where the top 5 (all positive) converted: plain isotonic puts 1.0 on them."""
    rng = np.random.default_rng(seed)
    m = rng.normal(0.0, 1.0, 2000)
    y = (rng.random(2000) < 1.0 / (1.0 + np.exp(-(m - 1.0)))).astype(int)
    top = np.argsort(m)[-5:]
    m[top] += 3.0
    y[top] = 1
    return m, y


def test_scenario_triggers_plain_isotonic() -> None:
    m, y = _top_converted()
    assert np.all(np.sort(m)[-5:] > 0)
    assert IsotonicRegression(out_of_bounds="clip").fit(m, y).predict(m).max() == 1.0


@pytest.mark.parametrize("method", METHODS)
def test_no_probability_reaches_one_when_top_margins_converted(method: str) -> None:
    m, y = _top_converted()
    cal = Calibrator(method, seed=0).fit(m, y)
    p = cal.predict(np.concatenate([m, [m.max() + 50.0]]))
    assert p.max() < 1.0
    if cal.method_ == "isotonic":
        # every block rate is observed on >= 100 leads; past the top block the log-odds rise by at most
        # TAIL_LOGITS, so no probability goes far beyond the best such rate
        order = np.argsort(m)
        best_rate = max(y[c].mean() for c in np.array_split(order, 20))
        assert p.max() <= 1.0 / (1.0 + np.exp(-(np.log(best_rate / (1 - best_rate)) + TAIL_LOGITS))) + 1e-12
        assert p.max() < 0.95


def test_centred_isotonic_one_point_per_block_linear_in_log_odds() -> None:
    m = np.arange(1000, dtype=float)
    y = (m >= 500).astype(int)
    iso = BinnedIsotonic(n_bins=100, min_bin=100).fit(m, y)
    assert len(iso.bin_centres_) == 10  # 1000 // 100 bins of 100 rows
    np.testing.assert_allclose(iso.levels_, [0] * 5 + [1] * 5)
    # the two flat blocks of 5 bins are two points at their mean margins, rates shrunk off 0 and 1
    np.testing.assert_allclose(iso.centres_, [249.5, 749.5])
    p_low, p_high = iso.predict(iso.centres_)
    assert p_low == pytest.approx(0.5 / 501) and p_high == pytest.approx(500.5 / 501)
    # halfway between the block centres the log-odds are halfway: 0.5 by symmetry
    assert iso.predict(np.array([499.5]))[0] == pytest.approx(0.5)
    # beyond the outer centres: still moving, bounded by TAIL_LOGITS, strictly inside (0, 1)
    far = iso.predict(np.array([-1e9, 0.0, 1000.0, 1e9]))
    assert 0.0 < far[0] < far[1] < p_low and p_high < far[2] < far[3] < 1.0


def test_small_data_is_one_block_ranked_by_the_margin() -> None:
    m = np.array([0.0, 1.0, 2.0, 3.0])
    y = np.array([0, 1, 0, 1])
    iso = BinnedIsotonic().fit(m, y)
    assert len(iso.bin_centres_) == 2 and len(iso.centres_) == 1
    p = iso.predict(m)
    assert np.all(np.diff(p) > 0) and np.all(np.abs(p - 0.5) < 0.15)


@pytest.mark.parametrize("method", METHODS)
def test_strictly_increasing_no_ties_no_floor(method: str) -> None:
    """Issue 13: isotonic steps gave the hottest leads one probability and a tenth of all leads the 1e-06
    clip floor. Distinct margins must get distinct probabilities, nowhere pinned."""
    m, _, y = _logistic(8000, 3)
    m = m * 1.5  # a wide, over-confident model: the case where steps and floors showed
    cal = Calibrator(method, seed=0).fit(m, y)
    fresh = np.sort(np.random.default_rng(4).normal(0.0, 4.0, 20000))
    p = cal.predict(fresh)
    assert np.all(np.diff(p) > 0)
    assert len(np.unique(p)) == len(np.unique(fresh))
    assert (p == p.min()).sum() == 1 and (p == p.max()).sum() == 1  # nothing pinned at a floor or ceiling
    grid = np.linspace(-40, 40, 2001)
    assert np.all(np.diff(cal.predict(grid)) > 0)
