"""Segment training's plain parts: rules from the config, the overlap check on the training leads, a segment's
examples, the fallback rule in leads, the one-model config and the comparison row."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from pipeline.config import parse_config
from pipeline.errors import ConfigError
from pipeline.inputs.examples import Examples
from pipeline.segments import (
    check_no_overlap,
    comparison,
    fallback_reason,
    lead_counts,
    not_better,
    only_model,
    printed_rows,
    segment_masks,
    segment_rules,
    subset,
)


def _examples(n_leads: int = 40, weeks: int = 3) -> Examples:
    """`weeks` snapshot rows per lead; leads alternate US / Germany, every 4th converts; parts by lead."""
    ids = np.repeat([f"L{i}" for i in range(n_leads)], weeks)
    lead = np.repeat(np.arange(n_leads), weeks)
    table = pd.DataFrame({"lead_id": ids, "as_of": pd.Timestamp("2025-01-01"),
                          "Country": np.where(lead % 2 == 0, "United States", "Germany"),
                          "industry": np.where(lead % 3 == 0, "Software", "Retail"), "x": lead.astype(float)})
    y = (lead % 4 == 1).astype(int)
    part = np.where(lead < n_leads * 0.6, "train", np.where(lead < n_leads * 0.8, "val", "test")).astype(object)
    builder = SimpleNamespace(categorical_features=lambda: ["Country", "industry"])
    return Examples(table, y, part, builder, {}, pd.Timestamp("2025-06-01"), y_final=y.copy())  # type: ignore[arg-type]


def _cfg(*define: dict, **rules: int):
    return parse_config({"segments": {"define": list(define), **rules}})


def test_rules_use_the_feature_table_column_of_a_mapped_role_and_refuse_numeric_columns() -> None:
    cfg = parse_config({"data": {"lead_columns": {"country": "Land"}},
                        "segments": {"define": [{"name": "us", "column": "Land", "values": ["united states"]}]}})
    examples = _examples()
    examples.builder.categorical_features = lambda: ["country"]
    [rule] = segment_rules(cfg, examples)
    assert rule.column == "country"  # the role's name: that is the feature table's column
    with pytest.raises(ConfigError, match=r"segments 'n': column 'x' is not a categorical feature .*: Country, industry"):
        segment_rules(_cfg({"name": "n", "column": "x", "values": ["1"]}), _examples())


def test_segments_on_two_columns_sharing_a_training_lead_are_refused_naming_it() -> None:
    examples = _examples()
    cfg = _cfg({"name": "us", "column": "Country", "values": ["United States"]},
               {"name": "soft", "column": "industry", "values": ["software"]})
    with pytest.raises(ConfigError, match=r"segments 'us' and 'soft' overlap: training lead L0 \(Country=United States, "
                                          r"industry=Software\) is in both"):
        check_no_overlap(segment_rules(cfg, examples), examples)
    apart = _cfg({"name": "us", "column": "Country", "values": ["United States"]},
                 {"name": "de", "column": "Country", "values": ["Germany"]})
    check_no_overlap(segment_rules(apart, examples), examples)  # no error


def test_a_segments_examples_are_its_rows_with_their_labels_and_parts() -> None:
    examples = _examples()
    cfg = _cfg({"name": "de", "column": "Country", "values": ["germany"]})
    [mask] = segment_masks(segment_rules(cfg, examples), examples)
    de = subset(examples, mask)
    assert (de.table["Country"] == "Germany").all() and len(de.table) == len(examples.table) // 2
    assert de.y.tolist() == examples.y[mask].tolist() and de.part.tolist() == examples.part[mask].tolist()
    assert de.y_final is not None and len(de.y_final) == len(de.y) and de.builder is examples.builder
    assert de.table.index.tolist() == list(range(len(de.table)))


def test_fallback_counts_distinct_leads_not_snapshot_rows() -> None:
    examples = _examples(n_leads=40, weeks=5)  # 24 training leads (120 rows), 6 of them converted
    counts = lead_counts(examples)
    assert counts["train"] == {"leads": 24, "conversions": 6}
    segments = _cfg().segments
    assert fallback_reason(segments.model_copy(update={"min_leads": 25}), examples) == \
        "too few leads: 24 in training (needs 25)"
    assert fallback_reason(segments.model_copy(update={"min_leads": 20, "min_conversions": 7}), examples).startswith(
        "too few conversions: 6 converted leads in training")
    ok = segments.model_copy(update={"min_leads": 20, "min_conversions": 6, "min_eval_conversions": 2})
    assert fallback_reason(ok, examples) == ""
    assert "in validation" in fallback_reason(ok.model_copy(update={"min_eval_conversions": 3}), examples)


def test_only_model_keeps_every_other_setting() -> None:
    cfg = parse_config({"models": {"lightgbm": {"num_leaves": 5}}})
    one = only_model(cfg, "lightgbm")
    assert [k for k in ("points", "points_suggested", "logreg", "lightgbm") if getattr(one.models,
                                                                                       k).enabled] == ["lightgbm"]
    assert one.models.lightgbm.num_leaves == 5 and cfg.models.logreg.enabled  # the original is untouched


def test_comparison_scores_both_models_on_the_same_rows_or_marks_the_fallback() -> None:
    y = np.array([0, 0, 1, 1, 0, 1])
    p_global, p_own = np.array([0.1, 0.4, 0.35, 0.8, 0.2, 0.7]), np.array([0.1, 0.2, 0.3, 0.9, 0.1, 0.8])
    row = comparison("de", y, p_global, p_own)
    assert row["model"] == "own" and row["segment_roc_auc"] == 1.0 and row["global_roc_auc"] == pytest.approx(8 / 9)
    fell = comparison("tiny", y, p_global, None, "too few leads")
    assert fell["model"] == "global" and fell["segment_roc_auc"] is None and fell["fallback"] == "too few leads"
    assert comparison("one class", np.zeros(3, int), p_global[:3], p_own[:3])["global_roc_auc"] is None


def test_a_segment_model_is_used_only_when_it_ranks_its_validation_rows_better() -> None:
    y = np.array([0, 0, 1, 1, 0, 1])
    sharp, blunt = np.array([-2.0, -1.5, 1.0, 2.0, -1.0, 1.5]), np.array([-1.0, 0.5, 0.2, 1.0, -0.5, 0.8])
    assert not_better(y, blunt, sharp)[0] == ""  # own ranks every row right: used
    reason, aucs = not_better(y, sharp, blunt)
    assert reason.startswith("not better than the global model on its validation rows (ROC AUC 0.889 vs 1.000)")
    assert aucs == {"segment_val_roc_auc": pytest.approx(8 / 9), "global_val_roc_auc": 1.0}
    assert not_better(y, sharp, sharp)[0]  # a tie keeps the global model: an own model must earn its place
    assert not_better(np.zeros(3, int), sharp[:3], blunt[:3]) == ("", {})  # one class: nothing to judge
    shown = comparison("de", y, sharp, blunt, reason)
    assert shown["model"] == "global" and shown["segment_roc_auc"] is not None  # fitted, shown, not used


def test_the_terminal_table_puts_own_and_global_side_by_side() -> None:
    y = np.array([0, 1, 0, 1])
    row = comparison("de", y, np.array([0.2, 0.6, 0.4, 0.5]), np.array([0.1, 0.9, 0.2, 0.8]))
    [line] = printed_rows([row])
    assert list(line) == ["segment", "test rows", "conversions", "model", "own ROC AUC", "global ROC AUC",
                          "own PR AUC", "global PR AUC", "fallback"]
    assert line["own ROC AUC"] == 1.0 and line["global ROC AUC"] == 1.0 and line["test rows"] == 4
