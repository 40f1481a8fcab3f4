"""Training examples without needless copies (issue 4, training memory): the hand-set points model gets its
own half-life by recomputing only the decayed columns over a shallow copy of the table, and the feature
table stores its float features as float32. Both checked against the slow, obvious way on the sample world."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features.builder import LeadFeatureBuilder
from models.points import PointsModel
from pipeline.config import load_config
from pipeline.fitting import examples_for, load_rules
from pipeline.inputs.data import load_training_inputs
from pipeline.inputs.examples import Examples, build_examples, make_builder, with_half_life
from tests.conftest import REPO


@pytest.fixture(scope="module")
def setup(world: Path) -> tuple[object, Examples]:
    cfg = load_config(REPO / "configs/default.yaml")
    return cfg, build_examples(cfg, load_training_inputs(cfg, world), None)


def test_points_half_life_equals_a_full_rebuild(setup) -> None:
    cfg, examples = setup
    rules = load_rules(cfg)
    assert rules.half_life_days != cfg.features.engagement.half_life_days  # else nothing is recomputed
    before = examples.table.copy(deep=True)
    known = examples.known
    # the old way: a builder fitted with the rules' half-life, and the WHOLE table built again
    rebuilt = with_builder(examples, make_builder(cfg, use_events=True, half_life_days=rules.half_life_days)
                           .fit(known.leads, known.events))
    new = examples_for(cfg, PointsModel(rules), examples)
    assert new.builder.engagement_.half_life_days == rules.half_life_days
    pd.testing.assert_frame_equal(new.table, rebuilt.table, check_exact=True)
    pd.testing.assert_frame_equal(examples.table, before, check_exact=True)  # the shared table is untouched
    decayed = new.builder.half_life_columns()
    assert "decayed_demo_request" in decayed and "decayed_events" in decayed
    assert not np.allclose(new.table["decayed_events"], examples.table["decayed_events"])  # it did change
    assert new.builder.feature_info() == rebuilt.builder.feature_info()
    # only the decayed columns are new memory; every other column is the same buffer as the base table
    assert np.shares_memory(new.table["n_events_all"].to_numpy(), examples.table["n_events_all"].to_numpy())
    assert not np.shares_memory(new.table["decayed_events"].to_numpy(), examples.table["decayed_events"].to_numpy())

    # points predictions identical to the full rebuild
    X_tr, y_tr = new.rows("train")
    old_model, new_model = PointsModel(rules).fit(rebuilt.rows("train")[0]), PointsModel(rules).fit(X_tr)
    assert any(c.startswith("decayed_") for c in new_model.feature_names)
    for part in ("train", "val", "test"):
        old_m, new_m = old_model.margin(rebuilt.rows(part)[0]), new_model.margin(new.rows(part)[0])
        np.testing.assert_allclose(new_m, old_m, rtol=0, atol=1e-12)
        assert (new_model.native_score(new.rows(part)[0]) == old_model.native_score(rebuilt.rows(part)[0])).all()


def test_points_builder_scores_raw_leads_like_the_training_table(setup) -> None:
    """The builder logged with the points scorer produces, from raw leads + events, the columns it was trained on."""
    cfg, examples = setup
    rules = load_rules(cfg)
    new = examples_for(cfg, PointsModel(rules), examples)
    known = examples.known
    as_of = pd.Timestamp(new.table["as_of"].iloc[-1])
    rows = new.table.index[new.table["as_of"] == as_of]
    leads = known.leads.set_index("lead_id").loc[new.table.loc[rows, "lead_id"]].reset_index()
    at_predict = new.builder.transform(leads, known.events, as_of)
    assert list(at_predict.columns) == list(new.table.columns)
    model = PointsModel(rules).fit(new.table)
    # (not every column: duplicate_email / junk_flag depend on which other leads are in the same input)
    used = sorted({*model.feature_names, *new.builder.half_life_columns()})
    assert len(used) > 25
    pd.testing.assert_frame_equal(at_predict[used], new.table.loc[rows, used].reset_index(drop=True), check_exact=True)
    np.testing.assert_allclose(model.margin(at_predict), model.margin(new.table.loc[rows]), rtol=0, atol=1e-12)


def test_same_half_life_shares_the_table(setup) -> None:
    cfg, examples = setup
    same = with_half_life(examples, cfg.features.engagement.half_life_days)
    assert same.table is examples.table


def test_rows_of_a_time_ordered_part_are_a_view(setup) -> None:
    _, examples = setup
    table = examples.table
    for part in ("train", "val", "test"):
        X, y = examples.rows(part)
        mask = examples.part == part
        pd.testing.assert_frame_equal(X, table.loc[mask].reset_index(drop=True), check_exact=True)
        np.testing.assert_array_equal(y, examples.y[mask])
        assert np.shares_memory(X["n_events_all"].to_numpy(), table["n_events_all"].to_numpy())
    # a split that is not one block of rows (static mode: stratified) is still selected correctly, as a copy
    part = examples.part.copy()
    last_test = np.flatnonzero(part == "test")[-1]
    part[[0, last_test]] = part[[last_test, 0]]  # the last test row moved to the top
    shuffled = Examples(table, examples.y, part, examples.builder, examples.split, examples.until)
    mask = shuffled.part == "test"
    assert mask[0] and not mask[1]
    X, y = shuffled.rows("test")
    pd.testing.assert_frame_equal(X, table.loc[mask].reset_index(drop=True), check_exact=True)
    np.testing.assert_array_equal(y, examples.y[mask])


def test_feature_table_is_float32_where_safe(setup, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg, examples = setup
    table = examples.table
    builder = examples.builder
    float32 = set(builder.float32_columns())
    assert {"n_events_all", "decayed_events", "days_since_last_event", "lead_age_days", "free_mail"} <= float32
    assert "annual_revenue" not in float32
    assert table["annual_revenue"].dtype == np.float64
    kinds = table[builder.feature_names_out_].dtypes
    assert (kinds == np.float32).sum() > 100 and (kinds == np.float64).sum() <= 5
    # the same table built without the cast: float32 columns are its values rounded once, the rest identical
    monkeypatch.setattr(LeadFeatureBuilder, "_compact", lambda self, frame: frame)
    known = examples.known
    lead_rows = known.leads.set_index("lead_id").loc[table["lead_id"]].reset_index()
    wide = builder.transform(lead_rows, known.events, table["as_of"])
    assert (wide[list(float32)].dtypes == np.float64).all()
    pd.testing.assert_frame_equal(table, wide.astype({c: np.float32 for c in float32}), check_exact=True)
    # counts, flags and ages in whole or half days are exact in float32
    for col in ("n_events_all", "free_mail", "n_demo_request_all"):
        np.testing.assert_array_equal(table[col].to_numpy(np.float64), wide[col].to_numpy())


def with_builder(examples: Examples, builder: LeadFeatureBuilder) -> Examples:
    """The same rows and labels with features from another (fitted) builder."""
    known = examples.known
    lead_rows = known.leads.set_index("lead_id").loc[examples.table["lead_id"]].reset_index()
    as_of = examples.table["as_of"] if examples.until is not None else None
    table = builder.transform(lead_rows, known.events, as_of)
    return replace(examples, table=table, builder=builder)
