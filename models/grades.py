"""Grades A-D and the 0-100 score, both learnt from the validation distribution of the raw margin."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

GRADES = ("A", "B", "C", "D")


@dataclass
class GradeScale:
    """`cutoffs[g]`: the lowest margin that earns grade g (A, B, C); below C's is D.
    `reference`: sorted validation margins, so score = percentile rank among validation leads."""

    cutoffs: dict[str, float]
    reference: np.ndarray

    @classmethod
    def fit(cls, margin: np.ndarray, shares: dict[str, float]) -> "GradeScale":
        margin = np.sort(np.asarray(margin, float))
        cutoffs, top = {}, 0.0
        for grade in ("A", "B", "C"):
            top += shares[grade]
            cutoffs[grade] = float(np.quantile(margin, 1 - top))
        # Keep at most 1,001 reference points: enough for an integer percentile.
        reference = np.quantile(margin, np.linspace(0, 1, min(len(margin), 1001)))
        return cls(cutoffs, reference)

    @classmethod
    def fit_precision(cls, margin: np.ndarray, y: np.ndarray, targets: dict[str, float], min_leads: int = 20) -> "GradeScale":
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
        out = np.full(len(margin), "D", dtype=object)
        for g in ("C", "B", "A"):
            out[margin >= self.cutoffs[g]] = g
        return out

    def score(self, margin: np.ndarray) -> np.ndarray:
        """Integer 0-100: share of validation leads with a lower margin."""
        rank = np.searchsorted(self.reference, margin, side="right") / len(self.reference)
        return np.clip(np.floor(rank * 100), 0, 100).astype(np.int64)


def grade_table(grades: np.ndarray, y: np.ndarray) -> pd.DataFrame:
    """Leads, conversions and conversion rate per grade."""
    frame = pd.DataFrame({"grade": grades, "converted": np.asarray(y, int)})
    table = frame.groupby("grade")["converted"].agg(leads="size", conversions="sum").reindex(list(GRADES), fill_value=0)
    table["conversion_rate"] = (table["conversions"] / table["leads"].where(table["leads"] > 0)).round(4)
    return table.reset_index()
