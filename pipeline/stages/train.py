"""`leadscore train`: examples -> every configured model -> calibration, grades, metrics -> MLflow
(one parent run, one child run per model) -> the best model registered as `challenger`."""
from __future__ import annotations

import hashlib
import json
import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import joblib
import matplotlib.pyplot as plt
import mlflow
import numpy as np
import pandas as pd
import yaml
from mlflow.models import infer_signature

import features
import models
from features.metadata import PERSONAL_ROLES
from models.grades import grade_table
from models.plots import calibration_figure, gains_figure, pr_figure, roc_figure, score_histogram, shap_summary_figure
from models.points import PointsModel, rules_to_yaml_dict
from models.pyfunc import LeadScorerModel
from models.report import figure_png, session_report
from models.scorer import LeadScorer
from models.segments import SegmentedScorer, SegmentRoute, SegmentRule, assign
from pipeline import tracking
from pipeline.config import Config
from pipeline.console import Reporter
from pipeline.fingerprints import code_fingerprint, data_fingerprint, file_digest
from pipeline.fitting import Fit, examples_for, fit_all, refit_scorer
from pipeline.inputs.data import Inputs, load_training_inputs
from pipeline.inputs.examples import Examples, build_examples
from pipeline.inputs.readiness import assess, readiness_line
from pipeline.insights import training_insights
from pipeline.scoring.drift import fit_reference
from pipeline.segments import (
    ROUTED,
    check_no_overlap,
    comparison,
    fallback_reason,
    lead_counts,
    not_better,
    only_model,
    segment_masks,
    segment_rules,
    subset,
)
from pipeline.stages.crossval import log_cross_validation

log = logging.getLogger(__name__)
LOWER_IS_BETTER = ("log_loss", "brier", "ece")


@dataclass
class FittedModel:
    name: str
    scorer: LeadScorer
    metrics: dict[str, float]
    run_id: str = ""
    model_uri: str = ""
    report: dict[str, Any] = field(default_factory=dict)  # grade table, drivers, charts for the HTML report
    final: LeadScorer | None = None  # the refit (training.refit) when it was logged


@dataclass
class TrainResult:
    parent_run_id: str
    models: dict[str, FittedModel]
    best: str
    version: str
    examples: Examples
    tracking_uri: str
    data_fingerprint: str
    inputs: Inputs | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {
            "models": {n: {k.removeprefix("test_"): v for k, v in m.metrics.items() if k.startswith(("test_", "cv_"))}
                       for n, m in self.models.items()},
            "best": self.best, "version": self.version, "run_id": self.parent_run_id,
            "until": str(self.examples.until) if self.examples.until is not None else None,
            "rows": self.examples.counts(), "readiness": self.examples.readiness, **self.extra,
        }


def run_train(cfg: Config, data: str | None = None, until: pd.Timestamp | None = None, cv: int | None = None,
              reporter: Reporter | None = None, workdir: str | Path | None = None,
              inputs: Inputs | None = None) -> TrainResult:
    reporter = reporter or Reporter(quiet=True)
    uri = tracking.setup(cfg, workdir)
    reporter.step("Loading and checking the data")
    inputs = inputs or load_training_inputs(cfg, data)
    reporter.step("Building point-in-time training examples and features")
    examples = build_examples(cfg, inputs, until)
    examples.readiness = assess(cfg, inputs, examples)
    reporter.step(readiness_line(examples.readiness))
    reporter.step("Examples: " + examples.readiness["uses"])
    rules = segment_rules(cfg, examples)  # bad or overlapping segments fail before any fitting
    check_no_overlap(rules, examples)
    fingerprint = data_fingerprint(inputs)
    tracking.ensure_experiment(cfg.mlflow.experiment, uri)
    with mlflow.start_run(run_name=_session_name(examples)) as parent:
        _log_session(cfg, inputs, examples, fingerprint)
        fitted: dict[str, FittedModel] = {}
        fit_all(cfg, examples, reporter, each=lambda fit: fitted.__setitem__(fit.name, log_fit(fit)))
        if cv and cv > 1:
            reporter.step(f"{cv}-fold cross-validation")
            log_cross_validation(cfg, examples, cv, fitted)
        best = select_best(fitted, cfg.training.selection_metric)
        mlflow.set_tag("best_model", best)
        final_uri = log_final_model(cfg, fitted[best], examples, reporter)
        segments: list[dict[str, Any]] = []
        if rules:
            final_uri, segments = train_segments(cfg, examples, rules, fitted[best], fingerprint, reporter)
        insights = training_insights(examples)
        mlflow.log_text(insights.to_csv(index=False), "insights/attribute_insights.csv")
        mlflow.log_text(build_report(examples, fitted, best, insights, segments), "report.html")
        listed = [{k: r[k] for k in ("segment", "model", "fallback")} for r in segments if r["segment"] != ROUTED]
        tags = {"segments": json.dumps(listed)} if rules else {}
        version = register(cfg, fitted[best], fingerprint, final_uri, extra_tags=tags)
        tracking.set_alias(cfg.mlflow.registered_model, tracking.CHALLENGER, version)
        mlflow.set_tag("registered_version", version)
    reporter.step(f"Registered {cfg.mlflow.registered_model} version {version} ({best}) as challenger")
    extra = {"segments": segments} if rules else {}
    return TrainResult(parent.info.run_id, fitted, best, version, examples, uri, fingerprint, inputs, extra)


