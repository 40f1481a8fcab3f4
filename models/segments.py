"""Several models per segment: a routing scorer that sends each row of the feature table to its segment's
own LeadScorer (a filter on one categorical column), and every other row, and the rows of a segment whose
model fell back for lack of data, to the global one.

`SegmentedScorer` is a LeadScorer whose fields are the global scorer's, so everything but `score` (builder,
feature names, drift reference, matrix, thresholds, any method added to LeadScorer) answers as the global
model; the pyfunc calls `score`, so `predict` (both engines), `mlflow models serve` and Spark route the
same way. Each segment model keeps its own calibration, grade and score scale.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import pandas as pd

from models.scorer import LeadScorer

MISSING = "missing"  # what the feature builder writes for an empty category


@dataclass(frozen=True)
class SegmentRule:
    """The rows whose `column` is one of `values` (or, with `exclude`, none of them); matched on the
    trimmed, case-folded text, an empty cell reading "missing" as in the feature table."""

    name: str
    column: str
    values: tuple[str, ...]
    exclude: bool = False

    @classmethod
    def of(cls, name: str, column: str, values: Iterable[Any], exclude: bool = False) -> SegmentRule:
        return cls(name, column, tuple(sorted({_key(v) for v in values})), exclude)

    def matches(self, features: pd.DataFrame) -> np.ndarray:
        if self.column not in features:
            raise ValueError(f"feature table lacks column '{self.column}' of segment '{self.name}'")
        keys = normalise(features[self.column])
        inside = np.isin(keys, np.asarray(self.values, dtype=object))
        return ~inside if self.exclude else inside

    def describe(self) -> str:
        return f"{self.column} {'not in' if self.exclude else 'in'} [{', '.join(self.values)}]"


def _key(value: Any) -> str:
    text = "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value).strip()
    return (text or MISSING).casefold()


def normalise(values: pd.Series) -> np.ndarray:
    """Trimmed, case-folded text per row ("missing" for empty cells), computed once per distinct value."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    keys = np.array([_key(u) for u in uniques] + [MISSING], dtype=object)
    return keys[codes]  # code -1 (NA) picks the trailing "missing"


def assign(rules: Sequence[SegmentRule], features: pd.DataFrame) -> np.ndarray:
    """Per row, the index of the first rule it matches (-1: none). Training refuses overlapping segments,
    so "first" only decides for value combinations training never saw."""
    out = np.full(len(features), -1, dtype=np.int64)
    for i, rule in enumerate(rules):
        out[(out < 0) & rule.matches(features)] = i
    return out


def overlaps(rules: Sequence[SegmentRule], features: pd.DataFrame) -> tuple[str, str, int] | None:
    """The first two rules a row matches together, and that row's position; None when no row does."""
    masks = [rule.matches(features) for rule in rules]
    for i in range(len(rules)):
        for j in range(i + 1, len(rules)):
            both = np.flatnonzero(masks[i] & masks[j])
            if len(both):
                return rules[i].name, rules[j].name, int(both[0])
    return None


@dataclass
class SegmentRoute:
    """A segment and its scorer; `scorer` None means it fell back to the global model (`fallback` says why)."""

    rule: SegmentRule
    scorer: LeadScorer | None = None
    fallback: str = ""


@dataclass
class SegmentedScorer(LeadScorer):
    """The global LeadScorer (every field its own) plus one route per segment."""

    routes: list[SegmentRoute] = field(default_factory=list)

    @classmethod
    def around(cls, global_scorer: LeadScorer, routes: Sequence[SegmentRoute]) -> SegmentedScorer:
        """A routing scorer whose LeadScorer fields are `global_scorer`'s (shared, not copied)."""
        shared = {f.name: getattr(global_scorer, f.name) for f in fields(LeadScorer) if f.init}
        return cls(**shared, routes=list(routes))

    @property
    def rules(self) -> list[SegmentRule]:
        return [route.rule for route in self.routes]

    def segment_of(self, features: pd.DataFrame) -> np.ndarray:
        """Per row, the name of its segment ("" for none), whether or not that segment has its own model."""
        names = np.array([r.name for r in self.rules] + [""], dtype=object)
        return names[assign(self.rules, features)]

    def route(self, features: pd.DataFrame) -> np.ndarray:
        """Per row, the index of the route whose own model scores it (-1: the global model)."""
        index = assign(self.rules, features)
        fell_back = np.array([r.scorer is None for r in self.routes] + [True])
        return np.where(fell_back[index], -1, index)

    def probability(self, features: pd.DataFrame) -> np.ndarray:
        return self.score(features, explain=False)["probability"].to_numpy(float)

    def score(self, features: pd.DataFrame, explain: bool = True, model_version: str = "") -> pd.DataFrame:
        """Each row scored by its segment's model (model_name `<registered>/<model>@<segment>`), the rest by
        the global model; rows come out in input order."""
        routed = self.route(features) if len(features) else np.zeros(0, dtype=np.int64)
        if not (routed >= 0).any():
            return LeadScorer.score(self, features, explain, model_version)
        pieces, positions = [], []
        for index in np.unique(routed):
            rows = np.flatnonzero(routed == index)
            part = features.iloc[rows].reset_index(drop=True)
            if index < 0:
                out = LeadScorer.score(self, part, explain, model_version)
            else:
                route = self.routes[index]
                out = route.scorer.score(part, explain, model_version)
                out["model_name"] = out["model_name"].astype(str) + f"@{route.rule.name}"
            pieces.append(out)
            positions.append(rows)
        order = np.argsort(np.concatenate(positions), kind="stable")
        frame = pd.concat(pieces, ignore_index=True).iloc[order].reset_index(drop=True)
        frame["scored_at"] = pieces[0]["scored_at"].iloc[0]  # one batch, one time stamp
        return frame

    def describe(self) -> list[dict[str, str]]:
        """One line per segment for tags and reports: its filter and whose model scores it."""
        return [{"segment": r.rule.name, "filter": r.rule.describe(),
                 "model": "own" if r.scorer is not None else f"global ({r.fallback})"} for r in self.routes]
