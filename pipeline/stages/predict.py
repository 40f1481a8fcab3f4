"""`leadscore predict`: batch scoring with the registered model (SPEC 4), written atomically.

Order of work: the output path, the model URI's form and the inputs are checked first (cheap, no
MLflow import), then the model is loaded, then scores are written in one atomic step. A failure at
any point leaves the previous output file and the registry as they were.

Models load only from the configured registry / tracking store (`models:/NAME@ALIAS`,
`models:/NAME/VERSION`, `runs:/RUN_ID/PATH`) or from a local model folder the user names explicitly;
any other scheme (http(s), s3, gs, dbfs, `models://profile@host`, ...) is refused, so a config or
environment can never make batch scoring fetch and unpickle a model from somewhere unexpected.
"""
from __future__ import annotations

import contextlib
import logging
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pandas as pd

from pipeline.config import Config
from pipeline.console import Reporter
from models.alerts import ALERT_COLUMNS, Thresholds, crossings
from models.scorer import OUTPUT_COLUMNS
from models.drift import DriftResult
from pipeline.inputs.chunks import chunked_inputs
from pipeline.scoring.drift import BatchDrift, drift_metrics, warn_drift, write_drift_reports
from pipeline.errors import InputError, LeadscoreError
from pipeline.inputs.io import TableWriter, check_output

log = logging.getLogger("leadscore")
CHAMPION = "champion"
NO_STORE_HINT = ("no champion yet, nothing trained with this store: run `leadscore retrain` (train + promotion gate) or "
                 "`leadscore train` and `leadscore promote --version N`; after `make demo`, run from the project root "
                 "or set MLFLOW_TRACKING_URI")


def default_model_uri(cfg: Config) -> str:
    return f"models:/{cfg.mlflow.registered_model}@{CHAMPION}"


def check_model_uri(uri: str) -> None:
    """Refuse model URIs outside the configured registry / tracking store or an explicit local folder."""
    if uri.startswith(("models:/", "runs:/")) and not uri.startswith(("models://", "runs://")):
        if not uri.split(":/", 1)[1].strip("/"):
            raise InputError(f"{uri}: incomplete model URI; use models:/NAME@ALIAS, models:/NAME/VERSION or runs:/RUN_ID/model")
        return
    parsed = urlparse(uri)
    if parsed.scheme in ("", "file") or len(parsed.scheme) == 1:  # a path (or a Windows drive letter)
        path = Path(parsed.path if parsed.scheme == "file" else uri)
        if not path.exists():
            raise InputError(f"{uri}: no model there (no such file or folder)")
        if not (path / "MLmodel").is_file():
            raise InputError(f"{uri}: not an MLflow model folder (no MLmodel file in it)")
        return
    raise InputError(
        f"{uri}: models load only from the configured registry (models:/NAME@ALIAS, models:/NAME/VERSION), "
        f"its tracking store (runs:/RUN_ID/model) or a local model folder; '{parsed.scheme}:' is not allowed"
    )


