"""The evaluation metrics of SPEC 5, computed the same way for every model."""
from __future__ import annotations

import numpy as np
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score, roc_curve

METRIC_NAMES = ("roc_auc", "pr_auc", "log_loss", "brier", "ece", "lift_at_10", "ks")


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """Mean |observed rate - mean probability| over equal-count bins, weighted by bin size.

    Equal-count bins keep every bin populated when conversion rates are low."""
    order = np.argsort(p, kind="stable")
    chunks = np.array_split(order, min(bins, len(p)))
    return float(sum(len(c) * abs(y[c].mean() - p[c].mean()) for c in chunks if len(c)) / len(p))


def lift_at(y: np.ndarray, p: np.ndarray, share: float = 0.10) -> float:
    """Conversion rate in the top `share` of leads by probability, over the overall rate."""
    k = max(1, int(round(share * len(p))))
    top = np.argsort(-p, kind="stable")[:k]
    base = y.mean()
    return float(y[top].mean() / base) if base > 0 else float("nan")


def ks_statistic(y: np.ndarray, p: np.ndarray) -> float:
    fpr, tpr, _ = roc_curve(y, p)
    return float(np.max(tpr - fpr))


def evaluate(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """All SPEC 5 metrics (without prefix) for labels y and probabilities p."""
    y = np.asarray(y).astype(int)
    p = np.clip(np.asarray(p, dtype=float), 1e-6, 1 - 1e-6)
    if len(np.unique(y)) < 2:
        raise ValueError("evaluation needs both converted and non-converted examples")
    return {
        "roc_auc": float(roc_auc_score(y, p)),
        "pr_auc": float(average_precision_score(y, p)),
        "log_loss": float(log_loss(y, p, labels=[0, 1])),
        "brier": float(brier_score_loss(y, p)),
        "ece": expected_calibration_error(y, p),
        "lift_at_10": lift_at(y, p, 0.10),
        "ks": ks_statistic(y, p),
    }
