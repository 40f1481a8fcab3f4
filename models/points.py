"""The points model: hand-set (or data-derived) rules that add and subtract points, the classic way.

A rule matches one feature of the lead-level table: a category in `values`, a number in
[`min`, `max`), or, for behaviour, points per (time-decayed) event of a type, capped. The lead's
points are the sum, clipped to 0-100. It is not trained, but it is calibrated, graded and evaluated
exactly like the learnt models, so the MLflow comparison is fair.
"""
from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from features.metadata import FeatureInfo
from models.alerts import Thresholds as AlertThresholds


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    feature: str | None = None
    event: str | None = Field(None, description="Behaviour rule: points per decayed event of this type.")
    values: list[Any] | None = None
    min: float | None = None
    max: float | None = None
    points: float
    cap: float | None = Field(None, description="Most points (or least, if negative) this rule can give.")
    label: str | None = None
    support: int | None = None  # data-derived rules record what they were derived from
    close_rate: float | None = None

    @model_validator(mode="after")
    def _one_target(self) -> Rule:
        if (self.feature is None) == (self.event is None):
            raise ValueError("a rule names exactly one of 'feature' or 'event'")
        if self.feature is not None and self.values is None and self.min is None and self.max is None:
            raise ValueError(f"rule on '{self.feature}' needs 'values', 'min' or 'max'")
        return self

    @property
    def column(self) -> str:
        return f"decayed_{self.event}" if self.event else str(self.feature)

    def describe(self) -> str:
        if self.label:
            return self.label
        if self.event:
            return f"{self.event.replace('_', ' ')} ({self.points:+g} per recent event)"
        if self.values is not None:
            return f"{self.feature} in {self.values}"
        return f"{self.feature} in [{self.min}, {self.max})"


class Thresholds(BaseModel):
    model_config = ConfigDict(extra="forbid")

    warm: float = 30
    hot: float = 60
    mql: float = 50


class RuleSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = "points"
    half_life_days: float = Field(30, gt=0, description="Behaviour points halve after this many days.")
    base: float = Field(0, description="Points every lead starts with.")
    rules: list[Rule]
    thresholds: Thresholds = Field(default_factory=Thresholds)

    def columns(self) -> list[str]:
        return sorted({r.column for r in self.rules})


class PointsModel:
    """MarginModel interface: margin = total points; contributions = points per feature, bias = base."""

    def __init__(self, rules: RuleSet, name: str = "points"):
        self.rules = rules
        self.name = name

    def fit(self, X: pd.DataFrame, y: np.ndarray | None = None, X_val: object = None, y_val: object = None,
            time: object = None, sample_weight: object = None) -> PointsModel:
        self.feature_names = [c for c in self.rules.columns() if c in X.columns]
        self.skipped_ = [r.describe() for r in self.rules.rules if r.column not in X.columns]
        return self

    def _rule_points(self, X: pd.DataFrame) -> np.ndarray:
        out = np.zeros((len(X), len(self.feature_names)))
        position = {c: i for i, c in enumerate(self.feature_names)}
        for rule in self.rules.rules:
            if rule.column not in position:
                continue
            out[:, position[rule.column]] += _apply(rule, X[rule.column])
        return out

    def margin(self, X: pd.DataFrame) -> np.ndarray:
        return self.rules.base + self._rule_points(X).sum(axis=1)

    def native_score(self, X: pd.DataFrame) -> np.ndarray:
        """The classic 0-100 points score."""
        return np.clip(np.round(self.margin(X)), 0, 100).astype(np.int64)

    def known_categories(self) -> dict[str, list[str]]:
        """None at all: a value no rule names simply gets no points (nothing is 'unseen')."""
        return {}

    def alert_thresholds(self) -> AlertThresholds | None:
        """The rule set's own hot / MQL thresholds, in points (the score of a points model)."""
        t = getattr(self.rules, "thresholds", None)
        return AlertThresholds(mql_score=t.mql, hot_grade=None, hot_score=t.hot) if t is not None else None

    def contributions(self, X: pd.DataFrame) -> np.ndarray:
        contrib = self._rule_points(X)
        return np.column_stack([contrib, np.full(len(X), self.rules.base)])

    def params(self) -> dict[str, Any]:
        return {"rules": len(self.rules.rules), "half_life_days": self.rules.half_life_days, "rule_set": self.rules.name}


def _apply(rule: Rule, values: pd.Series) -> np.ndarray:
    if rule.event:
        points = rule.points * pd.to_numeric(values, errors="coerce").fillna(0).to_numpy(float)
    elif rule.values is not None:
        wanted = {str(v) for v in rule.values}
        hit = values.astype(str).isin(wanted).to_numpy()
        if all(isinstance(v, (int, float, bool)) for v in rule.values):
            hit = hit | pd.to_numeric(values, errors="coerce").isin([float(v) for v in rule.values]).to_numpy()
        points = np.where(hit, rule.points, 0.0)
    else:
        x = pd.to_numeric(values, errors="coerce").to_numpy(float)
        lo = -np.inf if rule.min is None else rule.min
        hi = np.inf if rule.max is None else rule.max
        points = np.where((x >= lo) & (x < hi), rule.points, 0.0)
    if rule.cap is not None:
        points = np.minimum(points, rule.cap) if rule.points >= 0 else np.maximum(points, rule.cap)
    return points


