"""Categorical columns with rare values grouped and unseen values handled, as fixed pandas categories."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

OTHER = "__other__"


class RareCategoryEncoder(BaseEstimator, TransformerMixin):
    """Keep each column's categories seen in at least `min_share` of rows (at most `max_categories`);
    everything else, including values never seen in fit, becomes `__other__`. Output dtype is a pandas
    Categorical with categories fixed at fit, so LightGBM's native categoricals stay consistent."""

    def __init__(self, columns: Sequence[str] = (), min_share: float = 0.005, max_categories: int = 30):
        self.columns = columns
        self.min_share = min_share
        self.max_categories = max_categories

    def fit(self, X: pd.DataFrame, y: object = None) -> "RareCategoryEncoder":
        self.categories_ = {}
        for col in self.columns:
            shares = X[col].astype(str).value_counts(normalize=True)
            kept = shares[shares >= self.min_share].index[: self.max_categories - 1]
            self.categories_[col] = sorted(map(str, kept)) + [OTHER]
        self.feature_names_in_ = np.asarray(list(X.columns), dtype=object)
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        out = X.copy()
        for col, cats in self.categories_.items():
            values = out[col].astype(str)
            values = values.where(values.isin(cats[:-1]), OTHER)
            out[col] = pd.Categorical(values, categories=cats)
        return out

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        return self.feature_names_in_