def run_predict(cfg: Config, leads: str, events: str | None, output: str | Path, as_of: pd.Timestamp | None = None,
                model_uri: str | None = None, reporter: Reporter | None = None, workdir: str | Path | None = None,
                previous: str | None = None, engine: str = "pandas", outcomes: str | None = None) -> dict:
    """Score the leads and write OUTPUT atomically; returns the JSON summary (rows, grades, alerts...).

    The inputs are streamed (`pipeline.inputs.chunks`): read and checked in batches, partitioned by lead into
    chunks of `scoring.chunk_leads` leads, each scored with its own events, so peak memory follows the
    chunk size. Inputs of one chunk keep the file's row order; larger ones come out grouped by chunk
    (join on lead_id). All checks of the inputs run before the model is loaded.

    With `outcomes` (a file of lead_id, converted_at; default: the config's `scoring.outcomes`), leads
    that converted before as_of are not scored (nor alerted); the warning says how many."""
    if engine == "spark":
        from pipeline.spark.engine import run_predict_spark

        return run_predict_spark(cfg, leads, events, output, as_of, model_uri, reporter, workdir, previous=previous,
                                 outcomes=outcomes)
    reporter = reporter or Reporter(quiet=True)
    outcomes = outcomes_file(cfg, outcomes)
    output = check_output(output)
    alerts_output = alerts_path(output) if previous else None
    model_uri = model_uri or default_model_uri(cfg)
    check_model_uri(model_uri)
    as_of = as_of or pd.Timestamp.now(tz="UTC").tz_localize(None)
    with chunked_inputs(cfg.data, leads, events, as_of, cfg.scoring.chunk_leads, previous, outcomes,
                        cfg.training.max_lead_age_days) as inputs:
        uri, model, version = load_model(cfg, model_uri, workdir)  # MLflow only once the inputs are known good
        scorer = model.unwrap_python_model().scorer
        reporter.step(f"Scoring with {model_uri} (version {version or '-'}) as of {as_of}"
                      + (f", {inputs.n_chunks} chunks" if inputs.n_chunks > 1 else ""))
        checks = ChunkChecks(scorer, inputs.sources)
        drift = BatchDrift(scorer, warn_psi=cfg.scoring.drift_warn_psi)
        thresholds = alert_thresholds(scorer, cfg)
        grades: Counter[str] = Counter()
        probability_sum = 0.0
        with contextlib.ExitStack() as stack:
            writer = stack.enter_context(TableWriter(output, OUTPUT_COLUMNS))
            alerts = stack.enter_context(TableWriter(alerts_output, ALERT_COLUMNS)) if alerts_output else None
            update = stack.enter_context(reporter.progress("Scoring leads", inputs.leads_total))
            for chunk in inputs.chunks():
                checks.before(chunk.leads, chunk.events)
                table = scorer.builder.transform(chunk.leads, chunk.events, as_of)
                checks.after(table)
                scores = model.predict(table, params={"model_version": version})
                writer.write(scores)
                drift.update(table, scores)
                grades.update(scores["grade"])
                probability_sum += float(scores["probability"].sum())
                if alerts is not None:
                    alerts.write(crossings(scores, chunk.previous, thresholds))
                update(writer.rows, inputs.leads_total)
        inputs.warn_unknown_events()
        checks.warn()
        drifted = drift.finish()
        reports = write_drift_reports(drifted, output) if drifted is not None else []
    summary = {"output": str(output), "rows": writer.rows, "chunks": inputs.n_chunks,
               "grades": {g: grades.get(g, 0) for g in "ABCD"},
               "mean_probability": round(probability_sum / max(writer.rows, 1), 6),
               "skipped_converted": inputs.leads_converted, "older_than_max_age": inputs.leads_old}
    if alerts is not None:
        summary |= {"alerts_output": str(alerts_output), "alerts": alerts.rows}
    if drifted is not None:
        summary |= {"drift_report": str(reports[1]), "psi_score": round(drifted.score.psi, 4),
                    "features_drifted": len(drifted.drifted())}
    _log_batch(cfg, uri, model_uri, version, as_of, summary, drifted, reports)
    if drifted is not None:
        warn_drift(drifted, log, report=reports[1])
    reporter.step(f"Wrote {writer.rows:,} scores to {output}"
                  + (f"; {alerts.rows:,} leads newly crossed hot / MQL: {alerts_output}" if alerts is not None else ""))
    return summary


def outcomes_file(cfg: Config, outcomes: str | None) -> str | None:
    """`--outcomes`, else the config's `scoring.outcomes` (relative to the config's folder)."""
    if outcomes is not None:
        return outcomes
    return str(cfg.resolve(cfg.scoring.outcomes)) if cfg.scoring.outcomes else None


def alerts_path(output: Path) -> Path:
    """scores.parquet -> scores.alerts.parquet, beside the scores."""
    return output.with_name(f"{output.stem}.alerts{output.suffix}")


def alert_thresholds(scorer: object, cfg: Config) -> Thresholds:
    """A points model's own hot / MQL thresholds (its score is in points); else the config's."""
    rules = getattr(getattr(scorer, "model", None), "rules", None)
    if rules is not None and hasattr(rules, "thresholds"):
        return Thresholds(mql_score=rules.thresholds.mql, hot_grade=None, hot_score=rules.thresholds.hot)
    return Thresholds(mql_score=cfg.scoring.alerts.mql_score, hot_grade=cfg.scoring.alerts.hot_grade)


class ChunkChecks:
    """Warnings about the inputs against the model (missing columns, unknown event types, unseen
    categories), added up over the chunks and given once at the end."""

    def __init__(self, scorer: object, sources: dict[str, str]):
        self.scorer, self.sources = scorer, sources
        self.first = True
        self.unknown_types: Counter[str] = Counter()
        self.unseen: dict[str, Counter[str]] = {}
        self.known = known_categories(getattr(scorer, "model", None))
        eng = getattr(scorer.builder, "engagement_", None)
        self.event_types = None if eng is None else {*eng.event_types_, *eng.high_intent, *eng.negative,
                                                      *eng.email_open, *eng.email_click}

    def before(self, leads: pd.DataFrame, events: pd.DataFrame | None) -> None:
        if self.first:
            _require_model_columns(self.scorer.builder, leads, self.sources["leads"])
            if self.event_types is not None and "events" not in self.sources:
                log.warning("no --events file: the model uses engagement features, which will show no activity for any lead")
            self.first = False
        if self.event_types is not None and events is not None and len(events):
            counts = events["event_type"].value_counts()
            self.unknown_types.update(counts[~counts.index.isin(list(self.event_types))].to_dict())

    def after(self, table: pd.DataFrame) -> None:
        for col, kept in self.known.items():
            if col in table.columns:
                values = table[col].astype(str)
                unseen = values[~values.isin(kept)]
                if len(unseen):
                    self.unseen.setdefault(col, Counter()).update(unseen.value_counts().to_dict())

    def detached(self) -> "ChunkChecks":
        """An empty copy without the scorer (small to pickle), for counting where the chunks are built
        (a Spark task); `merge` adds its counts back. It gives no first-chunk warnings."""
        copy = object.__new__(ChunkChecks)
        copy.scorer, copy.sources, copy.first = None, self.sources, False
        copy.unknown_types, copy.unseen = Counter(), {}
        copy.known, copy.event_types = self.known, self.event_types
        return copy

    def merge(self, other: "ChunkChecks") -> None:
        """Add the counts of a detached copy."""
        self.unknown_types.update(other.unknown_types)
        for col, counts in other.unseen.items():
            self.unseen.setdefault(col, Counter()).update(counts)

    def warn(self) -> None:
        if self.unknown_types:
            top = self.unknown_types.most_common()
            shown = ", ".join(f"'{str(t)[:40]}' {n}" for t, n in top[:3])
            log.warning("%s: %d events of %d types the model has no features for count only in the activity totals (%s%s)",
                        self.sources.get("events"), sum(self.unknown_types.values()), len(top), shown,
                        ", ..." if len(top) > 3 else "")
        if self.unseen:
            total = sum(sum(c.values()) for c in self.unseen.values())
            parts = ["'{}' {} ({})".format(col, sum(c.values()), ", ".join(f"{str(v)[:30]!r} x{n}" for v, n in c.most_common(3)))
                     for col, c in self.unseen.items()]
            log.warning("%s: %d values not among the model's training categories are scored as 'other': %s%s",
                        self.sources["leads"], total, "; ".join(parts[:3]), "; ..." if len(parts) > 3 else "")