def log_fit(fit: Fit) -> FittedModel:
    """Inside the model's run: drift reference, params, metrics, plots, grade tables, rules and the model."""
    scorer, metrics, d, name = fit.scorer, fit.metrics, fit.detail, fit.name
    # batch drift (PSI) compares against the test period: the latest labelled rows, never fitted on
    scorer.drift_reference = fit_reference(scorer, d["X_test"])
    mlflow.log_dict(scorer.drift_reference.to_dict(), "drift/reference.json")
    mlflow.set_tags({"model_name": name, "calibration": scorer.calibrator.method_})
    mlflow.log_params({f"model.{k}": v for k, v in scorer.model.params().items()})
    mlflow.log_param("calibration.method", scorer.calibrator.method_)
    mlflow.log_metrics(metrics)
    report = _log_plots(name, scorer, d)
    report["grades"] = _log_grade_tables(scorer, d)
    report["p_test"] = d["p_test"]  # the segments' comparison reuses the test probabilities
    report["m_val"], report["y_val"] = d["m_val"], d["y_val"]  # and the validation margins (keep_if_better)
    if isinstance(scorer.model, PointsModel):
        mlflow.log_text(yaml.safe_dump(rules_to_yaml_dict(scorer.model.rules), sort_keys=False), "points/rules.yaml")
    model_uri = log_scorer(scorer, fit.examples, name)
    log.info("  %s: test ROC AUC %.3f, PR AUC %.3f, ECE %.3f", name, metrics["test_roc_auc"], metrics["test_pr_auc"],
             metrics["test_ece"])
    return FittedModel(name, scorer, metrics, fit.run_id, model_uri, report)


def _log_plots(name: str, scorer: LeadScorer, d: dict[str, Any]) -> dict[str, Any]:
    """Log the evaluation plots; return what the session report reuses (drivers, two charts)."""
    y, p = d["y_test"], d["p_test"]
    figures = {
        "plots/roc.png": roc_figure(y, p, name), "plots/pr.png": pr_figure(y, p, name),
        "plots/calibration.png": calibration_figure(y, p, name), "plots/cumulative_gains.png": gains_figure(y, p, name),
        "plots/score_histogram.png": score_histogram(scorer.grades.score(d["m_test"]), y, name),
    }
    sample = d["X_test"].sample(n=min(2000, len(d["X_test"])), random_state=0)
    contrib = scorer.model.contributions(sample)[:, :-1]
    numeric = np.column_stack([_as_numbers(sample[c]) for c in scorer.feature_names])
    figures["plots/shap_summary.png"] = shap_summary_figure(contrib, numeric, scorer.feature_names, name)
    charts = {}
    for path, fig in figures.items():
        mlflow.log_figure(fig, path)
        if path in ("plots/cumulative_gains.png", "plots/calibration.png"):
            charts[path.split("/")[-1].removesuffix(".png").replace("_", " ")] = figure_png(fig)
        plt.close(fig)
    impact = pd.DataFrame({"feature": scorer.feature_names, "mean_abs_impact": np.abs(contrib).mean(axis=0)})
    impact["what it measures"] = [scorer.info[f].label.split("{")[0].rstrip(" :(") if f in scorer.info else f
                                  for f in impact["feature"]]
    drivers = impact.sort_values("mean_abs_impact", ascending=False).head(12)
    return {"drivers": drivers, "charts": charts}


