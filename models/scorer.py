"""LeadScorer: the fitted feature builder, model, calibrator and grade scale that turn a lead-level
feature table into the SPEC 4 scoring columns. This is what the MLflow pyfunc wraps.

It also answers what batch scoring asks about a fitted model before and while it scores (the leads
columns it expects, the event types and category values it knows, its alert thresholds), so that
pipeline/ never looks into fitted internals. Each answer is a function here taking the scorer (anything
with its `model` and `builder`: older pickles, test doubles) and a method of `LeadScorer`.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from features.builder import LeadFeatureBuilder
from features.metadata import FeatureInfo
from models.alerts import Thresholds
from models.calibration import Calibrator
from models.drift import DriftReference
from models.estimators import MarginModel, known_categories, native_thresholds
from models.explain import MIN_CONTRIBUTION, reason_plan
from models.grades import GradeScale, MatrixGrades

REASON_TEXT_COLUMNS = ["reason_1", "reason_2", "reason_3"]  # top_reasons' labels as plain text, same order
OUTPUT_COLUMNS = ["lead_id", "as_of", "probability", "score", "grade", "fit_score", "engagement_score",
                  "matrix_grade", "top_reasons", *REASON_TEXT_COLUMNS, "model_name", "model_version", "scored_at"]


def expected_columns(scorer: Any) -> list[str]:
    """The leads columns the scorer's fitted builder reads (the profile's roles and generic columns);
    empty for a builder without a fitted profile."""
    profile = getattr(scorer.builder, "profile_", None)
    if profile is None:
        return []
    return [*getattr(profile, "roles_present_", []), *getattr(profile, "numeric_generic_", []),
            *getattr(profile, "categorical_generic_", [])]


def known_event_types(scorer: Any) -> set[str] | None:
    """The event types the scorer's fitted builder has features for; None when it uses no events."""
    eng = getattr(scorer.builder, "engagement_", None)
    if eng is None:
        return None
    return {*eng.event_types_, *eng.high_intent, *eng.negative, *eng.email_open, *eng.email_click}


def alert_thresholds(scorer: Any, mql_score: float, hot_grade: str | None = "A") -> Thresholds:
    """The model's own hot / MQL thresholds (a points model's, in points), else MQL at `mql_score` and hot
    from grade `hot_grade` (the configured ones)."""
    return native_thresholds(scorer.model) or Thresholds(mql_score=mql_score, hot_grade=hot_grade)


