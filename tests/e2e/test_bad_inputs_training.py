"""Bad training data: labels of one class, no or too few conversions, no outcomes file (train fails while it
checks the data, before any model is fitted).

The machinery (what every case must get, the corpus run): tests/e2e/bad_inputs.py; the table: BAD_INPUTS.md.
"""
from __future__ import annotations

import pandas as pd
import pytest

from tests.e2e.bad_inputs import CaseBook, Corpus, Ctx, check_case

CASES = CaseBook()


STATIC = "data:\n  mode: static\n  lead_columns:\n    label: converted\n"


@CASES.case("labels of one class only (static mode)", "train", "error", "label column 'converted' has one class only")
def c_train_one_class(x: Ctx) -> list[str]:
    cfg = x.text("cfg.yaml", STATIC)
    return x.train(x.write(x.leads().assign(converted=0), "leads.csv"), cfg)


@CASES.case("no conversions at all", "train", "error", "outcomes.parquet", "no conversions to learn from")
def c_train_no_conversions(x: Ctx) -> list[str]:
    outcomes = pd.read_parquet(x.base.world / "outcomes.parquet").assign(converted_at=pd.NaT)
    return x.train(x.data_folder(outcomes=outcomes))


@CASES.case("too few conversions", "train", "error", "training needs at least 40 converted")
def c_train_too_few_conversions(x: Ctx) -> list[str]:
    outcomes = pd.read_parquet(x.base.world / "outcomes.parquet")
    converted = outcomes.index[outcomes["converted_at"].notna()]
    outcomes.loc[converted[5:], "converted_at"] = pd.NaT
    return x.train(x.data_folder(outcomes=outcomes))


@CASES.case("no outcomes file", "train", "error", "no 'outcomes' file")
def c_train_missing_outcomes(x: Ctx) -> list[str]:
    return x.train(x.data_folder(with_outcomes=False))


@pytest.mark.parametrize("cid", list(CASES))
def test_bad_input(bad_corpus: Corpus, cid: str) -> None:
    check_case(bad_corpus, cid)
