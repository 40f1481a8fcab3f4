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


def pandas_reference_transform(enc: RareCategoryEncoder, X: pd.DataFrame) -> pd.DataFrame:
    """The plain pandas definition: text value kept if fitted, else __other__."""
    out = X.copy()
    for col, cats in enc.categories_.items():
        values = out[col].astype(str)
        out[col] = pd.Categorical(values.where(values.isin(cats[:-1]), OTHER), categories=cats)
    return out


def test_fast_codes_match_the_pandas_definition_for_every_input_dtype() -> None:
    rng = np.random.default_rng(3)
    pool = np.array(["x", "y", "z", "rare", "", "nan", None], dtype=object)
    train = pd.DataFrame({"obj": rng.choice(pool, 2000, p=[.3, .25, .2, .01, .09, .05, .1])})
    train["text"] = train["obj"].astype("str")
    train["cat"] = train["obj"].astype("category")
    train["num"] = rng.choice([1.0, 2.0, 3.5, np.nan], 2000)
    enc = RareCategoryEncoder(["obj", "text", "cat", "num"], min_share=0.03).fit(train)
    new = train.sample(frac=1.0, random_state=1).reset_index(drop=True)
    edits = ["unseen", "rare", None, "", "x", "Y"]
    new["obj"] = pd.Series(edits + new["obj"].iloc[6:].tolist(), dtype=object)
    new["text"] = new["obj"].astype("str")
    got, want = enc.transform(new), pandas_reference_transform(enc, new)
    for col in enc.categories_:
        assert got[col].cat.codes.tolist() == want[col].cat.codes.tolist(), col
        assert list(got[col].cat.categories) == list(want[col].cat.categories)
    assert got["text"].iloc[:6].astype(str).tolist() == [OTHER, OTHER, OTHER, "", "x", OTHER]
