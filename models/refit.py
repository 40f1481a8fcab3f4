"""The final refit: after the honest evaluation, the chosen model is fitted again on every labelled snapshot
(its hyperparameters kept) so the registered version learns from the most recent leads too.

Its probabilities must not be calibrated on rows it was fitted to (in-sample margins are over-confident),
so the refit's margin is mapped onto the evaluated model's margin scale by matching their quantiles on the
evaluation rows with one affine map `a * m + b` (a > 0): the evaluated model's calibrator, grade and score
cut-offs then apply unchanged, and the SHAP contributions scale by the same `a` (their sum stays the margin).
"""
from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from models.estimators import LightGBMModel, LogRegModel, MarginModel, known_categories, native_thresholds
from models.points import PointsModel, SuggestedPointsModel


class RescaledModel:
    """A fitted model whose margin and contributions are `a * inner + b` (b on the bias column). What
    scoring asks the model besides (its name, feature names, native score, known categories, alert
    thresholds) is the inner model's answer."""

    def __init__(self, inner: MarginModel, a: float, b: float, refit_rows: int):
        self.inner, self.a, self.b, self.refit_rows = inner, float(a), float(b), int(refit_rows)

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def feature_names(self) -> list[str]:
        return self.inner.feature_names

    @property
    def native_score(self) -> Callable[[pd.DataFrame], np.ndarray]:
        """The inner model's own 0-100 score (a refitted points table's points); AttributeError when it has none."""
        return self.inner.native_score

    def known_categories(self) -> dict[str, list[str]]:
        return known_categories(self.inner)

    def alert_thresholds(self) -> Any:
        return native_thresholds(self.inner)

    def margin(self, X: pd.DataFrame) -> np.ndarray:
        return self.a * np.asarray(self.inner.margin(X), dtype=float) + self.b

    def contributions(self, X: pd.DataFrame) -> np.ndarray:
        contrib = self.a * np.asarray(self.inner.contributions(X), dtype=float)
        contrib[:, -1] += self.b
        return contrib

    def params(self) -> dict[str, Any]:
        return {**self.inner.params(), "refit": True, "refit_rows": self.refit_rows, "refit_scale": round(self.a, 6),
                "refit_shift": round(self.b, 6)}


def can_refit(model: MarginModel) -> bool:
    """Hand-set points learn nothing; every other model can be refitted."""
    return not (isinstance(model, PointsModel) and not isinstance(model, SuggestedPointsModel))


def refit_model(model: MarginModel, X: pd.DataFrame, y: np.ndarray, sample_weight: np.ndarray | None,
                time: pd.Series | None = None) -> MarginModel:
    """A fresh fit of `model`'s recipe on (X, y): the chosen C for logistic regression, the early-stopped
    number of trees for LightGBM (no validation set is left to stop on)."""
    fresh = copy.deepcopy(model)
    if isinstance(fresh, LightGBMModel):
        return fresh.fit(X, y, None, None, sample_weight=sample_weight, num_boost_round=max(1, model.best_iteration))
    if isinstance(fresh, LogRegModel):
        fresh.C = model.C_
        return fresh.fit(X, y, sample_weight=sample_weight)
    return fresh.fit(X, y, time=time, sample_weight=sample_weight)


def quantile_map(refit_margin: np.ndarray, evaluated_margin: np.ndarray) -> tuple[float, float]:
    """(a, b) of the least-squares line through the matched quantiles (sorted refit margin -> sorted evaluated
    margin); a is kept positive so the refit's ranking is preserved."""
    x = np.sort(np.asarray(refit_margin, dtype=float))
    t = np.sort(np.asarray(evaluated_margin, dtype=float))
    if len(x) < 2 or np.ptp(x) == 0:
        return 1.0, float(np.mean(t) - np.mean(x)) if len(x) else 0.0
    a, b = np.polyfit(x, t, 1)
    if a <= 0:
        a = np.std(t) / np.std(x) if np.std(x) > 0 else 1.0
        b = np.mean(t) - a * np.mean(x)
    return float(a), float(b)
