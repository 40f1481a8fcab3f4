"""Feature metadata: a group (fit, engagement, quality), a human label and the source of each output feature.

Templates are formatted with `value` (the feature's value for the lead, as shown: times `scale`, rounded
by magnitude: no decimals from 100 up, `digits` decimals from 1, two significant digits below 1, so 0.05
never reads "0"); category codes read as words ("purchased_list" -> "Purchased list") unless `display`
names them (configurable: `scoring.labels`, see `with_labels`); they feed the reasons behind a score and the fit /
engagement split of the score.
`source` names the input a feature is derived from (the job title, the email address, one event type...):
reasons add up the contributions of one source's features and read as one sentence, written by the
source's `describer` (see models/explain.py) from the values of its features' `part`s.
"""
from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np

Group = Literal["fit", "engagement", "quality"]
Kind = Literal["numeric", "categorical", "flag", "days"]
# Roles that name a person, and with `company` the default personal columns (data.personal_columns): used for
# quality flags only, never as raw features, in an input example, in MLflow or in insights.
PERSON_ROLES = ("email", "first_name", "last_name", "phone")
PERSONAL_ROLES = (*PERSON_ROLES, "company")
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
    bad_news: bool = False  # on / above 0 it lowers a lead's chances (quality flags, negative signals): a reason only then

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
        return round(x, shown_digits(x, getattr(self, "digits", 1)))

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
        if isinstance(value, str):
            value = (self.display or {}).get(value) or humanise_code(value)
        try:
            if "{value:compact}" in self.label and isinstance(value, (int, float)) and not isinstance(value, bool):
                return self.label.replace("{value:compact}", compact_number(value))
            tidy = _tidy(value)
            if isinstance(tidy, float) and "{value}" in self.label:
                tidy = format_number(tidy)
            return self.label.format(value=tidy)
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
    out = np.round(x, info.digits)
    small = (np.abs(x) < 1) & (x != 0)  # two significant digits below 1: 0.05 stays 0.05
    big = np.abs(x) >= 100  # no decimals from 100 up: 270.8 -> 271
    if small.any():
        with np.errstate(divide="ignore"):
            places = np.maximum(info.digits, 1 - np.floor(np.log10(np.abs(x[small])))).astype(int)
        out[small] = [round(v, p) for v, p in zip(x[small].tolist(), places.tolist())]
    if big.any() and info.digits > 0:
        out[big] = np.round(x[big])
    return out


def shown_digits(x: float, digits: int) -> int:
    """Decimals shown for a value: none from 100 up, `digits` from 1, two significant digits below 1."""
    if x == 0 or not math.isfinite(x):
        return digits
    if abs(x) >= 100:
        return 0
    if abs(x) >= 1:
        return digits
    return max(digits, 1 - math.floor(math.log10(abs(x))))


def format_number(x: float) -> str:
    """A shown number as text: thousands separated, no trailing zeros (1234.0 -> '1,234', 0.05 -> '0.05')."""
    if float(x).is_integer():
        return f"{int(x):,}"
    return f"{x:,.{shown_digits(x, 2)}f}".rstrip("0").rstrip(".")


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
    """A column name as words: 'lead_source' -> 'Lead source', 'PageValues' -> 'Page values',
    'TotalVisits' -> 'Total visits'; acronyms stay ('ICP_score' -> 'ICP score')."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name.replace("_", " ").replace("-", " ")).split()
    if not words:
        return name
    words = [w if (w.isupper() and len(w) > 1) else w.lower() for w in words]
    return words[0][:1].upper() + words[0][1:] + "".join(" " + w for w in words[1:])


CODE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)+$")  # snake_case codes only ("10-49" is a band)


def humanise_code(value: str) -> str:
    """A category code as words ('purchased_list' -> 'Purchased list'); other text unchanged."""
    return value.replace("_", " ").capitalize() if CODE.match(value) else value


def with_labels(info: Mapping[str, FeatureInfo], labels: Mapping[str, Any]) -> dict[str, FeatureInfo]:
    """The config's `scoring.labels` applied: per column (feature name), `name` replaces the words before
    the value in its generic label ('Pagevalues: {value}' -> 'Value of pages viewed: {value}') and `values`
    maps raw category values to words (merged over the built-in ones)."""
    out = dict(info)
    for column, spec in (labels or {}).items():
        meta = out.get(column)
        if meta is None:
            continue
        spec = spec if isinstance(spec, Mapping) else spec.model_dump()
        changes: dict[str, Any] = {}
        if spec.get("values"):
            changes["display"] = {**(meta.display or {}), **{str(k): str(v) for k, v in spec["values"].items()}}
        if spec.get("name"):
            template = meta.label
            head, sep, tail = template.partition("{")
            if sep and head.rstrip().endswith(":"):
                changes["label"] = f"{spec['name']}: {{{tail}"
            elif not sep:
                changes["label"] = spec["name"]
            else:
                changes["label"] = f"{spec['name']}: {{value}}"
        out[column] = replace(meta, **changes) if changes else meta
    return out
