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
from sklearn.pipeline import Pipeline, make_pipeline, make_union
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, QuantileTransformer, SplineTransformer, StandardScaler

from features.categories import RareCategoryEncoder
from models.alerts import Thresholds


class MarginModel(Protocol):
    name: str
    feature_names: list[str]

    def fit(self, X: pd.DataFrame, y: np.ndarray, X_val: pd.DataFrame, y_val: np.ndarray, time: pd.Series | None = None,
            sample_weight: np.ndarray | None = None) -> MarginModel: ...
    def margin(self, X: pd.DataFrame) -> np.ndarray: ...
    def contributions(self, X: pd.DataFrame) -> np.ndarray: ...
    def params(self) -> dict[str, Any]: ...


def known_categories(model: object) -> dict[str, list[str]]:
    """Per categorical feature, the values `model` learnt something for: its own `known_categories()`,
    else its rare-category encoder's (without the catch-all '__other__'). Empty for models without a
    notion of unseen values (the points model: no rule, no points)."""
    own = getattr(model, "known_categories", None)
    if callable(own):
        return {str(k): [str(v) for v in vals] for k, vals in own().items()}
    return _kept_categories(getattr(model, "encoder", None))


def _kept_categories(encoder: object) -> dict[str, list[str]]:
    """A fitted rare-category encoder's categories per column, without its catch-all '__other__'."""
    categories = getattr(encoder, "categories_", None) or {}
    return {str(col): [str(v) for v in cats if v != "__other__"] for col, cats in categories.items()}


def native_thresholds(model: object) -> Thresholds | None:
    """A model's own hot / MQL alert thresholds (`models.alerts.Thresholds`: the points model's, whose
    score is in points), or None: the configured ones apply."""
    own = getattr(model, "alert_thresholds", None)
    return own() if callable(own) else None


def signed_log1p(x: np.ndarray) -> np.ndarray:
    """Compress heavy-tailed counts for a linear model while keeping the sign."""
    return np.sign(x) * np.log1p(np.abs(x))


class _Encoded:
    """Shared: rare-category grouping fitted on the training rows."""

    def _fit_encoder(self, X: pd.DataFrame, categorical: Sequence[str], min_share: float, max_categories: int) -> None:
        self.feature_names = list(X.columns)
        self.categorical = [c for c in categorical if c in X.columns]
        self.encoder = RareCategoryEncoder(self.categorical, min_share, max_categories).fit(X)

    def known_categories(self) -> dict[str, list[str]]:
        """Per categorical feature, the values the encoder kept (the others are scored as '__other__')."""
        return _kept_categories(self.encoder)

    def _encode(self, X: pd.DataFrame) -> pd.DataFrame:
        X = X[self.feature_names]
        numeric = [c for c in self.feature_names if c not in self.categorical]
        X = X.astype({c: float for c in numeric})
        return self.encoder.transform(X)


