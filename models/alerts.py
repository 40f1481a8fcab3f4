"""Alerts for sales: leads that newly crossed the hot or the MQL threshold since the previous scoring.

Sales teams act on changes, not on levels: a lead that was already hot yesterday has been routed; the
one that became hot overnight is the call to make today. A lead absent from the previous scoring
(new, or newly open) that is already above a threshold counts as a crossing (`new_lead` true).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.grades import GRADES

ALERT_COLUMNS = ["lead_id", "as_of", "alert", "new_lead", "score", "previous_score", "grade", "previous_grade",
                 "probability", "top_reasons"]


@dataclass(frozen=True)
class Thresholds:
    """Hot = grade at least `hot_grade` (or, for a points model, score at least `hot_score` points);
    MQL = score at least `mql_score`."""

    mql_score: float
    hot_grade: str | None = "A"
    hot_score: float | None = None

    def hot(self, score: pd.Series, grade: pd.Series) -> np.ndarray:
        if self.hot_score is not None:
            return (score >= self.hot_score).fillna(False).to_numpy(dtype=bool)
        good = list(GRADES[: GRADES.index(self.hot_grade) + 1])
        return grade.isin(good).to_numpy(dtype=bool)

    def mql(self, score: pd.Series) -> np.ndarray:
        return (score >= self.mql_score).fillna(False).to_numpy(dtype=bool)


def crossings(scores: pd.DataFrame, previous: pd.DataFrame | None, thresholds: Thresholds) -> pd.DataFrame:
    """One row per lead that is hot or MQL now and was not at the previous scoring; `alert` is 'hot'
    (which also covers MQL) or 'mql'. `previous` has lead_id, score and grade (any extra leads ignored)."""
    prev = (previous if previous is not None else pd.DataFrame(columns=["lead_id", "score", "grade"]))
    prev = prev.drop_duplicates("lead_id", keep="last")
    prev = prev.rename(columns={"score": "previous_score", "grade": "previous_grade"})
    merged = scores.merge(prev[["lead_id", "previous_score", "previous_grade"]], on="lead_id", how="left")
    previous_score = pd.to_numeric(merged["previous_score"], errors="coerce")
    previous_grade = merged["previous_grade"].astype(object)
    hot_now, mql_now = thresholds.hot(merged["score"], merged["grade"]), thresholds.mql(merged["score"])
    hot_before, mql_before = thresholds.hot(previous_score, previous_grade), thresholds.mql(previous_score)
    new_hot, new_mql = hot_now & ~hot_before, mql_now & ~mql_before
    out = merged.loc[new_hot | new_mql].copy()
    out["alert"] = np.where(new_hot[new_hot | new_mql], "hot", "mql")
    out["new_lead"] = out["previous_score"].isna()
    out["previous_score"] = pd.to_numeric(out["previous_score"], errors="coerce")
    return out[[c for c in ALERT_COLUMNS if c in out.columns]].reset_index(drop=True)
