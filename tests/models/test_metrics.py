"""metrics.evaluate against hand computations on a tiny example."""
from __future__ import annotations

import numpy as np
import pytest

from models.metrics import METRIC_NAMES, evaluate, expected_calibration_error, ks_statistic, lift_at

# 20 leads sorted by probability, highest first; 4 converted (positions 1, 3, 4 and 8 from the top)
P = np.linspace(0.95, 0.05, 20)
Y = np.zeros(20, dtype=int)
Y[[0, 2, 3, 7]] = 1


def _shuffled() -> tuple[np.ndarray, np.ndarray]:
    perm = np.random.default_rng(0).permutation(20)
    return Y[perm], P[perm]


def test_evaluate_returns_all_metrics() -> None:
    y, p = _shuffled()
    out = evaluate(y, p)
    assert tuple(out) == METRIC_NAMES
    assert all(isinstance(v, float) for v in out.values())


def test_lift_at_10_by_hand() -> None:
    y, p = _shuffled()
    # top 10% = 2 leads: one converted -> rate 0.5; overall rate 4 / 20 = 0.2
    assert evaluate(y, p)["lift_at_10"] == pytest.approx(2.5)
    assert lift_at(y, p, 0.25) == pytest.approx((3 / 5) / 0.2)  # top 5: positions 1, 3, 4 converted


def test_ks_by_hand() -> None:
    y, p = _shuffled()
    # cumulative from the top: after 8 leads TPR = 4/4, FPR = 4/16 -> 0.75, the largest gap
    assert evaluate(y, p)["ks"] == pytest.approx(0.75)
    assert ks_statistic(y, p) == pytest.approx(0.75)


def test_roc_auc_and_pr_auc_by_hand() -> None:
    y, p = _shuffled()
    out = evaluate(y, p)
    # negatives ranked below each positive: 16, 15, 15, 12 out of 16 each
    assert out["roc_auc"] == pytest.approx(58 / 64)
    # precision at each positive: 1/1, 2/3, 3/4, 4/8
    assert out["pr_auc"] == pytest.approx((1 + 2 / 3 + 3 / 4 + 4 / 8) / 4)


def test_log_loss_and_brier_by_formula() -> None:
    y, p = _shuffled()
    out = evaluate(y, p)
    ll = -np.mean([np.log(pi) if yi else np.log(1 - pi) for yi, pi in zip(y, p)])
    assert out["log_loss"] == pytest.approx(ll)
    assert out["brier"] == pytest.approx(np.mean([(pi - yi) ** 2 for yi, pi in zip(y, p)]))


def test_ece_by_hand() -> None:
    y = np.array([0, 0, 1, 1])
    p = np.array([0.2, 0.2, 0.8, 0.8])
    assert expected_calibration_error(y, p, bins=2) == pytest.approx(0.2)
    # one bin: |mean y - mean p|
    assert expected_calibration_error(y, p, bins=1) == pytest.approx(0.0)
    y2, p2 = np.array([1, 1, 0, 0]), np.array([0.1, 0.3, 0.6, 0.9])
    assert expected_calibration_error(y2, p2, bins=2) == pytest.approx((2 * abs(1 - 0.2) + 2 * abs(0 - 0.75)) / 4)


def test_ece_zero_for_perfectly_calibrated_bins() -> None:
    # 10 equal-count bins of 20 leads at p = 0.05, 0.15, ..., 0.95 with 1, 3, ..., 19 conversions
    p = np.repeat(np.arange(0.05, 1.0, 0.1), 20)
    y = np.concatenate([np.r_[np.ones(k), np.zeros(20 - k)] for k in range(1, 20, 2)]).astype(int)
    perm = np.random.default_rng(1).permutation(len(p))
    assert expected_calibration_error(y[perm], p[perm]) == pytest.approx(0.0, abs=1e-12)
    assert evaluate(y[perm], p[perm])["ece"] == pytest.approx(0.0, abs=1e-12)


def test_probabilities_are_clipped_for_log_loss() -> None:
    y = np.array([0, 1, 0, 1])
    p = np.array([0.0, 1.0, 0.0, 1.0])
    out = evaluate(y, p)
    assert np.isfinite(out["log_loss"])
    assert out["log_loss"] == pytest.approx(-np.log(1 - 1e-6))


def test_single_class_raises() -> None:
    with pytest.raises(ValueError):
        evaluate(np.zeros(10), np.linspace(0, 1, 10))