class LogRegModel(_Encoded):
    """Imputation, scaling, one-hot with rare grouping, L2 logistic regression. With `C=None` the
    regularisation is chosen from `C_grid` by time-aware cross-validation on the training rows:
    expanding windows over the snapshot dates (train on the earliest blocks, validate on the next).

    Big training sets (more than `cv_max_rows` rows): C is chosen, and the imputation / scaling / one-hot
    statistics are estimated, on a seeded uniform sample of `cv_max_rows` rows (AUC differences between
    C values and medians / means / standard deviations are stable long before that), then the regression
    is fitted once on all rows. The design matrix is then built in row blocks into one array, never as a
    dense float64 copy of the whole table plus per-column pieces."""

    name = "logreg"
    block_rows = 100_000  # rows encoded at a time into the design matrix

    def __init__(self, categorical: Sequence[str], C: float | None = None, max_iter: int = 2000,
                 min_share: float = 0.005, max_categories: int = 30, seed: int = 0,
                 C_grid: Sequence[float] = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0), cv_folds: int = 3,
                 numeric: str = "log", cv_max_rows: int | None = None):
        self.numeric = numeric
        self.categorical_in, self.C, self.max_iter = list(categorical), C, max_iter
        self.min_share, self.max_categories, self.seed = min_share, max_categories, seed
        self.C_grid, self.cv_folds = tuple(C_grid), cv_folds
        self.cv_max_rows = cv_max_rows

    def fit(self, X: pd.DataFrame, y: np.ndarray, X_val: pd.DataFrame | None = None, y_val: np.ndarray | None = None,
            time: pd.Series | None = None, sample_weight: np.ndarray | None = None) -> LogRegModel:
        y = np.asarray(y)
        w = None if sample_weight is None else np.asarray(sample_weight, dtype=float)
        self.cv_scores_: dict[float, float] = {}
        sample = self._sample_rows(len(X))
        self.sample_rows_ = len(X) if sample is None else len(sample)
        if self.C is not None:
            self.C_ = self.C
        elif sample is None:
            self.C_ = self._choose_C(X, y, time, w)
        else:
            self.C_ = self._choose_C(X.iloc[sample], y[sample], None if time is None else pd.Series(time).iloc[sample],
                                     None if w is None else w[sample])
        if sample is None:
            Z = self._fit_transform(X)
        else:
            self._fit_encoder(X, self.categorical_in, self.min_share, self.max_categories)
            self.columns = self._column_transformer().fit(self._encode(X.iloc[sample]))
            Z = self._transform(X)
        self.clf = LogisticRegression(C=self.C_, max_iter=self.max_iter)
        self.clf.fit(Z, y, sample_weight=w)
        self.z_mean_ = Z.mean(axis=0)
        return self

    def _sample_rows(self, n: int) -> np.ndarray | None:
        """Sorted positions of a seeded uniform sample of `cv_max_rows` rows; None = use all `n` rows."""
        limit = getattr(self, "cv_max_rows", None)
        if limit is None or n <= limit:
            return None
        return np.sort(np.random.default_rng(self.seed).choice(n, size=limit, replace=False))

    def _column_transformer(self) -> ColumnTransformer:
        return ColumnTransformer([(c, self._column_pipeline(c), [c]) for c in self.feature_names], sparse_threshold=0.0)

    def _transform(self, X: pd.DataFrame) -> np.ndarray:
        """The design matrix of `X`, encoded `block_rows` rows at a time into one float64 array (every
        step is row by row, so this equals one `columns.transform` of all rows)."""
        n, step = len(X), self.block_rows
        if n <= step:
            return self.columns.transform(self._encode(X))
        first = self.columns.transform(self._encode(X.iloc[:step]))
        Z = np.empty((n, first.shape[1]), dtype=first.dtype)
        Z[:step] = first
        del first
        for start in range(step, n, step):
            Z[start:start + step] = self.columns.transform(self._encode(X.iloc[start:start + step]))
        return Z

    def _fit_transform(self, X: pd.DataFrame) -> np.ndarray:
        self._fit_encoder(X, self.categorical_in, self.min_share, self.max_categories)
        self.columns = self._column_transformer()
        return self.columns.fit_transform(self._encode(X))

    def _choose_C(self, X: pd.DataFrame, y: np.ndarray, time: pd.Series | None, w: np.ndarray | None = None) -> float:
        from sklearn.metrics import roc_auc_score

        folds = _time_folds(time, y, self.cv_folds, self.seed)
        scores = {c: [] for c in self.C_grid}
        for fit_idx, eval_idx in folds:
            if len(np.unique(y[fit_idx])) < 2 or len(np.unique(y[eval_idx])) < 2:
                continue
            Z_fit = self._fit_transform(X.iloc[fit_idx])
            Z_eval = self._transform(X.iloc[eval_idx])
            clf = LogisticRegression(max_iter=self.max_iter, warm_start=True)
            for c in sorted(self.C_grid):
                clf.set_params(C=c).fit(Z_fit, y[fit_idx], sample_weight=None if w is None else w[fit_idx])
                scores[c].append(roc_auc_score(y[eval_idx], clf.decision_function(Z_eval)))
        self.cv_scores_ = {c: float(np.mean(v)) for c, v in scores.items() if v}
        if not self.cv_scores_:
            return 0.1
        best = max(self.cv_scores_.values())
        # the strongest regularisation within 0.002 AUC of the best: simpler models travel better in time
        return min(c for c, v in self.cv_scores_.items() if v >= best - 0.002)

    def _column_pipeline(self, col: str) -> Pipeline:
        """One-hot for categories; numbers imputed (with a missing indicator), then `numeric`:
        'log' (signed log1p, scaled: heavy-tailed counts), 'spline' (log plus a cubic spline on the
        quantile scale: curved effects), or 'raw' (scaled)."""
        if col in self.categorical:
            return make_pipeline(OneHotEncoder(handle_unknown="ignore", sparse_output=False))
        impute = SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True)
        log_scaled = make_pipeline(FunctionTransformer(signed_log1p), StandardScaler())
        if self.numeric == "raw":
            return make_pipeline(impute, StandardScaler())
        if self.numeric == "spline":
            spline = make_pipeline(QuantileTransformer(n_quantiles=200, random_state=self.seed),
                                   SplineTransformer(n_knots=5, degree=3))
            return make_pipeline(impute, make_union(log_scaled, spline))
        return make_pipeline(impute, log_scaled)

    def margin(self, X: pd.DataFrame) -> np.ndarray:
        return self.clf.decision_function(self._transform(X))

    def contributions(self, X: pd.DataFrame) -> np.ndarray:
        Z = self._transform(X)
        coef = self.clf.coef_[0]
        per_column = (Z - self.z_mean_) * coef
        out = np.empty((len(X), len(self.feature_names) + 1))
        for j, col in enumerate(self.feature_names):
            out[:, j] = per_column[:, self.columns.output_indices_[col]].sum(axis=1)
        out[:, -1] = self.clf.intercept_[0] + float(self.z_mean_ @ coef)
        return out

    def params(self) -> dict[str, Any]:
        cv = {f"cv_auc_C_{c:g}": round(v, 4) for c, v in self.cv_scores_.items()}
        sample = {"cv_max_rows": getattr(self, "cv_max_rows", None), "sample_rows": getattr(self, "sample_rows_", None)}
        return {"C": self.C_, "C_search": self.C is None, "numeric": self.numeric, "max_iter": self.max_iter,
                "n_inputs": len(self.feature_names), **sample, **cv}


