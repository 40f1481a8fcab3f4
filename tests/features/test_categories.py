"""RareCategoryEncoder: rare and unseen values grouped into __other__, categories fixed at fit."""
from __future__ import annotations

import numpy as np
import pandas as pd

from features.categories import OTHER, RareCategoryEncoder


def _train() -> pd.DataFrame:
    # a: 50, b: 30, c: 15, d: 4, e: 1  (100 rows)
    values = ["a"] * 50 + ["b"] * 30 + ["c"] * 15 + ["d"] * 4 + ["e"]
    return pd.DataFrame({"cat": values, "num": np.arange(100.0)})


def test_rare_values_become_other() -> None:
    enc = RareCategoryEncoder(["cat"], min_share=0.05).fit(_train())
    assert enc.categories_["cat"] == ["a", "b", "c", OTHER]  # d (4%) and e (1%) are rare
    out = enc.transform(_train())
    assert (out["cat"].astype(str).iloc[95:] == OTHER).all()
    assert out["cat"].astype(str).iloc[:95].tolist() == _train()["cat"].iloc[:95].tolist()


def test_unseen_and_missing_values_become_other_with_fixed_categories() -> None:
    enc = RareCategoryEncoder(["cat"], min_share=0.05).fit(_train())
    new = pd.DataFrame({"cat": ["zzz", "b", None, "d"], "num": [1.0, 2.0, 3.0, 4.0]})
    out = enc.transform(new)
    assert isinstance(out["cat"].dtype, pd.CategoricalDtype)
    assert list(out["cat"].cat.categories) == ["a", "b", "c", OTHER]  # all fitted categories, even unused
    assert out["cat"].astype(str).tolist() == [OTHER, "b", OTHER, OTHER]
    # only one value present: the categories (and so the integer codes) stay the fitted ones
    single = enc.transform(pd.DataFrame({"cat": ["c"], "num": [0.0]}))
    assert list(single["cat"].cat.categories) == ["a", "b", "c", OTHER]
    assert single["cat"].cat.codes.tolist() == [2]


def test_max_categories_keeps_the_most_frequent() -> None:
    enc = RareCategoryEncoder(["cat"], min_share=0.0, max_categories=3).fit(_train())
    assert enc.categories_["cat"] == ["a", "b", OTHER]  # max_categories counts __other__
    out = enc.transform(_train())
    assert (out["cat"].astype(str) == OTHER).sum() == 20


def test_other_columns_untouched_and_input_not_modified() -> None:
    train = _train()
    enc = RareCategoryEncoder(["cat"], min_share=0.05).fit(train)
    out = enc.transform(train)
    pd.testing.assert_series_equal(out["num"], train["num"])
    assert train["cat"].dtype != "category"  # transform works on a copy
    assert list(enc.get_feature_names_out()) == ["cat", "num"]


def test_numeric_codes_are_matched_as_text() -> None:
    train = pd.DataFrame({"code": [1, 1, 2, 2, 3]})
    enc = RareCategoryEncoder(["code"], min_share=0.3).fit(train)
    assert enc.categories_["code"] == ["1", "2", OTHER]
    out = enc.transform(pd.DataFrame({"code": [2, 3, 1]}))
    assert out["code"].astype(str).tolist() == ["2", OTHER, "1"]
