"""Estimators: margins, SHAP contributions (against shap itself and an independent computation),
monotone constraints, robustness to unseen categories and missing values."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import shap

from models.estimators import LightGBMModel, LogRegModel, signed_log1p

FEATURES = ["x1", "visits", "revenue", "industry", "source"]


def _scoring_rows(frames) -> pd.DataFrame:
    X = frames["test"][0].copy()
    # unseen and rare categories, missing numerics: all must be scorable
    X.loc[X.index[:5], "industry"] = "never_seen"
    X.loc[X.index[5:10], "revenue"] = np.nan
    X.loc[X.index[10:12], "visits"] = np.nan
    return X


@pytest.mark.parametrize("model_name", ["lgb_model", "logreg_model"])
def test_contributions_sum_to_margin(request, frames, model_name: str) -> None:
    model = request.getfixturevalue(model_name)
    X = _scoring_rows(frames)
    contrib = model.contributions(X)
    margin = model.margin(X)
    assert contrib.shape == (len(X), len(FEATURES) + 1)
    assert np.all(np.isfinite(contrib)) and np.all(np.isfinite(margin))
    np.testing.assert_allclose(contrib.sum(axis=1), margin, rtol=0, atol=1e-6)
    assert model.feature_names == FEATURES


@pytest.mark.parametrize("model_name", ["lgb_model", "logreg_model"])
def test_margin_is_informative(request, frames, model_name: str) -> None:
    from sklearn.metrics import roc_auc_score

    model = request.getfixturevalue(model_name)
    X, y = frames["test"]
    assert roc_auc_score(y, model.margin(X)) > 0.7


def test_lightgbm_contributions_equal_shap_tree_explainer(lgb_model: LightGBMModel, frames) -> None:
    X = _scoring_rows(frames)
    encoded = lgb_model._encode(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        explainer = shap.TreeExplainer(lgb_model.booster)
        values = explainer.shap_values(encoded)
    values = np.asarray(values[1] if isinstance(values, list) else values)
    contrib = lgb_model.contributions(X)
    np.testing.assert_allclose(contrib[:, :-1], values, rtol=0, atol=1e-9)
    np.testing.assert_allclose(contrib[:, -1], np.ravel(explainer.expected_value)[-1], rtol=0, atol=1e-9)


def test_lightgbm_uses_categoricals_natively(lgb_model: LightGBMModel, frames) -> None:
    encoded = lgb_model._encode(frames["test"][0])
    for col in ("industry", "source"):
        assert isinstance(encoded[col].dtype, pd.CategoricalDtype)
    assert encoded["x1"].dtype == float
    assert lgb_model.best_iteration >= 1
    assert lgb_model.params()["n_inputs"] == len(FEATURES)


def _fold(model: LogRegModel, per_column: np.ndarray) -> np.ndarray:
    out = np.zeros((per_column.shape[0], len(model.feature_names)))
    for j, col in enumerate(model.feature_names):
        out[:, j] = per_column[:, model.columns.output_indices_[col]].sum(axis=1)
    return out


def test_logreg_contributions_equal_shap_linear_explainer(logreg_model: LogRegModel, frames) -> None:
    X_train = frames["train"][0]
    X = _scoring_rows(frames)
    Z_train = logreg_model.columns.transform(logreg_model._encode(X_train))
    Z = logreg_model.columns.transform(logreg_model._encode(X))
    masker = shap.maskers.Independent(Z_train, max_samples=len(Z_train))
    explainer = shap.LinearExplainer(logreg_model.clf, masker)
    values = np.asarray(explainer.shap_values(Z))
    contrib = logreg_model.contributions(X)
    np.testing.assert_allclose(contrib[:, :-1], _fold(logreg_model, values), rtol=0, atol=1e-8)
    np.testing.assert_allclose(contrib[:, -1], float(np.ravel(explainer.expected_value)[0]), rtol=0, atol=1e-8)


def test_logreg_contributions_equal_coef_times_centred_inputs(logreg_model: LogRegModel, frames) -> None:
    """Independent: z - mean(z over the training rows), times the coefficient, summed per input column."""
    X_train = frames["train"][0]
    X = _scoring_rows(frames)
    Z_train = logreg_model.columns.transform(logreg_model._encode(X_train))
    Z = logreg_model.columns.transform(logreg_model._encode(X))
    coef = logreg_model.clf.coef_[0]
    expected = _fold(logreg_model, (Z - Z_train.mean(axis=0)) * coef)
    np.testing.assert_allclose(logreg_model.contributions(X)[:, :-1], expected, rtol=0, atol=1e-9)
    # an unseen category is encoded like a rare one (both are __other__)
    industry = logreg_model.columns.output_indices_["industry"]
    rare = logreg_model.columns.transform(logreg_model._encode(X.iloc[:1].assign(industry="rare_one")))
    assert np.all(Z[:5, industry] == rare[:, industry])
    assert np.all(Z[:5, industry].sum(axis=1) == 1)


def test_logreg_transform_compresses_counts() -> None:
    x = np.array([-3.0, 0.0, 1.0, np.e - 1.0])
    np.testing.assert_allclose(signed_log1p(x), [-np.log(4.0), 0.0, np.log(2.0), 1.0])


def test_logreg_learns_sign_of_effects(logreg_model: LogRegModel, frames) -> None:
    X = frames["test"][0].iloc[:50].copy()
    hi, lo = X.copy(), X.copy()
    hi["x1"], lo["x1"] = 2.0, -2.0
    assert np.all(logreg_model.margin(hi) > logreg_model.margin(lo))


def test_lightgbm_monotone_constraint(lgb_model: LightGBMModel, frames) -> None:
    """Raising the constrained feature x1 never lowers the margin, for any row."""
    base = frames["test"][0].iloc[:80].reset_index(drop=True)
    grid = np.linspace(-4, 4, 41)
    margins = []
    for v in grid:
        X = base.copy()
        X["x1"] = v
        margins.append(lgb_model.margin(X))
    margins = np.vstack(margins)  # (grid, rows)
    assert np.all(np.diff(margins, axis=0) >= -1e-12)
    assert np.all(margins[-1] > margins[0])  # and x1 is actually used


def test_lightgbm_monotone_constraint_negative(frames) -> None:
    (X, y), (Xv, yv) = frames["train"], frames["val"]
    model = LightGBMModel(["industry", "source"], {"num_leaves": 7, "learning_rate": 0.1, "n_estimators": 60},
                          early_stopping_rounds=20, monotone={"visits": -1}).fit(X, y, Xv, yv)
    base = frames["test"][0].iloc[:60].reset_index(drop=True)
    margins = np.vstack([model.margin(base.assign(visits=float(v))) for v in range(0, 15)])
    assert np.all(np.diff(margins, axis=0) <= 1e-12)


def test_search_keeps_trees_shallow_and_the_learning_rate() -> None:
    """Explanation cost grows with depth, leaves and tree count: no draw may leave the cheap shapes."""
    from models.estimators import sample_params

    base = {"num_leaves": 7, "max_depth": 3, "learning_rate": 0.1, "n_estimators": 600, "min_child_samples": 100}
    trials = sample_params(base, 40, seed=5)
    assert trials[0] == base and len(trials) == 40
    assert len({tuple(sorted(t.items())) for t in trials}) == 40  # distinct parameter sets
    assert all(t["max_depth"] <= 4 and t["num_leaves"] <= 15 for t in trials)
    assert {t["learning_rate"] for t in trials} == {0.1} and {t["n_estimators"] for t in trials} == {600}
    assert len({t["max_depth"] for t in trials}) > 1  # it does search