def _as_numbers(values: pd.Series) -> np.ndarray:
    """Colour values for the SHAP beeswarm: numbers as they are, categories by their code."""
    numeric = pd.to_numeric(values, errors="coerce")
    if numeric.notna().sum() >= values.notna().sum():
        return numeric.to_numpy(float)
    return pd.factorize(values.astype(str))[0].astype(float)


def _log_grade_tables(scorer: LeadScorer, d: dict[str, Any]) -> pd.DataFrame:
    tables = {}
    for part in ("val", "test"):
        tables[part] = grade_table(scorer.grades.grade(d[f"m_{part}"]), d[f"y_{part}"])
        mlflow.log_text(tables[part].to_csv(index=False), f"grades/grade_table_{part}.csv")
    mlflow.log_dict({"cutoffs_margin": scorer.grades.cutoffs}, "grades/cutoffs.json")
    return tables["test"]


def build_report(examples: Examples, fitted: dict[str, FittedModel], best: str,
                 insights: pd.DataFrame | None = None, segments: list[dict[str, Any]] | None = None) -> str:
    counts = examples.counts()
    facts = {f"{part} examples": f"{c['rows']:,} ({c['conversions']:,} converted, "
                                 f"{c['conversions'] / max(c['rows'], 1):.1%})" for part, c in counts.items()}
    facts |= {k.replace("_", " "): v for k, v in examples.split.items()}
    if examples.readiness:
        r = examples.readiness
        facts["data readiness"] = r["verdict"] + "".join(f"; {n}" for n in r["notes"])
    if fitted[best].report.get("final_model"):
        facts["registered model"] = fitted[best].report["final_model"]
    rows = [{"model": n, **{k.removeprefix("test_"): v for k, v in m.metrics.items() if k.startswith("test_")}}
            for n, m in fitted.items()]
    chosen = fitted[best].report
    return session_report(f"leadscore training session ({_session_name(examples)})", facts, pd.DataFrame(rows), best,
                          chosen.get("grades", pd.DataFrame()), chosen.get("drivers", pd.DataFrame()),
                          chosen.get("charts", {}), insights, segments=pd.DataFrame(segments) if segments else None)


def log_scorer(scorer: LeadScorer, examples: Examples, name: str, artifact: str = "model") -> str:
    """Log the scorer as a pyfunc (feature table in, SPEC 4 columns out) with its code."""
    example_part = "test" if (examples.part == "test").any() else "val"
    example = examples.table.iloc[np.flatnonzero(examples.part == example_part)[:5]].reset_index(drop=True)
    # the table's float32 columns are declared double: JSON / Spark clients send doubles, and MLflow only upcasts
    example = example.astype({c: np.float64 for c, t in example.dtypes.items() if t == np.float32})
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "scorer.joblib"
        joblib.dump(scorer, path)
        signature = infer_signature(example, scorer.score(example), params={"model_version": "", "explain": True})
        info = mlflow.pyfunc.log_model(
            name=artifact, python_model=LeadScorerModel(), artifacts={"scorer": str(path)},
            code_paths=[str(Path(features.__file__).parent), str(Path(models.__file__).parent)],
            pip_requirements=tracking.pip_requirements(), signature=signature, input_example=example,
        )
    return info.model_uri


def select_best(fitted: dict[str, FittedModel], metric: str) -> str:
    sign = -1 if any(metric.endswith(m) for m in LOWER_IS_BETTER) else 1
    return max(fitted, key=lambda n: sign * fitted[n].metrics[metric])


def log_final_model(cfg: Config, best: FittedModel, examples: Examples, reporter: Reporter) -> str:
    """The version to register: the best model refitted on every labelled snapshot (training.refit), logged
    as `final_model` in its run beside the evaluated `model`; or the evaluated model itself."""
    model_examples = examples_for(cfg, best.scorer.model, examples)  # the examples its scorer was fitted on
    reporter.step(f"Refitting {best.name} on every labelled snapshot for the registered version")
    final = refit_scorer(cfg, best.scorer, model_examples)
    if final is None:
        best.report["final_model"] = "the evaluated model (not refitted: training.refit is off or it learns nothing)"
        return best.model_uri
    best.final = final
    with mlflow.start_run(run_id=best.run_id, nested=True):
        uri = log_scorer(final, examples, best.name, artifact="final_model")
        mlflow.log_params({f"final.{k}": v for k, v in final.model.params().items() if k.startswith("refit")})
        mlflow.set_tag("final_model", "refit on every labelled snapshot")
    rows = final.model.refit_rows
    best.report["final_model"] = (f"refitted on all {rows:,} labelled snapshot rows (labels as known at the end of the "
                                  f"data) after the evaluation above; its margin is mapped onto the evaluated model's "
                                  f"scale, so the calibration, grades and score cut-offs stay those learnt on validation")
    return uri


