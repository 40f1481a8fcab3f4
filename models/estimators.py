"""Estimator factories with one interface: fit on train (+ validation), raw margin, SHAP contributions.

Contributions are in log-odds (margin) units, one column per input feature plus a last bias column,
and sum to the margin: exact TreeSHAP for LightGBM (its own `pred_contrib`, which shap's TreeExplainer
calls too) and the interventional linear SHAP coef * (x - mean) for logistic regression, folded back
from one-hot / indicator columns to the feature they came from.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from features.categories import RareCategoryEncoder


class MarginModel(Protocol):
    name: str
    feature_names: list[str]

    def fit(self, X: pd.DataFrame, y: np.ndarray, X_val: pd.DataFrame, y_val: np.ndarray) -> "MarginModel": ...
    def margin(self, X: pd.DataFrame) -> np.ndarray: ...
    def contributions(self, X: pd.DataFrame) -> np.ndarray: ...
    def params(self) -> dict[str, Any]: ...


def signed_log1p(x: np.ndarray) -> np.ndarray:
    """Compress heavy-tailed counts for a linear model while keeping the sign."""
    return np.sign(x) * np.log1p(np.abs(x))


class _Encoded:
    """Shared: rare-category grouping fitted on the training rows."""

    def _fit_encoder(self, X: pd.DataFrame, categorical: Sequence[str], min_share: float, max_categories: int) -> None:
        self.feature_names = list(X.columns)
        self.categorical = [c for c in categorical if c in X.columns]
        self.encoder = RareCategoryEncoder(self.categorical, min_share, max_categories).fit(X)

    def _encode(self, X: pd.DataFrame) -> pd.DataFrame:
        X = X[self.feature_names]
        numeric = [c for c in self.feature_names if c not in self.categorical]
        X = X.astype({c: float for c in numeric})
        return self.encoder.transform(X)


class LogRegModel(_Encoded):
    name = "logreg"

    def __init__(self, categorical: Sequence[str], C: float = 0.3, max_iter: int = 2000,
                 min_share: float = 0.005, max_categories: int = 30, seed: int = 0):
        self.categorical_in, self.C, self.max_iter = list(categorical), C, max_iter
        self.min_share, self.max_categories, self.seed = min_share, max_categories, seed

    def fit(self, X: pd.DataFrame, y: np.ndarray, X_val: pd.DataFrame | None = None, y_val: np.ndarray | None = None) -> "LogRegModel":
        self._fit_encoder(X, self.categorical_in, self.min_share, self.max_categories)
        Xe = self._encode(X)
        self.columns = ColumnTransformer(
            [(c, self._column_pipeline(c), [c]) for c in self.feature_names], sparse_threshold=0.0
        )
        Z = self.columns.fit_transform(Xe)
        self.clf = LogisticRegression(C=self.C, max_iter=self.max_iter)
        self.clf.fit(Z, y)
        self.z_mean_ = Z.mean(axis=0)
        return self

    def _column_pipeline(self, col: str) -> Pipeline:
        if col in self.categorical:
            return make_pipeline(OneHotEncoder(handle_unknown="ignore", sparse_output=False))
        return make_pipeline(
            FunctionTransformer(signed_log1p, feature_names_out="one-to-one"),
            SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
            StandardScaler(),
        )

    def margin(self, X: pd.DataFrame) -> np.ndarray:
        return self.clf.decision_function(self.columns.transform(self._encode(X)))

    def contributions(self, X: pd.DataFrame) -> np.ndarray:
        Z = self.columns.transform(self._encode(X))
        coef = self.clf.coef_[0]
        per_column = (Z - self.z_mean_) * coef
        out = np.empty((len(X), len(self.feature_names) + 1))
        for j, col in enumerate(self.feature_names):
            out[:, j] = per_column[:, self.columns.output_indices_[col]].sum(axis=1)
        out[:, -1] = self.clf.intercept_[0] + float(self.z_mean_ @ coef)
        return out

    def params(self) -> dict[str, Any]:
        return {"C": self.C, "max_iter": self.max_iter, "n_inputs": len(self.feature_names)}


class LightGBMModel(_Encoded):
    name = "lightgbm"

    def __init__(self, categorical: Sequence[str], params: dict[str, Any], early_stopping_rounds: int = 50,
                 min_share: float = 0.005, max_categories: int = 30, seed: int = 0,
                 monotone: dict[str, int] | None = None):
        self.categorical_in, self.lgb_params = list(categorical), dict(params)
        self.early_stopping_rounds, self.min_share, self.max_categories = early_stopping_rounds, min_share, max_categories
        self.seed, self.monotone = seed, monotone or {}

    def fit(self, X: pd.DataFrame, y: np.ndarray, X_val: pd.DataFrame, y_val: np.ndarray) -> "LightGBMModel":
        self._fit_encoder(X, self.categorical_in, self.min_share, self.max_categories)
        params = {
            "objective": "binary", "seed": self.seed, "deterministic": True, "force_row_wise": True,
            "num_threads": 2, "verbosity": -1, "bagging_freq": 1,
            "monotone_constraints": [self.monotone.get(c, 0) for c in self.feature_names],
            "monotone_constraints_method": "advanced",
            **{_LGB_NAMES.get(k, k): v for k, v in self.lgb_params.items() if k != "n_estimators"},
        }
        train = lgb.Dataset(self._encode(X), label=y, categorical_feature=self.categorical or "auto", free_raw_data=True)
        valid = lgb.Dataset(self._encode(X_val), label=y_val, reference=train)
        self.booster = lgb.train(
            params, train, num_boost_round=self.lgb_params.get("n_estimators", 500), valid_sets=[valid],
            callbacks=[lgb.early_stopping(self.early_stopping_rounds, verbose=False)],
        )
        self.best_iteration = self.booster.best_iteration or self.booster.current_iteration()
        return self

    def margin(self, X: pd.DataFrame) -> np.ndarray:
        return self.booster.predict(self._encode(X), raw_score=True, num_iteration=self.best_iteration)

    def contributions(self, X: pd.DataFrame) -> np.ndarray:
        return self.booster.predict(self._encode(X), pred_contrib=True, num_iteration=self.best_iteration)

    def params(self) -> dict[str, Any]:
        return {**self.lgb_params, "best_iteration": self.best_iteration, "n_inputs": len(self.feature_names)}


_LGB_NAMES = {"subsample": "bagging_fraction", "colsample_bytree": "feature_fraction", "reg_lambda": "lambda_l2",
              "min_child_samples": "min_data_in_leaf"}
