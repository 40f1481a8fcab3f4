"""CRM-ready flat output: the scoring columns under the field names a CRM import (or API upsert) expects.

The scores file has a JSON column and timestamps; a CRM import wants one flat text or number per field:
score, grade, trend, the first reasons as sentences, the scoring date. A mapping (YAML, see
configs/examples/crm_hubspot.yaml and crm_salesforce.yaml) names, per CRM field, the leadscore column it
takes, so any CRM's custom fields work without code. Pure: the caller reads the YAML and writes the file.
"""
from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np
import pandas as pd

from models.reasons import explode_reasons

PROBABILITY_DECIMALS = 3
DATE_SOURCES = {"scored_date": "scored_at", "as_of_date": "as_of"}  # YYYY-MM-DD texts CRMs import as dates
_REASON = re.compile(r"^reason_([1-9][0-9]*)$")


def crm_sources(scores: pd.DataFrame) -> list[str]:
    """The source names a mapping may use with these scores: their columns (probability is rounded to
    PROBABILITY_DECIMALS), `reason_1`, `reason_2`, ... (the label of the lead's n-th reason in top_reasons'
    order: strongest positive first, then the negatives; "" when it has fewer), and the dates of
    DATE_SOURCES."""
    derived = [f"reason_{i}" for i in (1, 2, 3)] if "top_reasons" in scores else []
    derived += [name for name, column in DATE_SOURCES.items() if column in scores]
    return list(scores.columns) + [name for name in derived if name not in scores]


def to_crm(scores: pd.DataFrame, mapping: Mapping[str, str]) -> pd.DataFrame:
    """One row per scored lead, one column per CRM field of `mapping` ({crm_field: source}), in the
    mapping's order. A source that is neither a column of `scores` nor a derived source (crm_sources;
    any reason_N works) is a ValueError naming the field and the source."""
    for field, source in mapping.items():
        if not isinstance(source, str) or not _known(source, scores):
            known = ", ".join(crm_sources(scores))
            raise ValueError(f"CRM mapping: field {field!r} names unknown column {source!r} (known: {known})")
    wanted = [int(m.group(1)) for s in mapping.values() if (m := _REASON.match(s)) and s not in scores]
    reasons = _reason_labels(scores["top_reasons"], max(wanted)) if wanted else {}
    out = {}
    for field, source in mapping.items():
        if source in scores:
            values = scores[source].reset_index(drop=True)
            out[field] = values.round(PROBABILITY_DECIMALS) if source == "probability" else values
        elif source in DATE_SOURCES:
            out[field] = pd.to_datetime(scores[DATE_SOURCES[source]]).dt.strftime("%Y-%m-%d").reset_index(drop=True)
        else:
            out[field] = reasons[int(_REASON.match(source).group(1))]
    return pd.DataFrame(out, index=pd.RangeIndex(len(scores)))


def _known(source: str, scores: pd.DataFrame) -> bool:
    if source in scores:
        return True
    if source in DATE_SOURCES:
        return DATE_SOURCES[source] in scores
    return bool(_REASON.match(source)) and "top_reasons" in scores


def _reason_labels(reasons: pd.Series, count: int) -> dict[int, pd.Series]:
    """{n: the label of each lead's n-th reason, "" when it has fewer} for n = 1..count."""
    long = explode_reasons(reasons)
    out = {}
    for n in range(1, count + 1):
        labels = np.full(len(reasons), "", dtype=object)
        nth = long.loc[long["rank"] == n - 1]
        labels[nth["row"].to_numpy()] = nth["label"].fillna("").to_numpy(dtype=object)
        out[n] = pd.Series(labels, dtype=object)
    return out
