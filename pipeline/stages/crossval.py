"""K-fold cross-validated metrics (`--cv K`): stratified folds in static mode, logged as cv_*."""
from __future__ import annotations

import copy

import mlflow
import numpy as np
from sklearn.model_selection import StratifiedKFold, train_test_split

from models.calibration import Calibrator
from models.metrics import evaluate
from pipeline.config import Config
from pipeline.fitting import make_models
from pipeline.inputs.examples import Examples


def cross_validate(cfg: Config, examples: Examples, k: int, model_template: object) -> dict[str, float]:
    """Mean metrics over K folds of all examples; each fold's training part keeps 20% aside to
    early-stop and calibrate, exactly as the main fit uses the validation period."""
    names = list(examples.builder.feature_names_out_)
    X, y = examples.table[names].reset_index(drop=True), examples.y
    seed = cfg.training.seed
    folds = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    scores: list[dict[str, float]] = []
    for fit_idx, eval_idx in folds.split(X, y):
        tr, va = train_test_split(fit_idx, test_size=0.2, stratify=y[fit_idx], random_state=seed)
        model = copy.deepcopy(model_template)
        model.fit(X.iloc[tr], y[tr], X.iloc[va], y[va])
        calibrator = Calibrator(cfg.scoring.calibration, seed).fit(model.margin(X.iloc[va]), y[va])
        scores.append(evaluate(y[eval_idx], calibrator.predict(model.margin(X.iloc[eval_idx]))))
    return {f"cv_{m}": float(np.mean([s[m] for s in scores])) for m in scores[0]} | {
        f"cv_{m}_std": float(np.std([s[m] for s in scores])) for m in ("roc_auc",)
    }


def log_cross_validation(cfg: Config, examples: Examples, k: int, fitted: dict) -> None:
    """Add cv_* metrics to each model's child run and to its summary."""
    for name, template in make_models(cfg, examples).items():
        chosen = fitted[name].scorer.model
        if hasattr(chosen, "lgb_params"):
            template.lgb_params = dict(chosen.lgb_params)  # the searched parameters, not the defaults
        if getattr(chosen, "C_", None) is not None:
            template.C = chosen.C_  # the regularisation chosen on the training rows
        metrics = cross_validate(cfg, examples, k, template)
        with mlflow.start_run(run_id=fitted[name].run_id, nested=True):
            mlflow.log_metrics(metrics)
        fitted[name].metrics.update(metrics)
