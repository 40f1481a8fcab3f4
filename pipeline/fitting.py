"""Fitting every configured model the same way for `train`, `backtest`, `crossval` and the benchmarks:
the model's own examples (a points rule set's half-life), the LightGBM search, a fit on the training
period, calibration, grades and the matrix grade on validation, metrics on validation and test; and the
final refit (models.refit) on every labelled example, for the version `train` registers and `backtest` judges."""
from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import mlflow
import numpy as np
import yaml
from pydantic import ValidationError

from features.metadata import with_labels
from models.calibration import Calibrator
from models.estimators import LightGBMModel, LogRegModel, MarginModel, sample_params
from models.grades import GradeScale
from models.metrics import evaluate
from models.points import PointsModel, RuleSet, SuggestedPointsModel, points_info
from models.refit import RescaledModel, can_refit, quantile_map, refit_model
from models.scorer import LeadScorer
from models.splits import date_balance_weights
from pipeline.config import Config
from pipeline.console import Reporter
from pipeline.errors import ConfigError, first_line
from pipeline.inputs.examples import Examples, with_half_life

log = logging.getLogger(__name__)


@dataclass
class Fit:
    """One fitted model: its scorer, validation / test metrics, the arrays the reports need and the
    examples it was fitted on (its own when a points rule set decays with another half-life)."""

    name: str
    scorer: LeadScorer
    metrics: dict[str, float]
    detail: dict[str, Any]
    examples: Examples
    run_id: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def fit_all(cfg: Config, examples: Examples, reporter: Reporter | None = None, label: str = "",
            each: Callable[[Fit], None] | None = None) -> dict[str, Fit]:
    """Every configured model, each in its own nested MLflow run (when a run is active), with `each(fit)`
    called inside that run (logging, a backtest's scoring at T)."""
    reporter = reporter or Reporter(quiet=True)
    fits: dict[str, Fit] = {}
    for name, model in make_models(cfg, examples).items():
        reporter.step(f"Training {name}{label}")
        with mlflow.start_run(run_name=name, nested=True) as run:
            model_examples = examples_for(cfg, model, examples)
            prefitted = False
            if isinstance(model, LightGBMModel) and cfg.models.lightgbm.search_budget > 1:
                model, prefitted = search_lightgbm(cfg, model, model_examples, reporter), True
            elif not isinstance(model, PointsModel):
                reporter.step(f"  {name}: fitting on the training period")
            scorer, metrics, detail = fit_model(cfg, model, model_examples, prefitted)
            reporter.step(f"  {name}: calibrated, graded and explained on validation")
            fits[name] = Fit(name, scorer, metrics, detail, model_examples, run.info.run_id)
            mlflow.set_tag("model_name", name)
            if each is not None:
                each(fits[name])
    return fits


def make_models(cfg: Config, examples: Examples) -> dict[str, MarginModel]:
    cat = examples.builder.categorical_features()
    fc, mc, seed = cfg.features, cfg.models, cfg.training.seed
    out: dict[str, MarginModel] = {}
    if mc.points.enabled:
        out["points"] = PointsModel(load_rules(cfg), "points")
    if mc.points_suggested.enabled:
        params = mc.points_suggested.model_dump(exclude={"enabled"})
        out["points_suggested"] = SuggestedPointsModel(cat, half_life_days=fc.engagement.half_life_days, **params)
    if mc.logreg.enabled:
        out["logreg"] = LogRegModel(cat, mc.logreg.C, mc.logreg.max_iter, fc.rare_category_min_share, fc.max_categories,
                                    seed, mc.logreg.C_grid, mc.logreg.cv_folds, mc.logreg.numeric, mc.logreg.cv_max_rows)
    if mc.lightgbm.enabled:
        params = mc.lightgbm.model_dump(exclude={"enabled", "early_stopping_rounds", "search_budget"})
        out["lightgbm"] = LightGBMModel(cat, params, mc.lightgbm.early_stopping_rounds, fc.rare_category_min_share,
                                        fc.max_categories, seed, monotone=monotone_constraints(cfg, examples))
    return out


def load_rules(cfg: Config) -> RuleSet:
    """The hand-set points rules named by the config (models.points.rules)."""
    path = cfg.resolve(cfg.models.points.rules)
    if not path.exists():
        raise ConfigError(f"{path}: points rules file not found (models.points.rules)")
    try:
        return RuleSet.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({first_line(str(exc), None)})") from None
    except ValidationError as exc:
        err = exc.errors()[0]
        raise ConfigError(f"{path}: {'.'.join(map(str, err['loc']))}: {err['msg']}") from None


def examples_for(cfg: Config, model: MarginModel, examples: Examples) -> Examples:
    """Hand-set points decay behaviour with their own half-life: if it differs, recompute only the decayed
    columns over a shallow copy of the table (not a second feature table); the scorer gets the matching builder."""
    if not isinstance(model, PointsModel) or isinstance(model, SuggestedPointsModel):
        return examples
    half_life = model.rules.half_life_days
    if examples.builder.engagement_ is None or half_life == cfg.features.engagement.half_life_days:
        return examples
    return with_half_life(examples, half_life)


