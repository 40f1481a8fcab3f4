"""Segment training, the parts with no MLflow in them: the config's segments as rules on the feature table,
the overlap check on the training leads, a segment's examples (a subset of the global ones, same feature
table and builder), the fallback rule, and the segment-vs-global comparison on the same test rows."""
from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score

from models.metrics import evaluate
from models.segments import SegmentRule, assign, overlaps
from pipeline.config import Config
from pipeline.config_sections import SegmentsConfig
from pipeline.errors import ConfigError
from pipeline.inputs.examples import Examples

COMPARED = ("roc_auc", "pr_auc", "log_loss")  # the comparison table's metrics (models.metrics names)
ROUTED = "all (routed)"  # the comparison row of every test row, each scored by the model that scores it in predict


def segment_rules(cfg: Config, examples: Examples) -> list[SegmentRule]:
    """The configured segments as rules on the feature table's columns; a column that is no categorical
    feature (absent, excluded, numeric) is a one-line error."""
    roles = {col: role for role, col in cfg.data.lead_columns.model_dump().items() if col}
    categorical = examples.builder.categorical_features()
    rules = []
    for seg in cfg.segments.define:
        column = roles.get(seg.column, seg.column)
        if column not in categorical:
            raise ConfigError(f"segments '{seg.name}': column '{seg.column}' is not a categorical feature of the "
                              f"leads (absent, excluded or numeric); categorical features: {', '.join(categorical)}")
        rules.append(SegmentRule.of(seg.name, column, seg.values or seg.not_in, exclude=bool(seg.not_in)))
    return rules


def check_no_overlap(rules: list[SegmentRule], examples: Examples) -> None:
    """Refuse segments (on different columns) that both hold a training lead, naming it."""
    found = overlaps(rules, examples.table)
    if found is None:
        return
    a, b, row = found
    lead = examples.table.iloc[row]
    values = ", ".join(sorted({f"{r.column}={lead[r.column]}" for r in rules if r.name in (a, b)}))
    raise ConfigError(f"segments '{a}' and '{b}' overlap: training lead {lead['lead_id']} ({values}) is in both "
                      f"(a lead belongs to one segment at most)")


def segment_masks(rules: list[SegmentRule], examples: Examples) -> list[np.ndarray]:
    """Per rule, its example rows (the first matching rule wins, as in SegmentedScorer)."""
    index = assign(rules, examples.table)
    return [index == i for i in range(len(rules))]


def subset(examples: Examples, mask: np.ndarray) -> Examples:
    """The examples of one segment: its rows of the same feature table, labels and parts."""
    rows = np.flatnonzero(mask)
    return replace(examples, table=examples.table.iloc[rows].reset_index(drop=True), y=examples.y[rows],
                   part=examples.part[rows], y_final=None if examples.y_final is None else examples.y_final[rows],
                   readiness=None)


def lead_counts(examples: Examples) -> dict[str, dict[str, int]]:
    """Per part, distinct leads and distinct converted leads (snapshot rows repeat a lead weekly)."""
    ids = examples.table["lead_id"].to_numpy()
    out = {}
    for part in ("train", "val", "test"):
        rows = examples.part == part
        out[part] = {"leads": int(len(np.unique(ids[rows]))),
                     "conversions": int(len(np.unique(ids[rows & (examples.y == 1)])))}
    return out


def fallback_reason(rules: SegmentsConfig, examples: Examples) -> str:
    """Why a segment cannot have its own model ('' when it can), in leads, not snapshot rows."""
    c = lead_counts(examples)
    train = c["train"]
    others = train["leads"] - train["conversions"]
    if train["leads"] < rules.min_leads:
        return f"too few leads: {train['leads']} in training (needs {rules.min_leads})"
    if min(train["conversions"], others) < rules.min_conversions:
        return (f"too few conversions: {train['conversions']} converted leads in training "
                f"(needs {rules.min_conversions})")
    for part, name in (("val", "validation"), ("test", "test")):
        n = c[part]
        if n["conversions"] < rules.min_eval_conversions or n["conversions"] == n["leads"]:
            return f"too few conversions: {n['conversions']} converted leads in {name} (needs {rules.min_eval_conversions})"
    return ""


def not_better(y_val: np.ndarray, m_global: np.ndarray, m_own: np.ndarray) -> tuple[str, dict[str, float]]:
    """Why a fitted segment model is not used ('' when it is): it must rank the segment's validation rows
    better than the global model (ROC AUC). Validation, not test: the choice must not peek at the rows it
    is judged on. Also returns both validation AUCs for the comparison table."""
    if len(np.unique(y_val)) < 2 or len(m_own) != len(y_val):
        return "", {}
    own, glob = float(roc_auc_score(y_val, m_own)), float(roc_auc_score(y_val, m_global))
    aucs = {"segment_val_roc_auc": own, "global_val_roc_auc": glob}
    if own > glob:
        return "", aucs
    return f"not better than the global model on its validation rows (ROC AUC {own:.3f} vs {glob:.3f})", aucs


def only_model(cfg: Config, name: str) -> Config:
    """The config with only model `name` enabled: a segment gets the global winner's kind of model."""
    changes = {kind: getattr(cfg.models, kind).model_copy(update={"enabled": kind == name})
               for kind in type(cfg.models).model_fields}
    return cfg.model_copy(update={"models": cfg.models.model_copy(update=changes)})  # keeps its file's folder


def comparison(name: str, y: np.ndarray, p_global: np.ndarray, p_segment: np.ndarray | None,
               fallback: str = "") -> dict[str, Any]:
    """One row of the segments table: the segment's and the global model's metrics on the same test rows
    (`p_segment` None: no own model; given with a `fallback`: fitted but not used, shown for comparison)."""
    model = "routed" if name == ROUTED else "own" if p_segment is not None and not fallback else "global"
    row: dict[str, Any] = {"segment": name, "test_rows": int(len(y)), "test_conversions": int(np.sum(y)), "model": model}
    both = len(np.unique(y)) == 2
    g = evaluate(y, p_global) if both else {}
    s = evaluate(y, p_segment) if both and p_segment is not None else {}
    for metric in COMPARED:
        row[f"segment_{metric}"] = s.get(metric)
        row[f"global_{metric}"] = g.get(metric)
    row["fallback"] = fallback
    return row


def printed_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The comparison rows as the terminal table shows them: AUCs side by side (log loss is in --json, MLflow
    and the report), the fallback reason last."""
    out = []
    for r in rows:
        line = {"segment": r["segment"], "test rows": r["test_rows"], "conversions": r["test_conversions"],
                "model": r["model"]}
        for metric, label in (("roc_auc", "ROC AUC"), ("pr_auc", "PR AUC")):
            line[f"own {label}"], line[f"global {label}"] = r[f"segment_{metric}"], r[f"global_{metric}"]
        out.append(line | {"fallback": r["fallback"]})
    return out
