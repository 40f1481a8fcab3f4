"""LogRegModel on big training sets (issue 4): C and the preprocessing statistics from a seeded sample of
`cv_max_rows` rows, one fit on all rows, the design matrix built in row blocks."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from models.estimators import LogRegModel
from tests.models.conftest import CATEGORICAL, make_frame

GRID = (0.001, 0.03, 1.0)


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, np.ndarray, pd.Series]:
    X, y = make_frame(6000, 11)
    time = pd.Series(pd.Timestamp("2025-01-06") + pd.to_timedelta(np.repeat(np.arange(20) * 7, 300), unit="D"))
    return X, y, time


def _fit(X, y, time, **kw) -> LogRegModel:
    return LogRegModel(CATEGORICAL, seed=3, C_grid=GRID, **kw).fit(X, y, time=time)


def test_block_transform_equals_one_transform(data, monkeypatch: pytest.MonkeyPatch) -> None:
    X, y, time = data
    model = LogRegModel(CATEGORICAL, C=0.3).fit(X, y)
    whole = model.columns.transform(model._encode(X))
    monkeypatch.setattr(LogRegModel, "block_rows", 700)  # 6,000 rows in 9 blocks, the last one short
    blocks = model._transform(X)
    assert blocks.dtype == np.float64 and blocks.flags.c_contiguous
    np.testing.assert_array_equal(blocks, whole)
    np.testing.assert_array_equal(model.margin(X), model.clf.decision_function(whole))
    np.testing.assert_allclose(model.contributions(X).sum(axis=1), model.margin(X), rtol=0, atol=1e-9)


def test_no_sample_below_the_limit_is_the_plain_fit(data) -> None:
    X, y, time = data
    plain, limited = _fit(X, y, time), _fit(X, y, time, cv_max_rows=len(X))
    assert limited.sample_rows_ == len(X) and limited.C_ == plain.C_
    assert limited.cv_scores_ == plain.cv_scores_
    np.testing.assert_array_equal(limited.clf.coef_, plain.clf.coef_)


def test_sampled_cv_then_one_fit_on_all_rows(data, monkeypatch: pytest.MonkeyPatch) -> None:
    X, y, time = data
    monkeypatch.setattr(LogRegModel, "block_rows", 1000)
    model = _fit(X, y, time, cv_max_rows=2000)
    again = _fit(X, y, time, cv_max_rows=2000)
    assert model.sample_rows_ == 2000 and model.params()["sample_rows"] == 2000
    assert set(model.cv_scores_) == set(GRID) and model.C_ in GRID
    assert model.cv_scores_ == again.cv_scores_  # seeded sample
    np.testing.assert_array_equal(model.clf.coef_, again.clf.coef_)
    # the CV scores are those of the sample alone ...
    rows = model._sample_rows(len(X))
    assert len(rows) == 2000 and (np.diff(rows) > 0).all()
    on_sample = LogRegModel(CATEGORICAL, seed=3, C_grid=GRID).fit(X.iloc[rows], y[rows], time=time.iloc[rows])
    assert on_sample.cv_scores_ == model.cv_scores_
    # ... the preprocessing is fitted on the sample, and the regression on every row with the chosen C
    Z = model._transform(X)
    assert Z.shape[0] == len(X)
    ref = LogisticRegression(C=model.C_, max_iter=model.max_iter).fit(Z, y)
    np.testing.assert_allclose(model.clf.coef_, ref.coef_, rtol=1e-10, atol=1e-12)
    assert not np.allclose(model.clf.coef_, on_sample.clf.coef_, atol=1e-3)  # not the sample's regression
    np.testing.assert_allclose(model.z_mean_, Z.mean(axis=0))
    # as good as the full CV on fresh data
    X_te, y_te = make_frame(3000, 12)
    full = _fit(X, y, time)
    assert roc_auc_score(y_te, model.margin(X_te)) > roc_auc_score(y_te, full.margin(X_te)) - 0.01