def monotone_constraints(cfg: Config, examples: Examples) -> dict[str, int]:
    """More high-intent engagement never lowers the score: +1 on high-intent counts."""
    high = [f"n_{t}_" for t in cfg.features.engagement.high_intent] + ["n_high_intent_", "decayed_high_intent"]
    return {n: 1 for n in examples.builder.feature_names_out_ if any(n.startswith(h) for h in high)}


def fit_model(cfg: Config, model: MarginModel, examples: Examples,
              prefitted: bool = False) -> tuple[LeadScorer, dict[str, float], dict[str, Any]]:
    """Fit on train, calibrate and grade on validation, evaluate on validation and test."""
    names = list(examples.builder.feature_names_out_)
    X_tr, y_tr = examples.rows("train")
    X_va, y_va = examples.rows("val")
    X_te, y_te = examples.rows("test")
    if not prefitted:
        model.fit(X_tr[names], y_tr, X_va[names], y_va, time=X_tr["as_of"], sample_weight=examples.train_weights())
    m_va, m_te = model.margin(X_va), model.margin(X_te) if len(X_te) else np.zeros(0)
    calibrator = Calibrator(cfg.scoring.calibration, cfg.training.seed).fit(m_va, y_va)
    gc = cfg.scoring.grades
    shares = {"A": gc.A, "B": gc.B, "C": gc.C}
    grades = GradeScale.fit(m_va, shares) if gc.by == "capacity" else GradeScale.fit_precision(m_va, y_va, shares)
    info = with_labels(examples.builder.feature_info(), cfg.scoring.labels)
    if isinstance(model, PointsModel):
        info = points_info(model.rules, info)
    scorer = LeadScorer(model, calibrator, grades, examples.builder, info,
                        cfg.mlflow.registered_model, cfg.scoring.top_positive, cfg.scoring.top_negative,
                        min_contribution=cfg.scoring.min_contribution)
    # the combined grade "A2": fit letter x engagement digit, cut-offs from the validation period too
    mc = cfg.scoring.matrix
    scorer.fit_matrix(X_va, y_va, mc.fit, mc.engagement, seed=cfg.training.seed)
    p_va, p_te = calibrator.predict(m_va), calibrator.predict(m_te) if len(m_te) else np.zeros(0)
    metrics = {f"val_{k}": v for k, v in evaluate(y_va, p_va).items()}
    if len(y_te):  # a backtest has no internal test period: it is judged after T
        metrics |= {f"test_{k}": v for k, v in evaluate(y_te, p_te).items()}
    detail = {"X_test": X_te, "y_test": y_te, "p_test": p_te, "m_test": m_te, "y_val": y_va, "m_val": m_va}
    return scorer, metrics, detail


def search_lightgbm(cfg: Config, template: LightGBMModel, examples: Examples,
                    reporter: Reporter | None = None) -> LightGBMModel:
    """A small random search; each parameter set is a nested run scored on the validation period."""
    import time

    from sklearn.metrics import roc_auc_score

    reporter = reporter or Reporter(quiet=True)
    names = list(examples.builder.feature_names_out_)
    X_tr, y_tr = examples.rows("train")
    X_va, y_va = examples.rows("val")
    best, best_auc = None, -1.0
    trials = sample_params(template.lgb_params, cfg.models.lightgbm.search_budget, cfg.training.seed)
    weights = examples.train_weights()  # the same for every trial
    for i, params in enumerate(trials):
        start = time.perf_counter()
        with mlflow.start_run(run_name=f"lightgbm-trial-{i}", nested=True):
            model = copy.deepcopy(template)
            model.lgb_params = params
            model.fit(X_tr[names], y_tr, X_va[names], y_va, sample_weight=weights)
            auc = float(roc_auc_score(y_va, model.margin(X_va[names])))
            mlflow.log_params(model.params())
            mlflow.log_metric("val_roc_auc", auc)
        if auc > best_auc:
            best, best_auc = model, auc
        reporter.step(f"  lightgbm search {i + 1}/{len(trials)}: validation ROC AUC {auc:.3f} "
                      f"(best {best_auc:.3f}, {time.perf_counter() - start:.0f} s)")
    mlflow.log_params({f"search.{k}": v for k, v in best.lgb_params.items()} | {"search.trials": len(trials)})
    return best


def refit_scorer(cfg: Config, scorer: LeadScorer, examples: Examples) -> LeadScorer | None:
    """`scorer` with its model refitted on every example (labels read at the end of the data), its margin mapped
    onto the evaluated model's scale on the evaluation rows; None when refitting is off or pointless."""
    if not cfg.training.refit or not can_refit(scorer.model):
        return None
    final = examples.final()
    names = list(examples.builder.feature_names_out_)
    dated = examples.until is not None
    weights = date_balance_weights(final.y, final.table["as_of"].to_numpy()) if dated else None
    inner = refit_model(scorer.model, final.table[names], final.y, weights,
                        time=final.table["as_of"] if dated else None)
    evaluation = np.isin(examples.part, ("val", "test"))
    X_eval = examples.table.iloc[np.flatnonzero(evaluation)]
    a, b = quantile_map(inner.margin(X_eval), scorer.model.margin(X_eval))
    refitted = replace(scorer, model=RescaledModel(inner, a, b, len(final.y)))
    X_va, y_va = examples.rows("val")
    mc = cfg.scoring.matrix
    refitted.fit_matrix(X_va, y_va, mc.fit, mc.engagement, seed=cfg.training.seed)
    return refitted
