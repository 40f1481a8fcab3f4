"""Attribute insights on a crafted frame: rates, lift, support, fill rate, bands, order and the guards."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.insights import INSIGHT_COLUMNS, attribute_insights, value_labels


def crafted() -> tuple[pd.DataFrame, np.ndarray]:
    """100 leads, 20 converted (overall 0.2). source: 40 'event' (16 converted: 0.4, lift 2), 40 'web'
    (4: 0.1, lift 0.5), 20 missing (0: lift 0)."""
    source = ["event"] * 40 + ["web"] * 40 + [None] * 20
    y = np.array([1] * 16 + [0] * 24 + [1] * 4 + [0] * 36 + [0] * 20)
    employees = np.arange(100, dtype=float)  # 0..99: four bands of 25
    return pd.DataFrame({"source": source, "employees": employees, "email": "x@acme.com"}), y


def test_rates_lift_support_and_fill_rate_by_hand() -> None:
    frame, y = crafted()
    out = attribute_insights(frame, y, ["source"], min_support=10)
    assert list(out.columns) == INSIGHT_COLUMNS
    rows = out.set_index("value")
    assert rows.loc["event", ["support", "conversion_rate", "lift"]].tolist() == [40, 0.4, pytest.approx(2.0)]
    assert rows.loc["web", "lift"] == pytest.approx(0.5) and rows.loc["(empty)", "lift"] == 0.0
    assert (out["overall_rate"] == 0.2).all() and (out["fill_rate"] == 0.8).all()
    # |lift-1| x sqrt(support): event 1 x 6.32, (empty) 1 x 4.47, web 0.5 x 6.32
    assert out["value"].tolist() == ["event", "(empty)", "web"]


def test_min_support_drops_thin_values() -> None:
    frame, y = crafted()
    assert "(empty)" not in attribute_insights(frame, y, ["source"], min_support=30)["value"].tolist()


def test_numeric_columns_in_quantile_bands_with_readable_labels() -> None:
    frame, y = crafted()
    out = attribute_insights(frame, y, ["employees"], min_support=1)
    assert sorted(out["value"]) == sorted(["<= 24.8", "24.8 to 49.5", "49.5 to 74.2", "> 74.2"])
    assert out["support"].tolist() == [25, 25, 25, 25]
    first = out.set_index("value").loc["<= 24.8"]  # leads 0..24: 16 of the 20 converters
    assert first["conversion_rate"] == pytest.approx(16 / 25) and first["lift"] == pytest.approx(3.2)


def test_value_labels_for_thousands_zero_inflated_counts_and_blanks() -> None:
    big = pd.Series([1_000.0, 2_000, 3_000, 4_000, 5_000, 6_000, 7_000, 8_000, np.nan])
    assert value_labels(big).tolist()[:2] == ["<= 2.75k", "<= 2.75k"] and value_labels(big).iloc[-1] == "(empty)"
    counts = pd.Series([0] * 8 + [1, 2, 3, 4, 5])
    assert value_labels(counts).value_counts().to_dict() == {"<= 0": 8, "> 2": 3, "0 to 2": 2}
    assert value_labels(pd.Series(["web", "  ", None])).tolist() == ["web", "(empty)", "(empty)"]
    assert value_labels(pd.Series([1, 2, 1])).tolist() == ["1", "2", "1"]  # few distinct numbers: each its own


def test_personal_and_unknown_columns_are_refused() -> None:
    frame, y = crafted()
    with pytest.raises(ValueError, match="personal"):
        attribute_insights(frame, y, ["source", "email"])
    with pytest.raises(ValueError, match="'nope'"):
        attribute_insights(frame, y, ["nope"])