@dataclass
class LeadScorer:
    model: MarginModel
    calibrator: Calibrator
    grades: GradeScale
    builder: LeadFeatureBuilder
    info: dict[str, FeatureInfo]
    registered_name: str = "lead-scorer"
    top_positive: int = 3
    top_negative: int = 2
    extra: dict[str, Any] = field(default_factory=dict)
    drift_reference: DriftReference | None = None  # training-time distributions for drift (PSI); None in older models
    matrix: MatrixGrades | None = None  # fit letter x engagement digit cut-offs ("A2"); None in older models
    min_contribution: float = MIN_CONTRIBUTION  # sources whose |contribution| is smaller are no reason (log-odds)

    @property
    def feature_names(self) -> list[str]:
        return self.model.feature_names

    # what batch scoring asks (the module functions of the same names, for this scorer)
    def expected_columns(self) -> list[str]:
        return expected_columns(self)

    def known_event_types(self) -> set[str] | None:
        return known_event_types(self)

    def known_categories(self) -> dict[str, list[str]]:
        """Per categorical feature, the values the model learnt something for (others are scored as 'other')."""
        return known_categories(self.model)

    def alert_thresholds(self, mql_score: float, hot_grade: str | None = "A") -> Thresholds:
        return alert_thresholds(self, mql_score, hot_grade)

    def probability(self, features: pd.DataFrame) -> np.ndarray:
        return self.calibrator.predict(self.model.margin(features))

    def score(self, features: pd.DataFrame, explain: bool = True, model_version: str = "") -> pd.DataFrame:
        """SPEC 4 columns (plus `matrix_grade`) for each row of the feature table (`lead_id`, optional `as_of`,
        features). With `explain` the model runs once, for its contributions: the margin is their row sum
        (LightGBM's pred_contrib and the linear SHAP of logreg add up to the raw score), so reasons cost
        one model pass, not two. Without it, fit / engagement scores, matrix grade and reasons are empty."""
        missing = [c for c in self.feature_names if c not in features.columns]
        if missing:
            raise ValueError(f"feature table lacks {len(missing)} model features, e.g. {missing[:3]}")
        n = len(features)
        if n == 0:  # the models refuse empty input; an empty chunk scores to an empty frame
            explain = False
            margin = np.zeros(0)
        if explain:
            contrib = np.asarray(self.model.contributions(features), dtype=float)
            plan = reason_plan(self, self.feature_names, self.info)
            sums = contrib @ plan.weights(contrib.shape[1], self.info)
            margin, fit, engagement = sums[:, 0], sums[:, 1], sums[:, 2]
            matrix = getattr(self, "matrix", None)
            matrix_grade = matrix.grade(fit, engagement) if matrix is not None else np.full(n, None, dtype=object)
            reasons, texts = plan.reasons_and_texts(contrib, sums[:, 3:], features, self.top_positive, self.top_negative,
                                                    getattr(self, "min_contribution", MIN_CONTRIBUTION),
                                                    n_texts=len(REASON_TEXT_COLUMNS))
            del contrib, sums
        else:
            margin = np.asarray(self.model.margin(features), dtype=float) if n else margin
            fit = engagement = np.full(n, np.nan)
            matrix_grade = np.full(n, None, dtype=object)
            reasons = np.full(n, "[]", dtype=object)
            texts = np.full((n, len(REASON_TEXT_COLUMNS)), "", dtype=object)
        native = getattr(self.model, "native_score", None)  # the points model scores in points
        lead_id = features["lead_id"]
        lead_id = lead_id if pd.api.types.is_string_dtype(lead_id.dtype) else lead_id.astype(str)
        columns = {
            "lead_id": lead_id.reset_index(drop=True),
            "as_of": (pd.to_datetime(features["as_of"]).to_numpy() if "as_of" in features
                      else np.full(n, np.datetime64("NaT", "ns"))),
            "probability": self.calibrator.predict(margin) if n else np.zeros(0),
            "score": native(features) if native is not None and n else self.grades.score(margin),
            "grade": self.grades.grade(margin),
            "fit_score": fit,
            "engagement_score": engagement,
            "matrix_grade": matrix_grade,
            # object dtype: inferring pandas' Arrow-backed str from a million long JSON texts costs seconds
            "top_reasons": pd.Series(reasons, dtype=object, index=pd.RangeIndex(n), copy=False),
            **{c: pd.Series(texts[:, i], dtype=object, index=pd.RangeIndex(n)) for i, c in enumerate(REASON_TEXT_COLUMNS)},
            "model_name": f"{self.registered_name}/{self.model.name}",
            "model_version": model_version,
            "scored_at": pd.Timestamp.now(tz="UTC").tz_localize(None),
        }
        return pd.DataFrame(columns, index=pd.RangeIndex(n))[OUTPUT_COLUMNS]

    def fit_matrix(self, features: pd.DataFrame, y: np.ndarray, fit_shares: Sequence[float],
                   engagement_shares: Sequence[float], max_rows: int = 20_000, seed: int = 0) -> MatrixGrades:
        """Learn the matrix grade's cut-offs on (validation) rows; a random `max_rows` of them are plenty for
        quantiles and keep the SHAP pass short."""
        rows = np.arange(len(features))
        if len(rows) > max_rows:
            rows = np.sort(np.random.default_rng(seed).choice(rows, max_rows, replace=False))
        fit, engagement = self.split(features.iloc[rows])
        self.matrix = MatrixGrades.fit(fit, engagement, fit_shares, engagement_shares, y=np.asarray(y)[rows])
        return self.matrix

    def split(self, features: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """(fit_score, engagement_score) per row: the contributions summed over profile and quality
        features and over engagement features (what the matrix grade is learnt from)."""
        contrib = np.asarray(self.model.contributions(features), dtype=float)
        plan = reason_plan(self, self.feature_names, self.info)
        sums = contrib @ plan.weights(contrib.shape[1], self.info)[:, :3]
        return sums[:, 1], sums[:, 2]
