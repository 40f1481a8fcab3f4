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

import logging
from pathlib import Path
from urllib.parse import urlparse

import pandas as pd

from pipeline.config import Config
from pipeline.console import Reporter
from pipeline.data import load_scoring_inputs
from pipeline.errors import InputError, LeadscoreError
from pipeline.featurize import as_of_cut
from pipeline.io import check_output, write_table

log = logging.getLogger("leadscore")
CHAMPION = "champion"
NO_CHAMPION_HINT = "no champion yet? run `leadscore train` / `leadscore retrain` first"


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
                model_uri: str | None = None, reporter: Reporter | None = None, workdir: str | Path | None = None) -> pd.DataFrame:
    reporter = reporter or Reporter(quiet=True)
    output = check_output(output)
    model_uri = model_uri or default_model_uri(cfg)
    check_model_uri(model_uri)
    as_of = as_of or pd.Timestamp.now(tz="UTC").tz_localize(None)
    inputs = as_of_cut(load_scoring_inputs(cfg, leads, events), as_of)

    from pipeline import tracking  # MLflow: imported only once the inputs are known good

    uri = tracking.setup(cfg, workdir)
    _require_store(uri, model_uri)
    model = tracking.load_pyfunc(model_uri)
    version = tracking.resolve_version(model_uri)
    scorer = model.unwrap_python_model().scorer
    reporter.step(f"Scoring with {model_uri} (version {version or '-'}) as of {as_of}")
    _warn_missing_columns(scorer.builder, inputs.leads, inputs.sources["leads"])
    _warn_event_types(scorer.builder, inputs.events, inputs.sources.get("events"))
    table = scorer.builder.transform(inputs.leads, inputs.events, as_of)
    _warn_unseen_categories(scorer.model, table, inputs.sources["leads"])
    scores = model.predict(table, params={"model_version": version})
    write_table(scores, output)
    _log_batch(cfg, uri, model_uri, version, as_of, scores)
    reporter.step(f"Wrote {len(scores):,} scores to {output}")
    return scores


def _require_store(tracking_uri: str, model_uri: str) -> None:
    """A registry URI against a local SQLite store that does not exist: say so without creating one."""
    if tracking_uri.startswith("sqlite:///") and model_uri.startswith(("models:/", "runs:/")):
        db = Path(tracking_uri.removeprefix("sqlite:///"))
        if not db.exists():
            raise LeadscoreError(f"{model_uri}: cannot load model ({NO_CHAMPION_HINT}): no tracking store at {db}")


def _warn_missing_columns(builder: object, leads: pd.DataFrame, source: str) -> None:
    profile = getattr(builder, "profile_", None)
    if profile is None:
        return
    used = [*getattr(profile, "roles_present_", []), *getattr(profile, "numeric_generic_", []),
            *getattr(profile, "categorical_generic_", [])]
    missing = [c for c in used if c not in leads.columns]
    if missing:
        log.warning("%s: %d columns the model was trained with are missing and count as unknown for every lead: %s%s",
                    source, len(missing), ", ".join(f"'{c}'" for c in missing[:3]), ", ..." if len(missing) > 3 else "")


def _warn_event_types(builder: object, events: pd.DataFrame | None, source: str | None) -> None:
    eng = getattr(builder, "engagement_", None)
    if eng is None:
        return
    if events is None:
        log.warning("no --events file: the model uses engagement features, which will show no activity for any lead")
        return
    known = {*eng.event_types_, *eng.high_intent, *eng.negative, *eng.email_open, *eng.email_click}
    counts = events["event_type"].value_counts()
    unknown = counts[~counts.index.isin(list(known))]
    if len(unknown):
        shown = ", ".join(f"'{str(t)[:40]}' {n}" for t, n in unknown.head(3).items())
        log.warning("%s: %d events of %d types the model has no features for count only in the activity totals (%s%s)",
                    source, int(unknown.sum()), len(unknown), shown, ", ..." if len(unknown) > 3 else "")


def known_categories(model: object) -> dict[str, list[str]]:
    """Per categorical feature, the values the model learnt something for: a model's own
    `known_categories()`, else its rare-category encoder's (without the catch-all '__other__').
    Empty for models without a notion of unseen values (the points model: no rule, no points)."""
    own = getattr(model, "known_categories", None)
    if callable(own):
        return {str(k): [str(v) for v in vals] for k, vals in own().items()}
    categories = getattr(getattr(model, "encoder", None), "categories_", None) or {}
    return {str(col): [str(v) for v in cats if v != "__other__"] for col, cats in categories.items()}


def _warn_unseen_categories(model: object, table: pd.DataFrame, source: str) -> None:
    """Category values outside the model's training categories are scored as 'other': say how many."""
    parts, total = [], 0
    for col, kept in known_categories(model).items():
        if col not in table.columns:
            continue
        values = table[col].astype(str)
        unseen = values[~values.isin(kept)]
        if len(unseen):
            total += len(unseen)
            top = unseen.value_counts().head(3)
            parts.append(f"'{col}' {len(unseen)} (" + ", ".join(f"{str(v)[:30]!r} x{n}" for v, n in top.items()) + ")")
    if parts:
        log.warning("%s: %d values not among the model's training categories are scored as 'other': %s%s",
                    source, total, "; ".join(parts[:3]), "; ..." if len(parts) > 3 else "")


def _log_batch(cfg: Config, uri: str, model_uri: str, version: str, as_of: pd.Timestamp, scores: pd.DataFrame) -> None:
    """A run in the batch experiment with counts only (no lead ids or personal data)."""
    import mlflow

    from pipeline import tracking

    tracking.ensure_experiment(cfg.mlflow.batch_experiment, uri)
    with mlflow.start_run(run_name=f"predict-{as_of.date()}"):
        mlflow.set_tags({"model_uri": model_uri, "model_version": version, "as_of": str(as_of)})
        grades = scores["grade"].value_counts()
        mlflow.log_metrics({"leads_scored": len(scores), "mean_probability": float(scores["probability"].mean()),
                            **{f"grade_{g}": int(grades.get(g, 0)) for g in "ABCD"}})
