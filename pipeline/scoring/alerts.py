"""The alerts of a scored batch (`--previous`): leads that newly crossed the hot or the MQL threshold
since the previous scores file, written to OUT.alerts.EXT beside the scores. The first `BatchStep`
(`pipeline.scoring.steps`); the crossing rule itself is `models.alerts`."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from models.alerts import ALERT_COLUMNS, Thresholds, crossings
from pipeline.config import Config
from pipeline.inputs.io import TableWriter
from pipeline.scoring.steps import Batch


def alerts_path(output: Path) -> Path:
    """scores.parquet -> scores.alerts.parquet, beside the scores."""
    return output.with_name(f"{output.stem}.alerts{output.suffix}")


def alert_thresholds(scorer: Any, cfg: Config) -> Thresholds:
    """A points model's own hot / MQL thresholds (its score is in points); else the config's."""
    return scorer.alert_thresholds(cfg.scoring.alerts.mql_score, cfg.scoring.alerts.hot_grade)


class AlertsStep:
    """Streams the crossings of every part into the alerts file (atomic, with the scores); adds no
    column to the scores. Needs the part's previous scores (`Batch.previous`)."""

    columns: list[str] = []

    def __init__(self, path: Path, thresholds: Thresholds):
        self.path, self.thresholds = path, thresholds
        self.writer: TableWriter | None = None
        self.batch: Batch | None = None

    def start(self, batch: Batch) -> None:
        self.batch = batch
        self.writer = batch.files.enter_context(TableWriter(self.path, ALERT_COLUMNS))

    def part(self, scores: pd.DataFrame, leads: pd.DataFrame) -> pd.DataFrame:
        self.writer.write(crossings(scores, self.batch.previous, self.thresholds))
        return scores

    def finish(self, batch: Batch) -> dict[str, Any]:
        return {"alerts_output": str(self.path), "alerts": self.writer.rows}