def register(cfg: Config, best: FittedModel, fingerprint: str, model_uri: str | None = None, name: str | None = None,
             extra_tags: dict[str, str] | None = None) -> str:
    """Register `model_uri` (default: the evaluated model) as a new version of `name` (default: the main model)."""
    from importlib.metadata import version as package_version

    tags = {"model_name": best.name, "config_hash": cfg.fingerprint(), "data_fingerprint": fingerprint,
            "code_version": f"{package_version('leadscore')}+{code_fingerprint()}", "source_run_id": best.run_id,
            "evaluated_model_uri": best.model_uri, "refit": str(model_uri not in (None, best.model_uri)).lower(),
            **{k: f"{v:.4f}" for k, v in best.metrics.items() if k.startswith("test_")}} | (extra_tags or {})
    version = mlflow.register_model(model_uri or best.model_uri, name or cfg.mlflow.registered_model, tags=tags)
    return str(version.version)


def train_segments(cfg: Config, examples: Examples, rules: list[SegmentRule], best: FittedModel, fingerprint: str,
                   reporter: Reporter) -> tuple[str, list[dict[str, Any]]]:
    """One model per segment (the global winner's kind, fitted by `fit_all` on the segment's rows of the same
    feature table), each in a nested run tagged `segment`, registered as `<registered>-segment-<name>`; then the
    routing scorer, logged as `segmented_model` in the winner's run. Returns its URI and the comparison rows
    (segment vs global model on the same test rows), which go to the parent run as `segment.<name>.*`."""
    X_te, y_te = examples.rows("test")
    on_test = assign(rules, X_te)
    on_val = assign(rules, examples.rows("val")[0])
    p_global = best.report["p_test"]
    p_routed = p_global.copy()
    routes, rows = [], []
    for i, (rule, mask) in enumerate(zip(rules, segment_masks(rules, examples))):
        own = fit_segment(cfg, rule, subset(examples, mask), best, fingerprint, reporter)
        fallback = "" if isinstance(own, FittedModel) else own
        p_segment = own.report["p_test"] if not fallback else None
        val_aucs: dict[str, float] = {}
        if not fallback:
            worse, val_aucs = not_better(own.report["y_val"], best.report["m_val"][on_val == i], own.report["m_val"])
            fallback = worse if cfg.segments.keep_if_better else ""
        if fallback:
            reporter.step(f"Segment {rule.name}: scored by the global model ({fallback})")
            _tag_fallback(own, fallback)
        else:
            p_routed[on_test == i] = p_segment
        rows.append(comparison(rule.name, y_te[on_test == i], p_global[on_test == i], p_segment, fallback) | val_aucs)
        routes.append(SegmentRoute(rule, None if fallback else (own.final or own.scorer), fallback))
    rows.append(comparison(ROUTED, y_te, p_global, p_routed))
    for row in rows:
        key = "segments.routed" if row["segment"] == ROUTED else f"segment.{row['segment']}"
        mlflow.log_metrics({f"{key}.{k}": v for k, v in row.items()
                            if k.startswith(("segment_", "global_")) and v is not None})
    mlflow.log_dict(rows, "segments/comparison.json")
    routed = SegmentedScorer.around(best.final or best.scorer, routes)
    routed.drift_reference = fit_reference(routed, examples_for(cfg, best.scorer.model, examples).rows("test")[0])
    with mlflow.start_run(run_id=best.run_id, nested=True):
        uri = log_scorer(routed, examples, best.name, artifact="segmented_model")
        mlflow.log_dict(routed.describe(), "segments/routes.json")
    return uri, rows


def _tag_fallback(own: FittedModel | str, reason: str) -> None:
    """A fitted segment model that is not used: its segment run says why (it stays registered, to inspect)."""
    if isinstance(own, FittedModel) and own.report.get("segment_run_id"):
        mlflow.MlflowClient().set_tag(own.report["segment_run_id"], "segment.fallback", reason)


