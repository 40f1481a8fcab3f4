"""Helpers for the batch-step tests: scores frames with the scorer's OUTPUT_COLUMNS, their input leads, and a
driver that runs steps the way both engines do (start, every part in order, finish)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from models.scorer import OUTPUT_COLUMNS
from pipeline.scoring.steps import Batch


def reasons(*items: tuple[str, str, float]) -> str:
    return json.dumps([{"feature": f, "label": lab, "value": 1, "contribution": c} for f, lab, c in items])


def scores_frame(rows: list[dict[str, Any]], as_of: str) -> pd.DataFrame:
    """OUTPUT_COLUMNS for `rows` (lead_id, probability, score, grade, engagement_score, top_reasons given)."""
    frame = pd.DataFrame(rows)
    n = len(frame)
    labels = [[r["label"] for r in json.loads(t)] for t in frame["top_reasons"]]
    defaults = {"as_of": pd.Timestamp(as_of), "fit_score": 0.0, "matrix_grade": "B2", "model_name": "lightgbm",
                "model_version": "3", "scored_at": pd.Timestamp(as_of) + pd.Timedelta(hours=26)}  # scored the next morning
    for column, value in defaults.items():
        frame[column] = [value] * n
    for i in (1, 2, 3):
        frame[f"reason_{i}"] = [ls[i - 1] if len(ls) >= i else "" for ls in labels]
    return frame[OUTPUT_COLUMNS]


def batch(output: Path, as_of: str, version: str = "3") -> Batch:
    return Batch(output=output, as_of=pd.Timestamp(as_of), scorer=None, sources={"leads": "leads.csv"},
                 model_version=version)


def drive(steps: list, scores: pd.DataFrame, leads: pd.DataFrame, b: Batch, parts: int = 2) -> tuple[pd.DataFrame, dict]:
    """Run the steps over `scores` split into `parts` parts (each with its own leads only, as chunks are);
    returns the scores with the steps' columns and the merged summaries. The batch's files are committed at
    the end, as the core (pipeline.scoring.batch.ScoredBatch) does when the batch succeeds."""
    with b.files:
        for step in steps:
            step.start(b)
        out = []
        for idx in np.array_split(np.arange(len(scores)), parts):
            part = scores.iloc[idx].reset_index(drop=True)
            part_leads = leads.loc[leads["lead_id"].isin(part["lead_id"])].reset_index(drop=True)
            for step in steps:
                part = step.part(part, part_leads)
            out.append(part)
        summary: dict = {}
        for step in steps:
            summary |= step.finish(b)
    return pd.concat(out, ignore_index=True), summary
