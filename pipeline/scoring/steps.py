"""What a scored batch does besides writing its scores (alerts, history and trend, accounts, ...).

A step sees the batch start, every scored part in the order parts are written (it may add columns to
them), and the batch end (it may write files beside OUTPUT, atomically, and adds keys to the summary).
Both engines run the same steps: the pandas engine per chunk, the Spark engine per Arrow batch it
streams into OUTPUT on the driver. So a step never assumes a part holds a whole account or all leads.
The core that runs them is `pipeline.scoring.batch`; the first step is the alerts of `--previous`
(`pipeline.scoring.alerts.AlertsStep`).
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pandas as pd


@dataclass
class Batch:
    """One `leadscore predict` run, as the steps see it."""

    output: Path  # the scores file being written (the steps' files go beside it)
    as_of: pd.Timestamp
    scorer: Any  # models.scorer.LeadScorer
    sources: dict[str, str]  # "leads", "events", ...: the input files, for messages
    model_version: str = ""
    options: dict[str, Any] = field(default_factory=dict)  # the config's and CLI's choices for the steps
    # a file a step streams into across parts is opened here (`batch.files.enter_context(TableWriter(...))`):
    # it appears, with OUTPUT, when the batch ends without an error, and is discarded otherwise
    files: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    # during `part`: the previous scoring's rows (lead_id, score, grade) of the part's leads, with --previous
    previous: pd.DataFrame | None = None


class BatchStep(Protocol):
    """A step of a scored batch; `columns` are the columns it adds to the scores (in that order)."""

    columns: list[str]

    def start(self, batch: Batch) -> None:
        """Before the first part: read what the step needs (a history, the previous scores...)."""

    def part(self, scores: pd.DataFrame, leads: pd.DataFrame) -> pd.DataFrame:
        """One part of the scores (the model's output columns plus earlier steps' columns), and input
        leads holding at least those leads (join on `lead_id`); returns the scores with `columns` added."""

    def finish(self, batch: Batch) -> dict[str, Any]:
        """After the last part: write the step's files (atomically) and return its summary keys."""
