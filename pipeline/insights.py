"""Attribute insights of a training session: per profile column and value, how its training examples
convert against all of them (models/insights.py), for the report and the `insights/` artifact.

The rows are the training examples (in events mode one per lead and weekly snapshot, labelled as the model
is: converted within the horizon), so the rates are those of the model's own target. The columns are the
profile builder's features (firmographics, title seniority and department, ICP flags, e-mail domain
type): what a sales manager can check against experience; engagement features move every week and are
left to the drivers table.
"""
from __future__ import annotations

import pandas as pd

from models.insights import PERSONAL_COLUMNS, attribute_insights
from pipeline.inputs.examples import Examples

MIN_SUPPORT = 30
REPORT_ROWS = 40  # the report shows the strongest rows; the artifact holds them all
MISSING_CODES = ("missing", "unknown")  # how the profile builder codes an empty category


def training_insights(examples: Examples, min_support: int = MIN_SUPPORT) -> pd.DataFrame:
    """models.insights.INSIGHT_COLUMNS on the train part's rows, for the profile features it has."""
    frame, y = examples.rows("train")
    profile = getattr(examples.builder, "profile_", None)
    names = list(profile.feature_info()) if profile is not None else []
    columns = [c for c in names if c in frame.columns and c not in PERSONAL_COLUMNS]
    return attribute_insights(as_filled(frame[columns]), y, columns, min_support=min_support)


def as_filled(frame: pd.DataFrame) -> pd.DataFrame:
    """The features with the builder's codes for an empty category ('missing', 'unknown') as missing
    again, so that the fill rate says how often the column was filled in the leads."""
    out = {}
    for c in frame.columns:
        values = frame[c]
        is_text = pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)
        out[c] = values.where(~values.isin(MISSING_CODES)) if is_text else values
    return pd.DataFrame(out, index=frame.index)