# --- data-derived points ------------------------------------------------------------------


def suggest_rules(
    X: pd.DataFrame,
    y: np.ndarray,
    categorical: list[str],
    min_support: int = 50,
    smoothing: float = 20.0,
    scale: float = 10.0,
    bins: int = 5,
    max_rules: int = 40,
    half_life_days: float = 30,
    max_features: int = 15,
) -> RuleSet:
    """Points from history, as the practitioner guides describe: for each attribute value (numbers
    bucketed by quantile) the close rate against the overall rate, smoothed towards it with
    `smoothing` pseudo-leads; points = scale * ln(lift); values seen fewer than `min_support` times
    get none. Like a credit scorecard, only the `max_features` attributes with the highest information
    value are used, and behaviour enters once per event type (its recency-weighted count), so one
    action is not counted again through every time window."""
    y = np.asarray(y, float)
    base = y.mean()
    per_feature: list[tuple[float, list[Rule]]] = []
    for col in X.columns:
        if not _suggestable(col):
            continue
        groups = _category_groups(X[col]) if col in categorical else _numeric_groups(X[col], bins)
        rules, iv = [], 0.0
        for spec, mask in groups:
            n = int(mask.sum())
            if n < min_support:
                continue
            conv = float(y[mask].sum())
            rate = (conv + smoothing * base) / (n + smoothing)
            lift = math.log(rate / base) if 0 < base < 1 and rate > 0 else 0.0
            share_pos = (conv + 0.5) / (y.sum() + 0.5)
            share_neg = (n - conv + 0.5) / (len(y) - y.sum() + 0.5)
            iv += (share_pos - share_neg) * math.log(share_pos / share_neg)
            points = round(scale * lift)
            if points != 0:
                rules.append(Rule(feature=col, points=points, support=n, close_rate=round(conv / n, 4), **spec))
        if rules:
            per_feature.append((iv, rules))
    per_feature.sort(key=lambda item: -item[0])
    kept = [rule for _, rules in per_feature[:max_features] for rule in rules][:max_rules]
    return RuleSet(name="points_suggested", half_life_days=half_life_days, base=50.0 - _typical_total(kept, X),
                   rules=kept)


def _suggestable(column: str) -> bool:
    """Attributes a points table can use: not ids, not windowed counts (decayed counts stand for them)."""
    return column not in ("lead_id", "as_of", "junk_flag") and not column.startswith("n_")


def _typical_total(rules: list[Rule], X: pd.DataFrame) -> float:
    """Median total of the derived rules, so that the typical lead lands near 50 points."""
    if not rules:
        return 0.0
    model = PointsModel(RuleSet(rules=rules)).fit(X)
    return float(np.median(model.margin(X)))


def _category_groups(values: pd.Series) -> list[tuple[dict[str, Any], np.ndarray]]:
    text = values.astype(str)
    return [({"values": [value]}, (text == value).to_numpy()) for value in text.unique()]


def _numeric_groups(values: pd.Series, bins: int) -> list[tuple[dict[str, Any], np.ndarray]]:
    x = pd.to_numeric(values, errors="coerce").to_numpy(float)
    finite = x[np.isfinite(x)]
    if len(finite) == 0:
        return []
    edges = np.unique(np.quantile(finite, np.linspace(0, 1, bins + 1)))
    if len(edges) == 1:  # one value (e.g. all zero): nothing to bucket
        return []
    groups = []
    for i, (lo, hi) in enumerate(zip(edges[:-1], edges[1:])):
        last = i == len(edges) - 2
        mask = (x >= lo) & ((x <= hi) if last else (x < hi))
        spec = {"min": float(lo), "max": None if last else float(hi)}
        groups.append((spec, mask))
    return groups


def points_info(rules: RuleSet, info: dict[str, FeatureInfo]) -> dict[str, FeatureInfo]:
    """Reasons of a points model read as its rules: a column used by one labelled rule takes its label."""
    by_column: dict[str, list[Rule]] = {}
    for rule in rules.rules:
        by_column.setdefault(rule.column, []).append(rule)
    out = dict(info)
    for column, col_rules in by_column.items():
        base = info.get(column) or FeatureInfo(column, "fit", column + ": {value}")
        if len(col_rules) == 1 and col_rules[0].label:
            label = col_rules[0].label.replace("{", "{{").replace("}", "}}")
            out[column] = replace(base, label=f"{label} ({{value}})", display=None)
    return out


def rules_to_yaml_dict(rules: RuleSet) -> dict[str, Any]:
    return rules.model_dump(mode="json", exclude_none=True)


class SuggestedPointsModel(PointsModel):
    """`points_suggested`: rules derived from the training rows' close rates at fit time."""

    def __init__(self, categorical: list[str], name: str = "points_suggested", half_life_days: float = 14.0, **params: Any):
        self.categorical, self.params_, self.half_life_days = list(categorical), params, half_life_days
        super().__init__(RuleSet(rules=[]), name)

    def fit(self, X: pd.DataFrame, y: np.ndarray | None = None, X_val: object = None, y_val: object = None,
            time: object = None, sample_weight: object = None) -> SuggestedPointsModel:
        self.rules = suggest_rules(X, np.asarray(y), self.categorical, half_life_days=self.half_life_days, **self.params_)
        super().fit(X)
        return self

    def params(self) -> dict[str, Any]:
        return {**super().params(), **self.params_}
