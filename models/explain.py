"""Reasons a salesperson can read: the strongest SHAP contributions per lead, with human labels."""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from features.metadata import FeatureInfo


def top_reasons(
    contrib: np.ndarray,
    X: pd.DataFrame,
    names: Sequence[str],
    info: Mapping[str, FeatureInfo],
    n_positive: int = 3,
    n_negative: int = 2,
) -> list[str]:
    """Per lead, a JSON list: the top positive then the top negative contributions, strongest first."""
    k_pos, k_neg = min(n_positive, contrib.shape[1]), min(n_negative, contrib.shape[1])
    pos_idx = np.argsort(-contrib, axis=1, kind="stable")[:, :k_pos]
    neg_idx = np.argsort(contrib, axis=1, kind="stable")[:, :k_neg]
    values = X[list(names)].to_numpy(dtype=object)
    out = []
    for i in range(contrib.shape[0]):
        items = [j for j in pos_idx[i] if contrib[i, j] > 0] + [j for j in neg_idx[i] if contrib[i, j] < 0]
        out.append(json.dumps([_reason(names[j], values[i, j], contrib[i, j], info) for j in items], ensure_ascii=False))
    return out


def _reason(name: str, value: object, contribution: float, info: Mapping[str, FeatureInfo]) -> dict[str, object]:
    meta = info.get(name) or FeatureInfo(name, "fit", name + ": {value}")
    return {
        "feature": name,
        "label": meta.describe(_plain(value)),
        "value": _plain(value),
        "contribution": round(float(contribution), 4),
    }


def _plain(value: object) -> object:
    """JSON-safe scalar: numpy numbers to Python, NaN to None."""
    if isinstance(value, (np.floating, float)):
        return None if np.isnan(value) else float(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    return value if value is None or isinstance(value, (str, int, bool)) else str(value)


def group_sums(contrib: np.ndarray, names: Sequence[str], info: Mapping[str, FeatureInfo], groups: Sequence[str]) -> np.ndarray:
    """Sum of contributions over the features whose group is in `groups`."""
    mask = np.array([info[n].group in groups if n in info else False for n in names])
    return contrib[:, mask].sum(axis=1) if mask.any() else np.zeros(contrib.shape[0])
