"""Grades A-D and the 0-100 score, both learnt from the validation distribution of the raw margin."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

GRADES = ("A", "B", "C", "D")
# A margin within this of a cut-off or reference point counts as reaching it: the margin summed from SHAP
# contributions differs from the model's own raw score by ~1e-15, and tree models put many leads exactly
# on the validation margins the cut-offs come from; without it, scoring with and without reasons could
# give such a lead a different grade or score.
MARGIN_TOLERANCE = 1e-9


@dataclass
class GradeScale:
    """`cutoffs[g]`: the lowest margin that earns grade g (A, B, C); below C's is D.
    `reference`: sorted validation margins, so score = percentile rank among validation leads."""

    cutoffs: dict[str, float]
    reference: np.ndarray

    @classmethod
    def fit(cls, margin: np.ndarray, shares: dict[str, float]) -> GradeScale:
        margin = np.sort(np.asarray(margin, float))
        cutoffs, top = {}, 0.0
        for grade in ("A", "B", "C"):
            top += shares[grade]
            cutoffs[grade] = float(np.quantile(margin, 1 - top))
        # Keep at most 1,001 reference points: enough for an integer percentile.
        reference = np.quantile(margin, np.linspace(0, 1, min(len(margin), 1001)))
        return cls(cutoffs, reference)

    @classmethod
    def fit_precision(cls, margin: np.ndarray, y: np.ndarray, targets: dict[str, float], min_leads: int = 20) -> GradeScale:
        """Cut-offs by target precision: grade g holds the leads whose margin is above the lowest cut at
        which the leads above it still convert at `targets[g]` or better (cumulative from the top).
        A target that no group of at least `min_leads` reaches leaves that grade empty."""
        margin, y = np.asarray(margin, float), np.asarray(y, float)
        order = np.argsort(-margin, kind="stable")
        precision = np.cumsum(y[order]) / np.arange(1, len(y) + 1)
        cutoffs, previous = {}, np.inf
        for grade in ("A", "B", "C"):
            ok = np.flatnonzero(precision[min_leads - 1:] >= targets[grade]) + min_leads - 1
            cut = float(margin[order][ok.max()]) if len(ok) else np.inf
            cutoffs[grade] = previous = min(previous, cut)
        reference = np.quantile(np.sort(margin), np.linspace(0, 1, min(len(margin), 1001)))
        return cls(cutoffs, reference)

    def grade(self, margin: np.ndarray) -> np.ndarray:
        margin = np.asarray(margin, dtype=float) + MARGIN_TOLERANCE
        out = np.full(len(margin), "D", dtype=object)
        for g in ("C", "B", "A"):
            out[margin >= self.cutoffs[g]] = g
        return out

    def score(self, margin: np.ndarray) -> np.ndarray:
        """Integer 0-100: share of validation leads with a lower margin."""
        margin = np.asarray(margin, dtype=float) + MARGIN_TOLERANCE
        rank = np.searchsorted(self.reference, margin, side="right") / len(self.reference)
        return np.clip(np.floor(rank * 100), 0, 100).astype(np.int64)


def grade_table(grades: np.ndarray, y: np.ndarray) -> pd.DataFrame:
    """Leads, conversions and conversion rate per grade."""
    frame = pd.DataFrame({"grade": grades, "converted": np.asarray(y, int)})
    table = frame.groupby("grade")["converted"].agg(leads="size", conversions="sum").reindex(list(GRADES), fill_value=0)
    table["conversion_rate"] = (table["conversions"] / table["leads"].where(table["leads"] > 0)).round(4)
    return table.reset_index()


FIT_LETTERS = ("A", "B", "C", "D")
ENGAGEMENT_DIGITS = ("1", "2", "3", "4")
MATRIX_CELLS = tuple(f + e for f in FIT_LETTERS for e in ENGAGEMENT_DIGITS)


@dataclass
class MatrixGrades:
    """The combined grade of the grade x score matrices sales teams know: a fit letter A-D from `fit_score`
    and an engagement digit 1-4 from `engagement_score`; "A1" = best fit and most engaged, "D4" the opposite.

    `fit_cutoffs[i]`: a lead gets letter A, B, C (i = 0, 1, 2) when its fit_score is strictly above it
    (else D); `engagement_cutoffs` likewise for digits 1, 2, 3. Learnt on the validation period so that a
    letter (digit) goes to the leads of which at most the configured cumulative share of validation leads
    scored as high or higher: a block of tied scores (leads with no activity at all) lands in the lowest
    class it spans, never lifted into a better one; a dimension without spread gives everyone D (or 4).
    `cells`: per combined grade on validation, the share of leads and, when labels were given, their
    conversion rate (the table a sales team reads)."""

    fit_cutoffs: tuple[float, float, float]
    engagement_cutoffs: tuple[float, float, float]
    cells: dict[str, dict[str, float]] = field(default_factory=dict)

    @classmethod
    def fit(cls, fit_score: np.ndarray, engagement_score: np.ndarray, fit_shares: Sequence[float] = (0.25, 0.25, 0.25),
            engagement_shares: Sequence[float] = (0.25, 0.25, 0.25), y: np.ndarray | None = None) -> MatrixGrades:
        scale = cls(_strict_cutoffs(fit_score, fit_shares), _strict_cutoffs(engagement_score, engagement_shares))
        grades = scale.grade(fit_score, engagement_score)
        known = np.array([g is not None for g in grades], dtype=bool)
        total = max(int(known.sum()), 1)
        for cell in MATRIX_CELLS:
            hit = grades == cell
            entry = {"share": round(float(hit.sum()) / total, 4)}
            if y is not None and hit.any():
                entry["conversion_rate"] = round(float(np.asarray(y, float)[hit].mean()), 4)
            scale.cells[cell] = entry
        return scale

    def grade(self, fit_score: np.ndarray, engagement_score: np.ndarray) -> np.ndarray:
        """'A1' ... 'D4' per lead (object array); None where either score is missing."""
        fit = np.asarray(fit_score, dtype=float)
        engagement = np.asarray(engagement_score, dtype=float)
        cell = _level(fit, self.fit_cutoffs) * 4 + _level(engagement, self.engagement_cutoffs)
        out = np.asarray(MATRIX_CELLS, dtype=object)[cell]
        out[np.isnan(fit) | np.isnan(engagement)] = None
        return out


def _strict_cutoffs(values: np.ndarray, shares: Sequence[float]) -> tuple[float, float, float]:
    """Per cumulative share c: the value t such that the leads strictly above t are the largest group whose
    validation share of leads scoring at least as high stays within c (the m-th smallest value, m = ceil(n(1-c)))."""
    v = np.sort(np.asarray(values, dtype=float)[np.isfinite(np.asarray(values, dtype=float))])
    cumulative = np.cumsum(np.asarray(shares, dtype=float))[:3]
    if len(v) == 0:
        return (np.inf, np.inf, np.inf)
    out = []
    for c in cumulative:
        m = int(np.ceil(len(v) * (1.0 - c) - 1e-9))
        out.append(float(v[m - 1]) if m >= 1 else -np.inf)
    return tuple(out)  # type: ignore[return-value]


def _level(values: np.ndarray, cutoffs: Sequence[float]) -> np.ndarray:
    """0 for the best class (strictly above cutoffs[0]) ... 3 for the rest (and NaN)."""
    level = np.full(len(values), 3, dtype=np.int64)
    for i in (2, 1, 0):
        level[values > cutoffs[i]] = i
    return level
