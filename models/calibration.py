"""Probability calibration of a model's raw score (log-odds margin), fitted on the validation period."""
from __future__ import annotations

from typing import Literal

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import StratifiedKFold


class Calibrator:
    """Maps a raw margin to a probability with Platt scaling (sigmoid) or isotonic regression.

    With method='auto' the method is chosen by cross-validated log loss on the calibration data
    itself, so the choice is not judged on the points it was fitted to."""

    def __init__(self, method: Literal["auto", "isotonic", "sigmoid"] = "auto", seed: int = 0):
        self.method = method
        self.seed = seed

    def fit(self, margin: np.ndarray, y: np.ndarray) -> "Calibrator":
        margin, y = np.asarray(margin, float), np.asarray(y, int)
        self.method_ = self.method if self.method != "auto" else self._choose(margin, y)
        self.model_ = _fit(self.method_, margin, y)
        return self

    def _choose(self, margin: np.ndarray, y: np.ndarray) -> str:
        folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=self.seed)
        losses = {}
        for method in ("sigmoid", "isotonic"):
            preds = np.empty(len(y))
            for fit_idx, eval_idx in folds.split(margin.reshape(-1, 1), y):
                preds[eval_idx] = _predict(_fit(method, margin[fit_idx], y[fit_idx]), margin[eval_idx])
            losses[method] = log_loss(y, np.clip(preds, 1e-6, 1 - 1e-6), labels=[0, 1])
        self.cv_log_loss_ = losses
        return min(losses, key=losses.get)

    def predict(self, margin: np.ndarray) -> np.ndarray:
        return np.clip(_predict(self.model_, np.asarray(margin, float)), 1e-6, 1 - 1e-6)


def _fit(method: str, margin: np.ndarray, y: np.ndarray) -> object:
    if method == "isotonic":
        return BinnedIsotonic().fit(margin, y)
    return LogisticRegression(C=1e6).fit(margin.reshape(-1, 1), y)


def _predict(model: object, margin: np.ndarray) -> np.ndarray:
    if isinstance(model, BinnedIsotonic):
        return model.predict(margin)
    return model.predict_proba(margin.reshape(-1, 1))[:, 1]


class BinnedIsotonic:
    """Isotonic regression over equal-count bins of the margin, interpolated between bin centres.

    Plain isotonic regression puts a step on every tied block, so a handful of top-scored leads that
    all converted get probability 1.0. Bins of at least `min_bin` rows bound every level by a rate
    observed on many leads, and interpolation keeps the mapping strictly usable for ranking."""

    def __init__(self, n_bins: int = 100, min_bin: int = 100):
        self.n_bins, self.min_bin = n_bins, min_bin

    def fit(self, margin: np.ndarray, y: np.ndarray) -> "BinnedIsotonic":
        order = np.argsort(margin, kind="stable")
        n_bins = int(max(2, min(self.n_bins, len(margin) // self.min_bin)))
        chunks = [c for c in np.array_split(order, n_bins) if len(c)]
        centres = np.array([margin[c].mean() for c in chunks])
        rates = np.array([y[c].mean() for c in chunks])
        weights = np.array([len(c) for c in chunks], dtype=float)
        iso = IsotonicRegression(out_of_bounds="clip").fit(centres, rates, sample_weight=weights)
        self.centres_, self.levels_ = centres, iso.predict(centres)
        return self

    def predict(self, margin: np.ndarray) -> np.ndarray:
        return np.interp(margin, self.centres_, self.levels_)
