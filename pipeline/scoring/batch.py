"""The batch-scoring core both engines of `leadscore predict` run: before, per part and after.

An engine only reads its inputs and turns them into scored parts; everything else is here, once:

    plan = plan_batch(cfg, output, as_of, model_uri, previous, outcomes)  # before: cheap checks, no MLflow
    ...the engine reads and checks its inputs...
    core = ScoredBatch.open(plan, sources, workdir, steps)   # the model, its checks, drift, alert thresholds
    with core:                                # OUTPUT (and the steps' files) appear only if the block succeeds
        for ...:                              # pandas: each chunk; Spark: each Arrow batch the driver streams
            core.part(scores, leads, table, previous)   # steps, scores written, drift, grade counts
    ...the engine's own warnings...
    summary = core.finish(skipped_converted=..., older_than_max_age=...)   # drift reports, batch run, summary

A part's scores go through the batch's steps (`pipeline.scoring.steps`) in order, each adding its
`columns`, and are written to OUTPUT with the model's output columns followed by those. The steps are
`batch_steps(plan, thresholds)` (the alerts of `--previous` first) and then the caller's own.
"""
from __future__ import annotations

import logging
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from models.drift import DriftResult
from models.scorer import OUTPUT_COLUMNS
from pipeline.config import Config
from pipeline.console import Reporter
from pipeline.inputs.io import TableWriter, check_output
from pipeline.model_uri import check_model_uri, default_model_uri
from pipeline.scoring.alerts import AlertsStep, alert_thresholds, alerts_path
from pipeline.scoring.checks import ChunkChecks
from pipeline.scoring.drift import BatchDrift, drift_metrics, warn_drift, write_drift_reports
from pipeline.scoring.steps import Batch, BatchStep

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Plan:
    """What a batch is, checked before any input is read: where it goes, which model, as of when."""

    cfg: Config
    output: Path
    model_uri: str
    as_of: pd.Timestamp
    previous: str | None = None  # --previous: the scores file alerts compare with
    outcomes: str | None = None  # --outcomes, else the config's scoring.outcomes

    @property
    def alerts_output(self) -> Path | None:
        return alerts_path(self.output) if self.previous else None


def plan_batch(cfg: Config, output: str | Path, as_of: pd.Timestamp | None = None, model_uri: str | None = None,
               previous: str | None = None, outcomes: str | None = None) -> Plan:
    """The output path and the model URI's form checked (one-line errors before any work); as_of
    defaults to now (UTC), the model to the registered champion."""
    outcomes = outcomes_file(cfg, outcomes)
    output = check_output(output)
    model_uri = model_uri or default_model_uri(cfg)
    check_model_uri(model_uri)
    as_of = pd.Timestamp(as_of) if as_of is not None else pd.Timestamp.now(tz="UTC").tz_localize(None)
    return Plan(cfg, output, model_uri, as_of, previous, outcomes)


def outcomes_file(cfg: Config, outcomes: str | None) -> str | None:
    """`--outcomes`, else the config's `scoring.outcomes` (relative to the config's folder)."""
    if outcomes is not None:
        return outcomes
    return str(cfg.resolve(cfg.scoring.outcomes)) if cfg.scoring.outcomes else None


def batch_steps(plan: Plan, thresholds: Any) -> list[BatchStep]:
    """The steps every batch of this plan runs, in order, before the caller's own: the alerts of
    `--previous` (first: they see the model's scores as they are)."""
    steps: list[BatchStep] = []
    if plan.alerts_output is not None:
        steps.append(AlertsStep(plan.alerts_output, thresholds))
    return steps


