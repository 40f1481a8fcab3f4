"""Probability calibration of a model's raw score (log-odds margin), fitted on the validation period.

Every calibrated map is *strictly* increasing in the margin and never reaches 0 or 1: two leads tie
only when their margins do, and no lead is pinned at a floor or ceiling. (Plain or binned isotonic
regression is a step function: its flat blocks gave the hottest demo leads one shared probability and
a tenth of all leads the clip floor.)"""
from __future__ import annotations

from typing import Literal

import numpy as np
from scipy.special import expit
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import StratifiedKFold

LOGIT_LINEAR = 20.0  # |log-odds| up to this are used as they are (p in 2e-9 .. 1 - 2e-9)
LOGIT_SPAN = 10.0  # beyond, squashed smoothly into +-(LINEAR + SPAN), so p stays strictly inside (0, 1)
MIN_SLOPE = 1e-3  # log-odds per unit of margin: a degenerate fit still ranks by the margin
TAIL_LOGITS = 0.5  # beyond the outer block centres the log-odds move by at most this much (smoothly, never flat)


class Calibrator:
    """Maps a raw margin to a probability with Platt scaling (sigmoid) or centred isotonic regression.

    With method='auto' the method is chosen by cross-validated log loss on the calibration data
    itself, so the choice is not judged on the points it was fitted to."""

    def __init__(self, method: Literal["auto", "isotonic", "sigmoid"] = "auto", seed: int = 0):
        self.method = method
        self.seed = seed

    def fit(self, margin: np.ndarray, y: np.ndarray) -> Calibrator:
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
        return _predict(self.model_, np.asarray(margin, float))


def _fit(method: str, margin: np.ndarray, y: np.ndarray) -> object:
    if method == "isotonic":
        return BinnedIsotonic().fit(margin, y)
    return LogisticRegression(C=1e6).fit(margin.reshape(-1, 1), y)


def _predict(model: object, margin: np.ndarray) -> np.ndarray:
    if isinstance(model, BinnedIsotonic):
        return model.predict(margin)
    slope = max(float(model.coef_[0, 0]), MIN_SLOPE)  # type: ignore[attr-defined]
    return expit(squash(slope * margin + float(model.intercept_[0])))  # type: ignore[attr-defined]


def squash(logit: np.ndarray) -> np.ndarray:
    """The identity on [-LOGIT_LINEAR, LOGIT_LINEAR], then a tanh knee: strictly increasing and bounded,
    so expit of it is strictly inside (0, 1) for any finite margin."""
    logit = np.asarray(logit, float)
    excess = np.abs(logit) - LOGIT_LINEAR
    knee = np.sign(logit) * (LOGIT_LINEAR + LOGIT_SPAN * np.tanh(np.maximum(excess, 0.0) / LOGIT_SPAN))
    return np.where(excess > 0, knee, logit)


def _logit(p: np.ndarray) -> np.ndarray:
    return np.log(p) - np.log1p(-p)


class BinnedIsotonic:
    """Centred isotonic regression over equal-count bins of the margin, piecewise linear in log-odds.

    1. Bins of at least `min_bin` rows bound every level by a rate observed on many leads (plain
       isotonic regression gives probability 1.0 to a handful of top leads that all converted).
    2. Isotonic regression (PAV) over the bins; each flat block of bins becomes one point: its rows'
       mean margin and its conversion rate, shrunk by `prior_weight` pseudo-rows toward the overall
       rate (a block with no conversions gets a small positive rate, not 0).
    3. The probability is linear in log-odds between those block centres. Beyond the first and last
       centre it starts with the slope of a logistic (Platt) fit on the same data and bends smoothly
       towards at most TAIL_LOGITS log-odds past the outer block's rate (u / (1 + |u|)): strictly increasing
       everywhere (no plateau at the top, no floor at the bottom), yet bounded by what was observed."""

    def __init__(self, n_bins: int = 100, min_bin: int = 100, prior_weight: float = 1.0):
        self.n_bins, self.min_bin, self.prior_weight = n_bins, min_bin, prior_weight

    def fit(self, margin: np.ndarray, y: np.ndarray) -> BinnedIsotonic:
        margin, y = np.asarray(margin, float), np.asarray(y, float)
        order = np.argsort(margin, kind="stable")
        n_bins = int(max(2, min(self.n_bins, len(margin) // self.min_bin)))
        chunks = [c for c in np.array_split(order, n_bins) if len(c)]
        sums = np.array([margin[c].sum() for c in chunks])
        positives = np.array([y[c].sum() for c in chunks])
        weights = np.array([len(c) for c in chunks], dtype=float)
        centres, rates = sums / weights, positives / weights
        iso = IsotonicRegression(out_of_bounds="clip").fit(centres, rates, sample_weight=weights)
        self.bin_centres_, self.levels_ = centres, iso.predict(centres)
        # one point per flat block: the block's mean margin and its (shrunk) rate
        block = np.r_[0, np.cumsum(np.diff(self.levels_) > 1e-12)]
        n_blocks = int(block[-1]) + 1
        rows = np.bincount(block, weights, n_blocks)
        prior = float(y.mean()) if len(y) else 0.5
        prior = min(max(prior, 1e-6), 1 - 1e-6)
        rate = (np.bincount(block, positives, n_blocks) + self.prior_weight * prior) / (rows + self.prior_weight)
        logits = _logit(np.clip(rate, 1e-12, 1 - 1e-12))
        logits = np.maximum.accumulate(logits + 1e-9 * np.arange(n_blocks))  # strictly increasing
        self.centres_ = np.bincount(block, sums, n_blocks) / rows
        self.logits_ = logits
        platt = LogisticRegression(C=1e6).fit(margin.reshape(-1, 1), y.astype(int)) if 0 < y.sum() < len(y) else None
        self.tail_slope_ = max(float(platt.coef_[0, 0]) if platt is not None else MIN_SLOPE, MIN_SLOPE)
        return self

    def predict(self, margin: np.ndarray) -> np.ndarray:
        margin = np.asarray(margin, float)
        if not hasattr(self, "logits_"):  # a model pickled before centred isotonic: its step function
            return np.clip(np.interp(margin, self.centres_, self.levels_), 1e-6, 1 - 1e-6)
        c, lg, s = self.centres_, self.logits_, self.tail_slope_
        logit = np.interp(margin, c, lg)
        u = s * (margin - np.clip(margin, c[0], c[-1])) / TAIL_LOGITS
        tail = TAIL_LOGITS * u / (1.0 + np.abs(u))  # slope s at the centre, bounded, never flat in floats
        logit = np.where((margin < c[0]) | (margin > c[-1]), np.clip(logit, lg[0], lg[-1]) + tail, logit)
        return expit(squash(logit))
