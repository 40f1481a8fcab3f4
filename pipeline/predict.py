"""`leadscore predict`: batch scoring with the registered model (SPEC 4), written atomically."""
from __future__ import annotations

import logging
from pathlib import Path

import mlflow
import pandas as pd

from pipeline import tracking
from pipeline.config import Config
from pipeline.console import Reporter
from pipeline.data import load_scoring_inputs
from pipeline.errors import InputError
from pipeline.featurize import as_of_cut
from pipeline.io import TABLE_SUFFIXES, write_table

log = logging.getLogger("leadscore")


def default_model_uri(cfg: Config) -> str:
    return f"models:/{cfg.mlflow.registered_model}@{tracking.CHAMPION}"


def run_predict(cfg: Config, leads: str, events: str | None, output: str | Path, as_of: pd.Timestamp | None = None,
                model_uri: str | None = None, reporter: Reporter | None = None, workdir: str | Path | None = None) -> pd.DataFrame:
    reporter = reporter or Reporter(quiet=True)
    output = Path(output)
    if output.suffix.lower() not in TABLE_SUFFIXES:
        raise InputError(f"{output}: unsupported output type '{output.suffix}'; use .parquet or .csv")
    if not output.parent.exists():
        raise InputError(f"{output}: output folder {output.parent} does not exist")
    uri = tracking.setup(cfg, workdir)
    model_uri = model_uri or default_model_uri(cfg)
    model = tracking.load_pyfunc(model_uri)
    version = tracking.resolve_version(model_uri)
    scorer = model.unwrap_python_model().scorer
    as_of = as_of or pd.Timestamp.now(tz="UTC").tz_localize(None)
    reporter.step(f"Scoring with {model_uri} (version {version or '-'}) as of {as_of}")
    inputs = as_of_cut(load_scoring_inputs(cfg, leads, events), as_of)
    table = scorer.builder.transform(inputs.leads, inputs.events, as_of)
    scores = model.predict(table, params={"model_version": version})
    write_table(scores, output)
    _log_batch(cfg, uri, model_uri, version, as_of, scores)
    reporter.step(f"Wrote {len(scores):,} scores to {output}")
    return scores


def _log_batch(cfg: Config, uri: str, model_uri: str, version: str, as_of: pd.Timestamp, scores: pd.DataFrame) -> None:
    """A run in the batch experiment with counts only (no lead ids or personal data)."""
    tracking.ensure_experiment(cfg.mlflow.batch_experiment, uri)
    with mlflow.start_run(run_name=f"predict-{as_of.date()}"):
        mlflow.set_tags({"model_uri": model_uri, "model_version": version, "as_of": str(as_of)})
        grades = scores["grade"].value_counts()
        mlflow.log_metrics({"leads_scored": len(scores), "mean_probability": float(scores["probability"].mean()),
                            **{f"grade_{g}": int(grades.get(g, 0)) for g in "ABCD"}})