class ScoredBatch:
    """One batch being scored: the loaded model and what is counted over its parts.

    `drift_result` gives the batch's drift at the end: by default the drift counted by `part` on the
    feature tables it was given; an engine that counts the features elsewhere (Spark: per bucket) sets
    its own."""

    def __init__(self, plan: Plan, sources: dict[str, str], uri: str, model: Any, version: str,
                 steps: Sequence[BatchStep] = (), reporter: Reporter | None = None, options: dict | None = None):
        cfg = plan.cfg
        self.plan, self.sources, self.uri, self.model, self.version = plan, sources, uri, model, version
        self.reporter = reporter or Reporter(quiet=True)
        self.scorer = model.unwrap_python_model().scorer
        self.checks = ChunkChecks(self.scorer, sources)
        self.drift = BatchDrift(self.scorer, warn_psi=cfg.scoring.drift_warn_psi)
        self.drift_result: Callable[[], DriftResult | None] = self.drift.finish
        self.thresholds = alert_thresholds(self.scorer, cfg)
        self.steps = [*batch_steps(plan, self.thresholds), *steps]
        self.columns = [*OUTPUT_COLUMNS, *(c for step in self.steps for c in step.columns)]
        self.batch = Batch(plan.output, plan.as_of, self.scorer, sources, version, dict(options or {}))
        self.rows = 0
        self.grades: Counter[str] = Counter()
        self.probability_sum = 0.0
        self.step_summary: dict[str, Any] = {}
        self._writer: TableWriter | None = None

    @classmethod
    def open(cls, plan: Plan, sources: dict[str, str], workdir: str | Path | None = None,
             steps: Sequence[BatchStep] = (), reporter: Reporter | None = None,
             options: dict | None = None) -> ScoredBatch:
        """Load the plan's model (MLflow is imported here: call it once the inputs are known good);
        STEPS run after the plan's own, OPTIONS are the steps' `Batch.options`."""
        from pipeline.tracking import load_model

        uri, model, version = load_model(plan.cfg, plan.model_uri, workdir)
        return cls(plan, sources, uri, model, version, steps, reporter, options)

    def predict(self, table: pd.DataFrame) -> pd.DataFrame:
        """The model's output columns for a feature table."""
        return self.model.predict(table, params={"model_version": self.version})

    def __enter__(self) -> ScoredBatch:
        files = self.batch.files.__enter__()
        try:
            self._writer = files.enter_context(TableWriter(self.plan.output, self.columns))
            for step in self.steps:
                step.start(self.batch)
        except BaseException:
            files.__exit__(*sys.exc_info())  # nothing half-written is left
            raise
        return self

    def part(self, scores: pd.DataFrame, leads: pd.DataFrame, table: pd.DataFrame | None = None,
             previous: pd.DataFrame | None = None) -> None:
        """One part of the batch: the model's scores of some leads, the input leads holding at least
        those, the feature table they were scored from (None: its drift is counted elsewhere) and the
        previous scoring's rows of those leads (`--previous`)."""
        self.batch.previous = previous
        for step in self.steps:
            scores = step.part(scores, leads)
        self.batch.previous = None
        self._writer.write(scores)
        if table is not None:
            self.drift.update(table, scores)
        self.rows += len(scores)
        self.grades.update(scores["grade"])
        self.probability_sum += float(scores["probability"].sum())

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool | None:
        if exc_type is None:
            try:
                for step in self.steps:
                    self.step_summary |= step.finish(self.batch)
            except BaseException as error:
                if not self.batch.files.__exit__(type(error), error, error.__traceback__):
                    raise
                return None
        return self.batch.files.__exit__(exc_type, exc, tb)

    def finish(self, skipped_converted: int, older_than_max_age: int, chunks: int | None = None,
               engine: str | None = None) -> dict:
        """After the parts were written: the model checks' warnings, the drift reports, the batch's run
        in MLflow, the drift warning and the closing line; returns the JSON summary."""
        output = self.plan.output
        self.checks.warn()
        drifted = self.drift_result()
        reports = write_drift_reports(drifted, output) if drifted is not None else []
        summary: dict[str, Any] = {"output": str(output), "rows": self.rows}
        if chunks is not None:
            summary["chunks"] = chunks
        summary |= {"grades": {g: self.grades.get(g, 0) for g in "ABCD"},
                    "mean_probability": round(self.probability_sum / max(self.rows, 1), 6)}
        if engine is not None:
            summary["engine"] = engine
        summary |= {"skipped_converted": skipped_converted, "older_than_max_age": older_than_max_age}
        summary |= self.step_summary
        if drifted is not None:
            summary |= {"drift_report": str(reports[1]), "psi_score": round(drifted.score.psi, 4),
                        "features_drifted": len(drifted.drifted())}
        log_batch(self.plan.cfg, self.uri, self.plan.model_uri, self.version, self.plan.as_of, summary, drifted, reports,
                  tags={"engine": engine} if engine else None)
        if drifted is not None:
            warn_drift(drifted, log, report=reports[1])
        self.reporter.step(f"Wrote {self.rows:,} scores to {output}"
                           + (f"; {summary['alerts']:,} leads newly crossed hot / MQL: {summary['alerts_output']}"
                              if "alerts_output" in summary else ""))
        return summary


def log_batch(cfg: Config, uri: str, model_uri: str, version: str, as_of: pd.Timestamp, summary: dict,
              drifted: DriftResult | None, reports: list[Path], tags: dict[str, str] | None = None) -> None:
    """A run in the batch experiment: counts, drift metrics and reports (no lead ids or personal data)."""
    import mlflow

    from pipeline import tracking

    tracking.ensure_experiment(cfg.mlflow.batch_experiment, uri)
    with mlflow.start_run(run_name=f"predict-{as_of.date()}"):
        mlflow.set_tags({"model_uri": model_uri, "model_version": version, "as_of": str(as_of), **(tags or {})})
        mlflow.log_metrics({"leads_scored": summary["rows"],
                            **({"chunks": summary["chunks"]} if "chunks" in summary else {}),
                            "mean_probability": summary["mean_probability"],
                            **{f"grade_{g}": n for g, n in summary["grades"].items()},
                            **({"alerts": summary["alerts"]} if "alerts" in summary else {})})
        if drifted is not None:
            mlflow.log_metrics(drift_metrics(drifted))
            for path in reports:
                mlflow.log_artifact(str(path), "drift")
