"""top_reasons JSON read back as one long table, and texts joined per row by slot."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from models.reasons import explode_reasons, join_slots


def test_explode_keeps_rows_ranks_and_sorted_categories() -> None:
    texts = [json.dumps([{"feature": "b", "label": "Zeta", "value": 3, "contribution": 0.5},
                         {"feature": "a", "label": "Alpha", "value": "vp", "contribution": -0.25}]),
             None, "[]", json.dumps([{"feature": "c", "label": "Mid", "value": None, "contribution": 1}], indent=2)]
    for series in (pd.Series(texts, dtype=object), pd.Series(texts, dtype="str")):
        out = explode_reasons(series)
        assert out["row"].tolist() == [0, 0, 3] and out["rank"].tolist() == [0, 1, 0]
        assert out["label"].tolist() == ["Zeta", "Alpha", "Mid"] and out["contribution"].tolist() == [0.5, -0.25, 1.0]
        assert list(out["label"].cat.categories) == ["Alpha", "Mid", "Zeta"]  # codes order labels alphabetically


def test_explode_refuses_what_is_not_a_list_of_reasons() -> None:
    with pytest.raises(ValueError, match="top_reasons"):
        explode_reasons(pd.Series(['{"feature": "a"}']))
    assert explode_reasons(pd.Series([], dtype=object)).empty


def test_join_slots() -> None:
    out = join_slots(np.array(["a", "b", "c"], dtype=object), np.array([2, 2, 0]), np.array([0, 1, 0]), 4, "; ")
    assert out.tolist() == ["c", "", "a; b", ""]