class LightGBMModel(_Encoded):
    name = "lightgbm"

    def __init__(self, categorical: Sequence[str], params: dict[str, Any], early_stopping_rounds: int = 50,
                 min_share: float = 0.005, max_categories: int = 30, seed: int = 0,
                 monotone: dict[str, int] | None = None):
        self.categorical_in, self.lgb_params = list(categorical), dict(params)
        self.early_stopping_rounds, self.min_share, self.max_categories = early_stopping_rounds, min_share, max_categories
        self.seed, self.monotone = seed, monotone or {}

    def fit(self, X: pd.DataFrame, y: np.ndarray, X_val: pd.DataFrame, y_val: np.ndarray,
            time: pd.Series | None = None, sample_weight: np.ndarray | None = None,
            num_boost_round: int | None = None) -> LightGBMModel:
        """Early-stopped on (X_val, y_val); with `num_boost_round` (a refit) exactly that many trees, no early stop."""
        self._fit_encoder(X, self.categorical_in, self.min_share, self.max_categories)
        params = {
            "objective": "binary", "seed": self.seed, "deterministic": True, "force_row_wise": True,
            "num_threads": 2, "verbosity": -1, "bagging_freq": 1,
            "monotone_constraints": [self.monotone.get(c, 0) for c in self.feature_names],
            "monotone_constraints_method": "intermediate",  # same AUC as "advanced" here, half the time
            **{_LGB_NAMES.get(k, k): v for k, v in self.lgb_params.items() if k != "n_estimators"},
        }
        train = lgb.Dataset(self._encode(X), label=y, weight=sample_weight, categorical_feature=self.categorical or "auto",
                            free_raw_data=True)
        if num_boost_round is not None:
            self.booster = lgb.train(params, train, num_boost_round=num_boost_round)
            self.best_iteration = num_boost_round
            return self
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


def _time_folds(time: pd.Series | None, y: np.ndarray, k: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Expanding-window folds over sorted distinct dates; stratified K-fold when there are no dates."""
    if time is None or pd.isna(time).all():
        from sklearn.model_selection import StratifiedKFold

        return list(StratifiedKFold(n_splits=k, shuffle=True, random_state=seed).split(np.zeros(len(y)), y))
    t = pd.to_datetime(pd.Series(time)).to_numpy()
    dates = np.unique(t)
    blocks = np.array_split(dates, k + 1)
    folds = []
    for i in range(1, len(blocks)):
        if len(blocks[i]) == 0:
            continue
        fit_idx = np.flatnonzero(t < blocks[i][0])
        eval_idx = np.flatnonzero((t >= blocks[i][0]) & (t <= blocks[i][-1]))
        if len(fit_idx) and len(eval_idx):
            folds.append((fit_idx, eval_idx))
    return folds


SEARCH_SPACE: dict[str, tuple[Any, ...]] = {
    # no learning_rate: the configured one is kept, since a lower rate doubles the trees (and SHAP cost)
    "num_leaves": (4, 7, 15),
    "max_depth": (2, 3, 4),
    "min_child_samples": (20, 50, 100, 200),
    "colsample_bytree": (0.6, 0.8, 1.0),
    "reg_lambda": (0.0, 1.0, 10.0),
}


def sample_params(base: dict[str, Any], budget: int, seed: int) -> list[dict[str, Any]]:
    """The configured parameters first, then `budget - 1` random draws from SEARCH_SPACE. Depth stays
    at most 4 and leaves at most 15: exact TreeSHAP cost grows with both, and on the sample worlds deeper
    trees bought no AUC (benchmarks/RESULTS_scoring.md, "shapes")."""
    rng = np.random.default_rng(seed)
    trials, seen = [dict(base)], {tuple(sorted(base.items()))}
    while len(trials) < budget and len(seen) < 500:
        draw = {**base, **{k: v[rng.integers(len(v))] for k, v in SEARCH_SPACE.items()}}
        key = tuple(sorted(draw.items()))
        if key not in seen:
            seen.add(key)
            trials.append(draw)
    return trials


_LGB_NAMES = {"subsample": "bagging_fraction", "colsample_bytree": "feature_fraction", "reg_lambda": "lambda_l2",
              "min_child_samples": "min_data_in_leaf"}
