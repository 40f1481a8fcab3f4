"""Shared fixtures for the model tests: a small synthetic frame with numeric and categorical columns."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.estimators import LightGBMModel, LogRegModel

CATEGORICAL = ["industry", "source"]
LGB_PARAMS = {"num_leaves": 7, "learning_rate": 0.1, "n_estimators": 150, "min_child_samples": 20}


def make_frame(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Numeric (one with missing values, one heavy-tailed count) and categorical columns; logistic label."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({
        "x1": rng.normal(size=n),
        "visits": rng.poisson(3.0, size=n).astype(float),
        "revenue": rng.lognormal(12, 1, size=n),
        "industry": rng.choice(["software", "retail", "finance", "gov", "rare_one"], size=n,
                               p=[0.4, 0.3, 0.2, 0.098, 0.002]),
        "source": rng.choice(["web", "event", "list"], size=n, p=[0.5, 0.3, 0.2]),
    })
    X.loc[rng.random(n) < 0.1, "revenue"] = np.nan
    logit = (-1.0 + 1.2 * X["x1"] + 0.25 * X["visits"]
             + X["industry"].map({"software": 0.6, "retail": -0.4, "finance": 0.2, "gov": -0.8, "rare_one": 0.0})
             + X["source"].map({"web": 0.0, "event": 0.5, "list": -0.7}))
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-logit.to_numpy()))).astype(int)
    return X, y


@pytest.fixture(scope="session")
def frames() -> dict[str, tuple[pd.DataFrame, np.ndarray]]:
    return {"train": make_frame(2500, 1), "val": make_frame(1000, 2), "test": make_frame(400, 3)}


@pytest.fixture(scope="session")
def lgb_model(frames) -> LightGBMModel:
    (X, y), (Xv, yv) = frames["train"], frames["val"]
    return LightGBMModel(CATEGORICAL, LGB_PARAMS, early_stopping_rounds=20, monotone={"x1": 1}).fit(X, y, Xv, yv)


@pytest.fixture(scope="session")
def logreg_model(frames) -> LogRegModel:
    X, y = frames["train"]
    return LogRegModel(CATEGORICAL, C=0.3).fit(X, y)