def load_model(cfg: Config, model_uri: str, workdir: str | Path | None = None) -> tuple[str, Any, str]:
    """(tracking URI, the pyfunc, its registry version) for a checked model URI."""
    from pipeline import tracking

    uri = tracking.setup(cfg, workdir, demo_fallback=True)
    _require_store(uri, model_uri)
    return uri, tracking.load_pyfunc(model_uri), tracking.resolve_version(model_uri)


def _require_store(tracking_uri: str, model_uri: str) -> None:
    """A registry URI against a local SQLite store that does not exist: say so without creating one."""
    if tracking_uri.startswith("sqlite:///") and model_uri.startswith(("models:/", "runs:/")):
        db = Path(tracking_uri.removeprefix("sqlite:///"))
        if not db.exists():
            raise LeadscoreError(f"{model_uri}: cannot load model ({NO_STORE_HINT}): no tracking store at {db}")


def _require_model_columns(builder: object, leads: pd.DataFrame, source: str) -> None:
    profile = getattr(builder, "profile_", None)
    if profile is None:
        return
    used = [*getattr(profile, "roles_present_", []), *getattr(profile, "numeric_generic_", []),
            *getattr(profile, "categorical_generic_", [])]
    missing = [c for c in used if c not in leads.columns]
    if missing:  # scored as unknown for every lead, grades collapse: an error, not a warning (issue 13)
        raise InputError(
            f"{source}: missing {len(missing)} column{'s' if len(missing) > 1 else ''} the model was trained with: "
            f"{', '.join(repr(c) for c in missing[:3])}{', ...' if len(missing) > 3 else ''}; add "
            f"{'them' if len(missing) > 1 else 'it'} (empty cells are fine: they count as unknown) or retrain without")


def known_categories(model: object) -> dict[str, list[str]]:
    """Per categorical feature, the values the model learnt something for: a model's own
    `known_categories()`, else its rare-category encoder's (without the catch-all '__other__').
    Empty for models without a notion of unseen values (the points model: no rule, no points)."""
    own = getattr(model, "known_categories", None)
    if callable(own):
        return {str(k): [str(v) for v in vals] for k, vals in own().items()}
    categories = getattr(getattr(model, "encoder", None), "categories_", None) or {}
    return {str(col): [str(v) for v in cats if v != "__other__"] for col, cats in categories.items()}


def _log_batch(cfg: Config, uri: str, model_uri: str, version: str, as_of: pd.Timestamp, summary: dict,
               drifted: DriftResult | None, reports: list[Path], tags: dict[str, str] | None = None) -> None:
    """A run in the batch experiment: counts, drift metrics and reports (no lead ids or personal data)."""
    import mlflow

    from pipeline import tracking

    tracking.ensure_experiment(cfg.mlflow.batch_experiment, uri)
    with mlflow.start_run(run_name=f"predict-{as_of.date()}"):
        mlflow.set_tags({"model_uri": model_uri, "model_version": version, "as_of": str(as_of), **(tags or {})})
        mlflow.log_metrics({"leads_scored": summary["rows"], **({"chunks": summary["chunks"]} if "chunks" in summary else {}),
                            "mean_probability": summary["mean_probability"],
                            **{f"grade_{g}": n for g, n in summary["grades"].items()},
                            **({"alerts": summary["alerts"]} if "alerts" in summary else {})})
        if drifted is not None:
            mlflow.log_metrics(drift_metrics(drifted))
            for path in reports:
                mlflow.log_artifact(str(path), "drift")
