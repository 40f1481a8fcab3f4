"""`leadscore backtest --at T`: train with what was known at T, score the leads open at T, and
evaluate on what happened in the horizon after T, for every model (and the oracle, given truth)."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd

from features.snapshots import open_lead_snapshots
from models.metrics import evaluate
from pipeline import tracking
from pipeline.config import Config
from pipeline.console import Reporter
from pipeline.errors import InputError, NotEnoughDataError
from pipeline.fitting import Fit, fit_all, refit_scorer
from pipeline.inputs.data import Inputs, load_training_inputs
from pipeline.inputs.examples import build_examples
from pipeline.inputs.io import read_table
from pipeline.inputs.readiness import assess, readiness_line

log = logging.getLogger(__name__)


def run_backtest(cfg: Config, at: pd.Timestamp, data: str | None = None, truth: str | None = None,
                 reporter: Reporter | None = None, workdir: str | Path | None = None) -> dict[str, Any]:
    reporter = reporter or Reporter(quiet=True)
    cfg = cfg.model_copy(update={"training": cfg.backtest.applied_to(cfg.training)})
    if cfg.data.mode != "events":
        raise InputError("backtest needs dated data (data.mode: events); use train --cv K for static data")
    uri = tracking.setup(cfg, workdir)
    inputs = load_training_inputs(cfg, data)
    horizon = pd.Timedelta(days=cfg.training.horizon_days)
    end = inputs.data_end()
    if end is None or at + horizon > end:
        raise NotEnoughDataError(f"backtest at {at.date()} needs outcomes until {(at + horizon).date()}; "
                                 f"the data ends {end}")
    y_rows = open_lead_snapshots(inputs.leads, inputs.outcomes, pd.DatetimeIndex([at]), cfg.training.horizon_days,
                                 cfg.training.max_lead_age_days)
    converting = int(y_rows['label'].sum())
    reporter.step(f"Backtest at {at.date()}: {len(y_rows):,} open leads, {converting:,} convert within the horizon")
    oracle = _oracle(truth, y_rows, at) if truth else None  # checked before the slow part
    examples = build_examples(cfg, inputs, at, with_test=False)
    readiness = assess(cfg, inputs, examples)
    reporter.step(readiness_line(readiness))
    known = inputs.known_at(at)
    results: dict[str, dict[str, float]] = {}
    tracking.ensure_experiment(cfg.mlflow.experiment, uri)
    with mlflow.start_run(run_name=f"backtest-{at.date()}"):
        mlflow.set_tags({"kind": "backtest", "at": str(at), "config_hash": cfg.fingerprint()})
        mlflow.log_metrics({"open_leads": len(y_rows), "conversions": int(y_rows["label"].sum())})
        labels = y_rows["label"].to_numpy()

        def judge_at_t(fit: Fit) -> None:
            """Score the leads open at T with the evaluated model and with its refit (what `train` would
            register at T); the refit's metrics are the backtest's."""
            X_at = _features_at(fit.scorer, known, y_rows, at)
            evaluated = evaluate(labels, fit.scorer.probability(X_at))
            final = refit_scorer(cfg, fit.scorer, fit.examples)
            results[fit.name] = evaluate(labels, final.probability(X_at)) if final else evaluated
            mlflow.set_tag("refit", str(final is not None).lower())
            mlflow.log_metrics({f"backtest_{k}": v for k, v in results[fit.name].items()})
            mlflow.log_metrics({f"backtest_before_refit_{k}": v for k, v in evaluated.items()})

        fit_all(cfg, examples, reporter, label=f" with data known at {at.date()}", each=judge_at_t)
        if oracle is not None:
            results["oracle"] = oracle
            with mlflow.start_run(run_name="oracle", nested=True):
                mlflow.set_tag("model_name", "oracle")
                mlflow.log_metrics({f"backtest_{k}": v for k, v in results["oracle"].items()})
    return {"models": results, "at": str(at.date()), "open_leads": len(y_rows), "conversions": int(y_rows["label"].sum()),
            "readiness": readiness}


def _features_at(scorer: Any, known: Inputs, rows: pd.DataFrame, at: pd.Timestamp) -> pd.DataFrame:
    leads = known.leads.set_index("lead_id").loc[rows["lead_id"]].reset_index()
    return scorer.builder.transform(leads, known.events, at)


def _oracle(truth_path: str, rows: pd.DataFrame, at: pd.Timestamp) -> dict[str, float]:
    """The generator's true probability at T (the sample world's truth file; never a feature)."""
    truth = read_table(truth_path)
    missing = {"lead_id", "as_of", "p_true"} - set(truth.columns)
    if missing:
        raise InputError(f"{truth_path}: missing column '{sorted(missing)[0]}' (expected lead_id, as_of, p_true)")
    at_t = truth[pd.to_datetime(truth["as_of"]) == at]
    if at_t.empty:
        dates = pd.to_datetime(truth["as_of"]).drop_duplicates().sort_values()
        near = dates[dates <= at].max()
        example = near.date() if pd.notna(near) else dates.min().date()
        raise InputError(f"{truth_path}: no truth rows at {at.date()}; truth is weekly, e.g. {example}")
    merged = rows.merge(at_t[["lead_id", "p_true"]], on="lead_id", how="left")
    if merged["p_true"].isna().any():
        log.warning("%s: %d open leads have no truth row; oracle scores them 0", truth_path,
                    int(merged["p_true"].isna().sum()))
    return evaluate(merged["label"].to_numpy(), merged["p_true"].fillna(0).to_numpy())
