"""Feature metadata: a group (fit, engagement, quality) and a human label template per output feature.

Templates are formatted with `value` (the feature's value for the lead); they feed SHAP reasons
and the fit / engagement split of the score.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

Group = Literal["fit", "engagement", "quality"]


@dataclass(frozen=True)
class FeatureInfo:
    name: str
    group: Group
    label: str  # str.format template with {value}
    kind: Literal["numeric", "categorical", "flag"] = "numeric"
    display: Mapping[str, str] | None = None  # raw category value -> words for people

    def describe(self, value: object) -> str:
        """The human sentence for this feature's value (falls back to name = value)."""
        if value is None or (isinstance(value, float) and value != value):
            return f"{self.label.split('{')[0].rstrip(' :')}: unknown"
        if self.kind == "flag" and isinstance(value, (int, float)):
            value = bool(value)
        if self.display and isinstance(value, str):
            value = self.display.get(value, value)
        try:
            return self.label.format(value=_tidy(value))
        except (ValueError, KeyError, IndexError):
            return f"{self.name} = {value}"


def _tidy(value: object) -> object:
    """Whole floats print as integers (3.0 -> 3), others with one decimal."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return int(value) if value.is_integer() else round(value, 1)
    return value


def humanise(name: str) -> str:
    return name.replace("_", " ").strip().capitalize()
