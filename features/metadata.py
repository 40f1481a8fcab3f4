"""Feature metadata: a group (fit, engagement, quality), a human label and the source of each output feature.

Templates are formatted with `value` (the feature's value for the lead, as shown: rounded to `digits`,
times `scale`); they feed the reasons behind a score and the fit / engagement split of the score.
`source` names the input a feature is derived from (the job title, the email address, one event type...):
reasons add up the contributions of one source's features and read as one sentence, written by the
source's `describer` (see models/explain.py) from the values of its features' `part`s.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

Group = Literal["fit", "engagement", "quality"]
Kind = Literal["numeric", "categorical", "flag", "days"]
TRUE_WORDS = frozenset({"1", "1.0", "true", "yes", "y"})


@dataclass(frozen=True)
class FeatureInfo:
    name: str
    group: Group
    label: str  # str.format template with {value}; a flag's label may omit it (the text when the flag is on)
    kind: Kind = "numeric"  # days: a number of days, shown as "today", "yesterday", "4 days ago"
    display: Mapping[str, str] | None = None  # raw category value -> words for people
    source: str = ""  # the input this feature is derived from ("" = the feature itself)
    part: str = ""  # its role among the source's features, for the describer
    describer: str = ""  # how a reason about the source is worded (models/explain.py DESCRIBERS); "" = this label
    digits: int = 1  # decimals shown
    negated: str = ""  # a flag's text when it is off
    scale: float = 1.0  # shown value = value * scale (e.g. a share of 4 criteria shown as a count)
    params: Mapping[str, Any] | None = None  # extra words or numbers the describer needs

    @property
    def source_name(self) -> str:
        return getattr(self, "source", "") or self.name

    def shown(self, value: object) -> object:
        """The value as people see it (rounded, scaled; None when unknown). Idempotent only for scale 1."""
        if value is None or (isinstance(value, (float, np.floating)) and value != value):
            return None
        if self.kind == "flag":
            if isinstance(value, str):
                return 1.0 if value.strip().lower() in TRUE_WORDS else 0.0
            return 1.0 if bool(value) else 0.0
        if self.kind == "categorical" or isinstance(value, str):
            return value if isinstance(value, str) else str(value)
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
        if isinstance(value, (int, np.integer)) and getattr(self, "scale", 1.0) == 1.0:
            return int(value)
        x = float(value) * getattr(self, "scale", 1.0)
        if self.kind == "days":
            return int(math.floor(x + 1e-9))
        return round(x, getattr(self, "digits", 1))

    def text(self, shown: object) -> str:
        """The human sentence for a shown value (see `shown`)."""
        if shown is None:
            return f"{self.label.split('{')[0].rstrip(' :')}: unknown"
        negated = getattr(self, "negated", "")
        value = shown
        if self.kind == "flag":
            value = bool(shown)
            if not value and negated:
                return negated
        elif self.kind == "days" and isinstance(shown, (int, float)):
            value = days_ago(shown)
        if self.display and isinstance(value, str):
            value = self.display.get(value, value)
        try:
            if "{value:compact}" in self.label and isinstance(value, (int, float)) and not isinstance(value, bool):
                return self.label.replace("{value:compact}", compact_number(value))
            return self.label.format(value=_tidy(value))
        except (ValueError, KeyError, IndexError, TypeError):
            return f"{self.name} = {value}"

    def describe(self, value: object) -> str:
        """The human sentence for this feature's value (falls back to name = value)."""
        return self.text(self.shown(value))


def shown_array(info: FeatureInfo, values: np.ndarray) -> np.ndarray:
    """`FeatureInfo.shown` for a whole numeric column (NaN stays NaN): the values reasons are keyed on."""
    values = np.asarray(values)
    if values.dtype.kind in "iu" and info.kind in ("numeric", "days") and info.scale == 1.0:
        return values  # whole numbers stay integers
    x = values.astype(float)
    if info.kind == "flag":
        return np.where(np.isnan(x), np.nan, (x != 0).astype(float))
    x = x * info.scale if info.scale != 1.0 else x
    if info.kind == "days":
        return np.floor(x + 1e-9)
    return np.round(x, info.digits)


def days_ago(days: float) -> str:
    """0 -> 'today', 1 -> 'yesterday', 4 -> '4 days ago'."""
    d = max(int(math.floor(days)), 0)
    return "today" if d == 0 else "yesterday" if d == 1 else f"{d:,} days ago"


def compact_number(x: float) -> str:
    """1,234 -> '1,234'; 121,074,000 -> '121.1 million'; 2,500,000,000 -> '2.5 billion'."""
    for size, word in ((1e9, "billion"), (1e6, "million")):
        if abs(x) >= size:
            return f"{x / size:,.1f}".removesuffix(".0") + f" {word}"
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,}"


def _tidy(value: object) -> object:
    """Whole floats print as integers (3.0 -> 3), booleans as yes / no."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def humanise(name: str) -> str:
    return name.replace("_", " ").strip().capitalize()
