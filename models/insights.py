"""Attribute insights for the report: per profile column and value, how its leads convert against all leads.

Dynamics 365 and MadKudu show this table so that a sales manager sees what the model sees ("leads from
webinars convert 2.3 times as often as the average lead") and can check it against their own experience.
It is a plain, model-free statistic of the training rows, so it also shows where the data is thin: each
row carries its support and the column's fill rate.

Personal data: only the columns the caller names are read, and the caller must name profile columns, never
e-mail addresses, names or phone numbers (their values would land in the report). As a guard the
standard personal roles (PERSONAL_COLUMNS) are refused.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from features.metadata import PERSON_ROLES

INSIGHT_COLUMNS = ["column", "value", "support", "fill_rate", "conversion_rate", "overall_rate", "lift"]
PERSONAL_COLUMNS = frozenset({*PERSON_ROLES, "name", "full_name"})
EMPTY = "(empty)"


def attribute_insights(frame: pd.DataFrame, y: Sequence[int] | np.ndarray, columns: Sequence[str],
                       min_support: int = 30, bins: int = 4) -> pd.DataFrame:
    """INSIGHT_COLUMNS, one row per (column, value) with at least `min_support` leads.

    Values: a categorical (or boolean) column's values as text; a numeric column with more than `bins`
    distinct values in quantile bands ("<= 10", "10 to 50", "> 50": the bands hold about equally many
    leads; ties can merge bands); missing values (and blank texts) are their own value "(empty)".
    `fill_rate` is the column's share of non-missing rows, `conversion_rate` the value's rate of y = 1,
    `lift` = conversion_rate / overall_rate (missing when nothing converted). Rows are sorted by
    |lift - 1| x sqrt(support), strongest first: within one data set this orders them as a binomial
    z-score does, so a big difference on few leads does not outrank a solid one on many."""
    personal = sorted(PERSONAL_COLUMNS.intersection(columns))
    if personal:
        raise ValueError(f"attribute insights never read personal columns; drop {personal} from the columns")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"attribute insights: no column {missing[0]!r} in the frame")
    y = np.asarray(y, dtype=float)
    if len(y) != len(frame):
        raise ValueError(f"attribute insights: {len(y)} labels for {len(frame)} rows")
    overall = float(y.mean()) if len(y) else np.nan
    parts = [_column_table(frame[c], y, c, bins) for c in columns]
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=INSIGHT_COLUMNS[:4] + ["conversions"])
    out = out.loc[out["support"] >= min_support].copy()
    out["conversion_rate"] = out["conversions"] / out["support"]
    out["overall_rate"] = overall
    out["lift"] = out["conversion_rate"] / overall if overall > 0 else np.nan
    strength = (out["lift"] - 1).abs() * np.sqrt(out["support"].astype(float))
    out = out.assign(_strength=strength.fillna(0)).sort_values(["_strength", "column", "value"],
                                                                ascending=[False, True, True], kind="stable")
    return out[INSIGHT_COLUMNS].reset_index(drop=True)


def _column_table(values: pd.Series, y: np.ndarray, name: str, bins: int) -> pd.DataFrame:
    """support and conversions per value of one column, with the column's fill rate."""
    labels = value_labels(values, bins)
    filled = 1.0 - float((labels == EMPTY).mean()) if len(labels) else np.nan
    table = pd.DataFrame({"value": labels.to_numpy(), "y": y}).groupby("value", sort=True)["y"].agg(
        support="size", conversions="sum").reset_index()
    table.insert(0, "column", name)
    table.insert(3, "fill_rate", filled)
    return table


def value_labels(values: pd.Series, bins: int = 4) -> pd.Series:
    """Each value as the readable text the insight table shows (see attribute_insights)."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        numbers = pd.to_numeric(values, errors="coerce").astype(float)
        if numbers.nunique() > bins:
            return _bands(numbers, bins)
        text = _numbers_as_text(numbers)
    else:
        text = values.astype("string").str.strip()
        text = text.where(text != "")
    return text.astype(object).where(text.notna(), EMPTY)


def _bands(numbers: pd.Series, bins: int) -> pd.Series:
    """Quantile bands with labels from their edges: '<= a', 'a to b' (above a, up to b), '> b'."""
    # the inner quantiles, merged when tied; one that equals the minimum keeps a band of its own ("<= 0" of
    # zero-inflated counts)
    inner = np.unique(np.nanquantile(numbers.to_numpy(), np.linspace(0, 1, bins + 1)[1:-1]))
    texts = [_number(e) for e in inner]
    names = [f"<= {texts[0]}"] + [f"{a} to {b}" for a, b in zip(texts[:-1], texts[1:])] + [f"> {texts[-1]}"]
    band = np.searchsorted(inner, numbers.to_numpy(), side="left")  # value <= inner[0] -> 0, ...
    out = np.asarray(names, dtype=object)[np.minimum(band, len(names) - 1)]
    return pd.Series(np.where(numbers.isna().to_numpy(), EMPTY, out), index=numbers.index, dtype=object)


def _numbers_as_text(numbers: pd.Series) -> pd.Series:
    """_number of each distinct value once, mapped back (missing stays missing)."""
    codes, uniques = pd.factorize(numbers, use_na_sentinel=True)
    texts = np.array([_number(u) for u in uniques] + [None], dtype=object)
    return pd.Series(texts[codes], index=numbers.index, dtype=object)


def _number(x: float) -> str:
    """A band edge people read: 12, 2.5, 0.031, 1.2k, 35M (three significant digits at most)."""
    for scale, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= scale:
            return f"{x / scale:.3g}{suffix}"
    return f"{x:.3g}"