def fit_segment(cfg: Config, rule: SegmentRule, examples: Examples, best: FittedModel, fingerprint: str,
                reporter: Reporter) -> FittedModel | str:
    """The segment's own model in a nested run `segment-<name>`, registered; or why it falls back."""
    reason = fallback_reason(cfg.segments, examples)
    with mlflow.start_run(run_name=f"segment-{rule.name}", nested=True):
        mlflow.set_tags({"segment": rule.name, "segment.filter": rule.describe(), "segment.fallback": reason or "none"})
        leads = lead_counts(examples)
        mlflow.log_metrics({f"{part}_{k}": v for part, c in examples.counts().items() for k, v in c.items()}
                           | {f"{p}_leads": c["leads"] for p, c in leads.items()}
                           | {f"{p}_converted_leads": c["conversions"] for p, c in leads.items()})
        if reason:
            return reason
        seg_cfg = only_model(cfg, best.name)
        fitted: dict[str, FittedModel] = {}

        def log_segment_fit(fit: Fit) -> None:
            mlflow.set_tag("segment", rule.name)
            fitted[fit.name] = log_fit(fit)

        try:
            fit_all(seg_cfg, examples, reporter, label=f" (segment {rule.name})", each=log_segment_fit)
        except ValueError as exc:  # e.g. a validation or test period of one class: the global model scores it
            reason = f"its own model could not be fitted: {str(exc).splitlines()[0]}"
            mlflow.set_tag("segment.fallback", reason)
            return reason
        own = fitted[best.name]
        own.report["segment_run_id"] = mlflow.active_run().info.run_id
        uri = log_final_model(seg_cfg, own, examples, reporter)
        name = f"{cfg.mlflow.registered_model}-segment-{rule.name}"
        version = register(cfg, own, fingerprint, uri, name=name, extra_tags={"segment": rule.name})
        tracking.set_alias(name, tracking.CHALLENGER, version)
        reporter.step(f"Segment {rule.name}: registered {name} version {version}")
    return own


def _session_name(examples: Examples) -> str:
    return f"train-{examples.until.date()}" if examples.until is not None else "train-static"


def _log_session(cfg: Config, inputs: Inputs, examples: Examples, fingerprint: str) -> None:
    params = cfg.flat_params()
    items = list(params.items())
    for i in range(0, len(items), 90):
        mlflow.log_params(dict(items[i:i + 90]))
    mlflow.set_tags({"data_fingerprint": fingerprint, "config_hash": cfg.fingerprint(),
                     **{f"split.{k}": v for k, v in examples.split.items()}})
    log_datasets(inputs, examples)
    mlflow.log_dict(examples.counts(), "examples/counts.json")
    if examples.readiness:
        mlflow.set_tag("readiness", examples.readiness["verdict"])
        mlflow.log_dict(examples.readiness, "examples/readiness.json")
    info = examples.builder.feature_info()
    mlflow.log_dict({n: {"group": i.group, "label": i.label} for n, i in info.items()}, "features/feature_info.json")


def log_datasets(inputs: Inputs, examples: Examples) -> None:
    """mlflow.log_input for the source files and the train / val / test example sets.

    Metadata datasets (source, digest, schema from a sample, row counts as tags): MLflow's pandas
    dataset infers its schema from every row, which took 50 s on 145k examples. The example sets
    hold features only, never personal data."""
    from mlflow.data.dataset_source_registry import resolve_dataset_source
    from mlflow.data.meta_dataset import MetaDataset

    for name, path in sorted(inputs.sources.items()):
        frame = getattr(inputs, name, None)
        schema = _sample_schema(frame.drop(columns=_personal(frame), errors="ignore")) if frame is not None else None
        ds = MetaDataset(resolve_dataset_source(path), name=name, digest=file_digest(path), schema=schema)
        mlflow.log_input(ds, context="source", tags={"rows": str(len(frame)) if frame is not None else "?"})
    source = resolve_dataset_source(inputs.sources.get("leads", "leads"))
    for part, context in (("train", "training"), ("val", "validation"), ("test", "test")):
        frame, y = examples.rows(part)
        keys = pd.util.hash_pandas_object(frame[["lead_id", "as_of"]], index=False).to_numpy()
        digest = hashlib.sha256(keys.tobytes()).hexdigest()[:16]
        ds = MetaDataset(source, name=f"examples_{part}", digest=digest, schema=_sample_schema(frame.assign(label=y)))
        mlflow.log_input(ds, context=context, tags={"rows": str(len(frame)), "conversions": str(int(y.sum()))})


def _sample_schema(frame: pd.DataFrame) -> Any:
    from mlflow.models import infer_signature

    return infer_signature(frame.head(500)).inputs


def _personal(frame: pd.DataFrame) -> list[str]:
    return [c for c in PERSONAL_ROLES if c in frame.columns]


