"""LeadScorer: the fitted feature builder, model, calibrator and grade scale that turn a lead-level
feature table into the SPEC 4 scoring columns. This is what the MLflow pyfunc wraps."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from features.builder import LeadFeatureBuilder
from features.metadata import FeatureInfo
from models.calibration import Calibrator
from models.estimators import MarginModel
from models.explain import group_sums, top_reasons
from models.grades import GradeScale

OUTPUT_COLUMNS = ["lead_id", "as_of", "probability", "score", "grade", "fit_score", "engagement_score",
                  "top_reasons", "model_name", "model_version", "scored_at"]


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

    @property
    def feature_names(self) -> list[str]:
        return self.model.feature_names

    def probability(self, features: pd.DataFrame) -> np.ndarray:
        return self.calibrator.predict(self.model.margin(features))

    def score(self, features: pd.DataFrame, explain: bool = True, model_version: str = "") -> pd.DataFrame:
        """SPEC 4 columns for each row of the feature table (`lead_id`, optional `as_of`, features)."""
        missing = [c for c in self.feature_names if c not in features.columns]
        if missing:
            raise ValueError(f"feature table lacks {len(missing)} model features, e.g. {missing[:3]}")
        margin = self.model.margin(features)
        out = pd.DataFrame({"lead_id": features["lead_id"].astype(str).to_numpy()})
        out["as_of"] = pd.to_datetime(features["as_of"]).to_numpy() if "as_of" in features else pd.NaT
        out["probability"] = self.calibrator.predict(margin)
        native = getattr(self.model, "native_score", None)  # the points model scores in points
        out["score"] = native(features) if native is not None else self.grades.score(margin)
        out["grade"] = self.grades.grade(margin)
        if explain:
            contrib = self.model.contributions(features)[:, :-1]
            names = self.feature_names
            out["fit_score"] = group_sums(contrib, names, self.info, ("fit", "quality"))
            out["engagement_score"] = group_sums(contrib, names, self.info, ("engagement",))
            out["top_reasons"] = top_reasons(contrib, features, names, self.info, self.top_positive, self.top_negative)
        else:
            out["fit_score"] = np.nan
            out["engagement_score"] = np.nan
            out["top_reasons"] = "[]"
        out["model_name"] = f"{self.registered_name}/{self.model.name}"
        out["model_version"] = model_version
        out["scored_at"] = pd.Timestamp.now(tz="UTC").tz_localize(None)
        return out[OUTPUT_COLUMNS]
