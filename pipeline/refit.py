"""The final refit of an evaluated scorer (models.refit) on every labelled example, for the version that
gets registered (train) or judged after T (backtest)."""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from models.refit import RescaledModel, can_refit, quantile_map, refit_model
from models.scorer import LeadScorer
from models.splits import date_balance_weights
from pipeline.config import Config
from pipeline.examples import Examples


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
